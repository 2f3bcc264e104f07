/**
 * Messages between WorkerStore (the main thread's client) and store-worker.ts (the thread that owns the
 * RunStore). The client posts arrays of RunStore calls (PostedCall), applied in order; the worker answers once when
 * the store is open, after every commit, on the first error and when the store is closed.
 */
import type { SerializedError } from '../workers/errors.js';
import type { CollectResult } from '../lanes/results.js';
import type { RunMetaInput } from './meta.js';
import type { RunStore } from './writer.js';

/** workerData: how the worker opens the run database. */
export type OpenRequest = { kind: 'create'; path: string; meta: RunMetaInput } | { kind: 'resume'; path: string };

type Method = 'addLane' | 'writeChanges' | 'writeOps' | 'writeCollect' | 'writeVmaChanges' | 'writeUffdMsg' | 'writeKeyframe'
  | 'writeFinalPages' | 'writeCounters' | 'commit' | 'finish' | 'abandon';

/** One RunStore call: the method name and its arguments. */
export type StoreCall = { [M in Method]: [M, ...Parameters<RunStore[M]>] }[Method];

/** A collect with its page runs packed (row-pack.ts COLLECT_PAGE_FIELDS). */
export type PackedCollect = Omit<CollectResult, 'pages'> & { pages: Float64Array };

/**
 * A call as posted: the RunStore call itself, except that uffd messages travel as runs of consecutive
 * writeUffdMsg calls packed into one buffer (row-pack.ts UFFD_MSG_FIELDS) and collects with packed pages.
 */
export type PostedCall =
  | Exclude<StoreCall, [('writeUffdMsg' | 'writeCollect'), ...unknown[]]>
  | ['writeUffdMsgs', Float64Array]
  | ['writeCollect', PackedCollect];

export type WorkerReply =
  | { kind: 'opened'; committedPos: number; lanes: { id: number; name: string }[] }
  /** The number of commits done so far. */
  | { kind: 'committed'; commits: number }
  /** The first error of a write or commit; the worker writes nothing more until finish or abandon. */
  | { kind: 'failed'; error: SerializedError }
  /** The store is closed (finish or abandon); `error` if closing itself failed. */
  | { kind: 'closed'; error?: SerializedError };
