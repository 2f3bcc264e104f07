import { map, type OperatorFunction } from 'rxjs';
import type { Lane } from '../lanes/lane.js';
import { PageRuns } from '../lanes/page-runs.js';
import { REC_OP, type TraceChunk } from '../trace/types.js';

export interface ReplayProgress {
  /** Records executed so far (including injected protocol records). */
  records: number;
  accesses: number;
  /** Trace position of the last record of the chunk just executed. */
  lastPos: number;
}

/**
 * Execute each chunk in every lane, lane after lane: lanes are independent systems, so each runs
 * the whole chunk in its own tight loop over the shared columns. Emits cumulative progress.
 */
// Why an operator: it does not earn it on its own (a synchronous map of one chunk to its progress); it
// is one so that it and replayLanePool, which does shape the stream, are interchangeable in replay's pipe.
export function replayLanes(lanes: Lane[]): OperatorFunction<TraceChunk, ReplayProgress> {
  const progress: ReplayProgress = { records: 0, accesses: 0, lastPos: -1 };
  const runs = new PageRuns();
  return map((c) => {
    runs.compute(c);
    for (const lane of lanes) lane.processChunk(c, runs);
    let accesses = 0;
    for (let i = 0; i < c.n; i++) if (c.kind[i] !== REC_OP) accesses++;
    progress.records += c.n;
    progress.accesses += accesses;
    progress.lastPos = c.n > 0 ? (c.posCol ? c.posCol[c.n - 1]! : c.pos0 + c.n - 1) : progress.lastPos;
    return progress;
  });
}
