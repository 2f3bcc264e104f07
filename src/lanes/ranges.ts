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

  /** Build from an unordered set of pages. */
  static fromPages(pages: Iterable<number>): PageRanges {
    const sorted = [...pages].sort((a, b) => a - b);
    const out = new PageRanges();
    for (const p of sorted) out.push(p, p + 1);
    return out;
  }

  get pages(): number {
    let n = 0;
    for (let i = 0; i < this.r.length; i += 2) n += this.r[i + 1]! - this.r[i]!;
    return n;
  }
}

/** A cursor that answers "is page p reported?" for ascending p in O(1) amortised. */
export class RangeCursor {
  private i = 0;
  constructor(private readonly ranges: PageRanges) {}

  /** Reported state of page p and how many following pages share it (until the next boundary). */
  at(p: number): { reported: boolean; until: number } {
    const r = this.ranges.r;
    while (this.i < r.length && r[this.i + 1]! <= p) this.i += 2;
    if (this.i >= r.length) return { reported: false, until: Infinity };
    if (p < r[this.i]!) return { reported: false, until: r[this.i]! };
    return { reported: true, until: r[this.i + 1]! };
  }
}
