/**
 * The time a lane spends on the op records of a trace, per op kind: two clock reads around the lane's
 * handling of each op (the simulated syscall, the VMA history, the sink calls that hand its rows on),
 * always on (ops are rare next to accesses). Carried out of the lanes by the replay's summary; the bench's
 * op path averages the address-space ops of it (docs/performance.md).
 */

/** One op kind's count, total and largest time, in ns. */
export interface OpTime {
  count: number;
  totalNs: number;
  maxNs: number;
}

/** By op kind (the trace op's name: mmap, munmap, ..., fork, exit, collect, reset). */
export type OpTimes = Record<string, OpTime>;

export function addOpTime(times: OpTimes, kind: string, ns: number): void {
  const t = times[kind];
  if (t === undefined) times[kind] = { count: 1, totalNs: ns, maxNs: ns };
  else {
    t.count++;
    t.totalNs += ns;
    if (ns > t.maxNs) t.maxNs = ns;
  }
}

/** Every kind of each of `all` added up (a count and total summed, the largest of the maxima). */
export function sumOpTimes(all: readonly OpTimes[]): OpTimes {
  const sum: OpTimes = {};
  for (const times of all) {
    for (const [kind, t] of Object.entries(times)) {
      const s = sum[kind];
      if (s === undefined) sum[kind] = { ...t };
      else {
        s.count += t.count;
        s.totalNs += t.totalNs;
        s.maxNs = Math.max(s.maxNs, t.maxNs);
      }
    }
  }
  return sum;
}
