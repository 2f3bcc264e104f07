/**
 * Messages between WorkerStore (the main thread's client) and store-worker.ts (the thread that owns the
 * RunStore). The client posts arrays of RunStore calls (StoreCall), applied in order; the worker answers once when
 * the store is open, after every commit, on the first error and when the store is closed.
 */
import type { SerializedError } from '../workers/errors.js';
import type { RunMetaInput } from './meta.js';
import type { LaneInput, RunStore } from './writer.js';

/** How the worker opens the run database. */
export type OpenRequest = { kind: 'create'; path: string; meta: RunMetaInput; lanes: LaneInput[] } | { kind: 'resume'; path: string };

/** Slots of the shared Int32Array `inFlight`: bytes posted and not applied yet; 1 once the worker is exiting. */
export const IN_FLIGHT_BYTES = 0;
export const IN_FLIGHT_STOPPED = 1;
export const IN_FLIGHT_SLOTS = 2;

/** workerData. */
export interface StoreWorkerData {
  req: OpenRequest;
  inFlight: SharedArrayBuffer;
}

/** A message to the worker: the byte count the poster added to IN_FLIGHT_BYTES for it, and the calls. */
export type PostedMessage = [bytes: number, calls: StoreCall[]];

/** RunStore's public methods: the worker applies any of them by name, so a new write method needs nothing here. */
type Method = { [K in keyof RunStore]: RunStore[K] extends (...args: never[]) => unknown ? K : never }[keyof RunStore];

/**
 * One RunStore call: the method name and its arguments (WorkerStore sends writeUffdMsg calls as
 * writeUffdMsgs of their packed rows, and writeOp calls as one writeOps per commit).
 */
export type StoreCall = { [M in Method]: [M, ...Parameters<RunStore[M]>] }[Method];

export type WorkerReply =
  | { kind: 'opened'; committedPos: number; lanes: { id: number; name: string }[] }
  /** The number of commits done so far. */
  | { kind: 'committed'; commits: number }
  /** The first error of a write or commit; the worker writes nothing more until finish or abandon. */
  | { kind: 'failed'; error: SerializedError }
  /** The store is closed (finish or abandon); `error` if closing itself failed. */
  | { kind: 'closed'; error?: SerializedError };
