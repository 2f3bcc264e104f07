/**
 * The per-page outcome of a collect (collect_page rows), run-length encoded and columnar: a collect of
 * the bench trace has ~100 k runs per lane, which as objects cost ~30 MB of young heap per collect and a
 * packed copy on the way to the store's worker; as typed arrays they cross to it by transfer.
 */
import type { CollectPageRun } from './results.js';

/** bits: which of the run's three truth values are 1. */
export const CP_REPORTED = 1;
export const CP_GT_W = 2;
export const CP_GT_C = 4;

/** The bits of a run with these truth values. */
export const cpBits = (reported: boolean, gtW: boolean, gtC: boolean): number =>
  (reported ? CP_REPORTED : 0) | (gtW ? CP_GT_W : 0) | (gtC ? CP_GT_C : 0);

/** Runs i = 0 .. n-1: pages vpn[i] .. vpn[i] + count[i] - 1 share bits[i] and why[i] (a Why code). */
export interface CollectPages {
  n: number;
  vpn: Float64Array<ArrayBuffer>;
  count: Float64Array<ArrayBuffer>;
  bits: Uint8Array<ArrayBuffer>;
  why: Uint8Array<ArrayBuffer>;
}

const empty = (cap: number): CollectPages => ({
  n: 0,
  vpn: new Float64Array(cap),
  count: new Float64Array(cap),
  bits: new Uint8Array(cap),
  why: new Uint8Array(cap),
});

/** Appends runs, merging a run into the previous one when it continues it with the same values. */
export class CollectPagesBuilder {
  private p = empty(256);

  push(vpn: number, count: number, bits: number, why: number): void {
    const p = this.p;
    const last = p.n - 1;
    if (last >= 0 && p.vpn[last]! + p.count[last]! === vpn && p.bits[last] === bits && p.why[last] === why) {
      p.count[last]! += count;
      return;
    }
    if (p.n === p.vpn.length) this.grow();
    const q = this.p;
    q.vpn[q.n] = vpn;
    q.count[q.n] = count;
    q.bits[q.n] = bits;
    q.why[q.n] = why;
    q.n++;
  }

  /**
   * The runs in exact-size arrays. The builder is empty afterwards and keeps its grown buffers: the
   * next collect of the lane appends to them instead of growing from 256 runs again.
   */
  take(): CollectPages {
    const { n, vpn, count, bits, why } = this.p;
    this.p.n = 0;
    return { n, vpn: vpn.slice(0, n), count: count.slice(0, n), bits: bits.slice(0, n), why: why.slice(0, n) };
  }

  /** Drop the runs appended so far. */
  clear(): void {
    this.p.n = 0;
  }

  private grow(): void {
    const p = this.p;
    const q = empty(p.vpn.length * 2);
    q.n = p.n;
    q.vpn.set(p.vpn);
    q.count.set(p.count);
    q.bits.set(p.bits);
    q.why.set(p.why);
    this.p = q;
  }
}

/** Runs from objects (fixtures, hand-written results). */
export function collectPagesOf(runs: readonly CollectPageRun[]): CollectPages {
  const b = new CollectPagesBuilder();
  for (const r of runs) b.push(r.vpn, r.count, cpBits(r.reported === 1, r.gtW === 1, r.gtC === 1), r.why);
  return b.take();
}

/** Run i as an object. */
export function collectPageRun(p: CollectPages, i: number): CollectPageRun {
  const bits = p.bits[i]!;
  return {
    vpn: p.vpn[i]!,
    count: p.count[i]!,
    why: p.why[i]!,
    reported: bits & CP_REPORTED ? 1 : 0,
    gtW: bits & CP_GT_W ? 1 : 0,
    gtC: bits & CP_GT_C ? 1 : 0,
  };
}

/** The run that covers page `vpn` (runs are in ascending vpn order), if any. */
export function collectPageRunAt(p: CollectPages, vpn: number): CollectPageRun | undefined {
  let lo = 0;
  let hi = p.n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (p.vpn[mid]! + p.count[mid]! <= vpn) lo = mid + 1;
    else hi = mid;
  }
  return lo < p.n && p.vpn[lo]! <= vpn ? collectPageRun(p, lo) : undefined;
}
