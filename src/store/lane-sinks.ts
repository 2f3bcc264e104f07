/**
 * A lane's outputs wired straight to the store: every LaneSinks member is the store's appender for
 * those rows (RunStore in-thread, WorkerStore through its worker; both have the same write methods).
 * The lane pool records and replays calls to exactly these members (src/workers/lane-pool.ts).
 */
import type { LaneSinks } from '../lanes/lane.js';
import type { CollectResult } from '../lanes/results.js';
import type { RunStore } from './writer.js';

/** The store methods the sinks call. */
export type StoreAppenders = Pick<
  RunStore,
  'writeChanges' | 'writeOp' | 'writeCollect' | 'writeVmaChanges' | 'writeUffdMsg' | 'writePagemap' | 'writeKeyframe' | 'writeFinalPages'
>;

export interface StoreSinkOptions {
  /** Store PTE changes and keyframes (`--no-events`: false). Default true. */
  events?: boolean;
  /** Keyframe distance in change rows (0 = none). */
  keyframeEvery?: number;
  /** Sees each collect before the store takes it (its page arrays move to the store's worker). */
  onCollect?: (c: CollectResult) => void;
}

/** Every LaneSinks member, present or explicitly undefined: a member added to LaneSinks must be wired here. */
export type AllLaneSinks = { [K in SinkKey]: LaneSinks[K] };
type SinkKey = keyof Required<LaneSinks>;

/** The sinks of lane `lane`, writing to `store`. */
export function storeSinks(store: StoreAppenders, lane: number, o: StoreSinkOptions = {}): AllLaneSinks {
  const events = o.events !== false;
  const onCollect = o.onCollect;
  return {
    onChanges: events ? (b) => store.writeChanges(b) : undefined,
    onOp: (r) => store.writeOp(r),
    onCollect: onCollect
      ? (c) => {
          onCollect(c);
          store.writeCollect(c);
        }
      : (c) => store.writeCollect(c),
    onVmaChanges: (rows) => store.writeVmaChanges(rows),
    onUffdMsg: (m) => store.writeUffdMsg(m),
    onPagemap: (a) => store.writePagemap(a),
    onKeyframe: events ? (k) => store.writeKeyframe(k) : undefined,
    keyframeEvery: o.keyframeEvery ?? 0,
    onFinalState: (runs) => store.writeFinalPages(lane, runs),
  };
}
