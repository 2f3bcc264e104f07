/**
 * Sorted, disjoint page ranges [start, end): the reported dirty set. Flat pairs in a growing
 * Float64Array (page numbers are above V8's small integers): a `number[]` grown by push(start, end)
 * cost ~450 ns a pair here, and a collect adds one pair per reported run (one per page of the sync
 * monitor's log).
 */
export class PageRanges {
  private buf = new Float64Array(64);
  /** Numbers used in `buf`: pair k is buf[2k], buf[2k+1]. */
  private len = 0;

  /** Add [start, end); ranges must be added in ascending order (merges with the last one). */
  push(start: number, end: number): void {
    if (end <= start) return;
    const n = this.len;
    if (n > 0 && this.buf[n - 1]! >= start) {
      if (end > this.buf[n - 1]!) this.buf[n - 1] = end;
      return;
    }
    if (n === this.buf.length) {
      const grown = new Float64Array(n * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[n] = start;
    this.buf[n + 1] = end;
    this.len = n + 2;
  }

  /** The pairs, start0, end0, start1, end1, ... (a view: valid until the next push). */
  get r(): Float64Array {
    return this.buf.subarray(0, this.len);
  }

  get pages(): number {
    let n = 0;
    for (let i = 0; i < this.len; i += 2) n += this.buf[i + 1]! - this.buf[i]!;
    return n;
  }
}
