/** Sorted, disjoint page ranges [start, end) as a flat number array: the reported dirty set. */
export class PageRanges {
  readonly r: number[] = [];

  /** Add [start, end); ranges must be added in ascending order (merges with the last one). */
  push(start: number, end: number): void {
    if (end <= start) return;
    const n = this.r.length;
    if (n > 0 && this.r[n - 1]! >= start) {
      if (end > this.r[n - 1]!) this.r[n - 1] = end;
      return;
    }
    this.r.push(start, end);
  }

  get pages(): number {
    let n = 0;
    for (let i = 0; i < this.r.length; i += 2) n += this.r[i + 1]! - this.r[i]!;
    return n;
  }
}
