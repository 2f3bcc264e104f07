/** What the lane pool (main thread) and a lane worker say to each other. */
import type { LaneDefaults } from '../lanes/config.js';
import type { Counters } from '../mm/counters.js';
import type { LaneSinks } from '../lanes/lane.js';
import type { OpTimes } from '../lanes/op-times.js';
import type { SysfsSettings, TraceChunk } from '../trace/types.js';
import type { SerializedError } from './errors.js';

/** One sink call of a lane, in the order the lane made it: [sink name, argument]. */
export type SinkName = Exclude<keyof LaneSinks, 'keyframeEvery'>;
export type SinkCall = [SinkName, unknown];

export interface LaneInit {
  id: number;
  spec: string;
}

export interface WorkerInit {
  lanes: LaneInit[];
  defaults: LaneDefaults;
  sysfs: SysfsSettings | undefined;
  /** Sinks the main thread listens to (the others are not recorded at all). */
  sinks: SinkName[];
  keyframeEvery: number;
}

export type ToWorker = { type: 'chunk'; seq: number; chunk: TraceChunk } | { type: 'finish' };

export type FromWorker =
  | { type: 'done'; seq: number; calls: SinkCall[][] }
  | { type: 'finished'; calls: SinkCall[][]; counters: Counters[]; opTimes: OpTimes[] }
  | { type: 'error'; error: SerializedError };
