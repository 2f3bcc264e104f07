import { Observable, concatMap, type OperatorFunction } from 'rxjs';
import type { LanePool } from '../workers/lane-pool.js';
import type { TraceChunk } from '../trace/types.js';
import type { ReplayProgress } from './replay-lanes.js';

/**
 * `replayLanes` with the lanes in worker threads: chunks go to the pool (waiting while too many are
 * in flight), and progress is emitted once a chunk's outputs were all delivered to the sinks, in the
 * same order as an in-process replay.
 */
// Why an operator: backpressure and a decoupled output. concatMap waits on submit() while MAX_IN_FLIGHT
// chunks are out, progress is emitted when the workers' outputs arrive (not per input chunk), and the
// stream completes only after drain().
export function replayLanePool(pool: LanePool): OperatorFunction<TraceChunk, ReplayProgress> {
  return (source) =>
    new Observable<ReplayProgress>((sub) => {
      pool.onChunk = (p) => sub.next(p);
      const inner = source.pipe(concatMap((c) => pool.submit(c))).subscribe({
        error: (e) => sub.error(e),
        complete: () =>
          pool.drain().then(
            () => sub.complete(),
            (e) => sub.error(e),
          ),
      });
      return () => {
        pool.onChunk = null;
        inner.unsubscribe();
      };
    });
}
