/**
 * A set of pages kept as sorted, disjoint, non-adjacent spans [start, end), changed anywhere by add
 * and remove (src/lanes/ranges.ts's PageRanges is the append-only list a collect builds). Operations
 * cost a binary search plus the spans they touch; the set holds few spans in practice.
 */
export class PageSpanSet {
  /** start0, end0, start1, end1, ... */
  private s: number[] = [];

  get empty(): boolean {
    return this.s.length === 0;
  }

  /** Index of the first pair whose end is >= page (or > page when `strict`), as a pair index × 2. */
  private firstEndingAfter(page: number, strict: boolean): number {
    const s = this.s;
    let lo = 0;
    let hi = s.length >> 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = s[2 * mid + 1]!;
      if (strict ? e > page : e >= page) hi = mid;
      else lo = mid + 1;
    }
    return 2 * lo;
  }

  /** Add [start, end), merging with spans it overlaps or touches. */
  add(start: number, end: number): void {
    if (end <= start) return;
    const s = this.s;
    const i = this.firstEndingAfter(start, false);
    let j = i;
    let lo = start;
    let hi = end;
    while (j < s.length && s[j]! <= end) {
      lo = Math.min(lo, s[j]!);
      hi = Math.max(hi, s[j + 1]!);
      j += 2;
    }
    s.splice(i, j - i, lo, hi);
  }

  /** Remove [start, end) from the set. */
  remove(start: number, end: number): void {
    if (end <= start || this.s.length === 0) return;
    const s = this.s;
    const i = this.firstEndingAfter(start, true);
    let j = i;
    while (j < s.length && s[j]! < end) j += 2;
    if (j === i) return;
    const keep: number[] = [];
    if (s[i]! < start) keep.push(s[i]!, start);
    if (s[j - 1]! > end) keep.push(end, s[j - 1]!);
    s.splice(i, j - i, ...keep);
  }

  /** The parts of the set inside [start, end), as flat pairs in order. */
  within(start: number, end: number): number[] {
    const s = this.s;
    const out: number[] = [];
    if (end <= start) return out;
    for (let i = this.firstEndingAfter(start, true); i < s.length && s[i]! < end; i += 2) {
      out.push(Math.max(start, s[i]!), Math.min(end, s[i + 1]!));
    }
    return out;
  }
}
