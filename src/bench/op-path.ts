/**
 * The op path's figures from the lanes' own op timers (src/lanes/op-times.ts): the mean time of an
 * address-space op in one lane (the target's figure), and every op kind's count, mean and maximum.
 */
import type { OpTimes } from '../lanes/op-times.js';
import { ADDRESS_SPACE_OPS } from './op-trace.js';

/** One op kind, over every lane (and repetition) of the stored replay. */
export interface OpKindTime {
  kind: string;
  /** Op records of this kind executed, every lane counted. */
  count: number;
  meanUs: number;
  maxUs: number;
  /** One of ADDRESS_SPACE_OPS (in the average); fork, exec, exit, collect, reset, ... are not. */
  addressSpace: boolean;
}

export interface OpTimeFigures {
  /** Address-space op records executed, every lane counted (the trace's ops × lanes). */
  timedOps: number;
  /** Their total time / timedOps, in µs. */
  usPerOpPerLane: number;
  /** Address-space kinds first, each group by total time, largest first. */
  kinds: OpKindTime[];
}

export function opTimeFigures(times: OpTimes): OpTimeFigures {
  let timedOps = 0;
  let totalNs = 0;
  const kinds: (OpKindTime & { totalNs: number })[] = [];
  for (const [kind, t] of Object.entries(times)) {
    const addressSpace = ADDRESS_SPACE_OPS.has(kind);
    if (addressSpace) {
      timedOps += t.count;
      totalNs += t.totalNs;
    }
    kinds.push({ kind, count: t.count, meanUs: t.totalNs / t.count / 1e3, maxUs: t.maxNs / 1e3, addressSpace, totalNs: t.totalNs });
  }
  kinds.sort((a, b) => Number(b.addressSpace) - Number(a.addressSpace) || b.totalNs - a.totalNs);
  return {
    timedOps,
    usPerOpPerLane: timedOps > 0 ? totalNs / timedOps / 1e3 : 0,
    kinds: kinds.map(({ totalNs: _, ...k }) => k),
  };
}
