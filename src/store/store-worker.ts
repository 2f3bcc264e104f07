/**
 * The store's worker thread (started by WorkerStore): owns the RunStore and applies the calls the main
 * thread posts, in order. After the first error it writes nothing more (the run stops there, as it would
 * in-thread) until finish, which then records status "failed".
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../workers/errors.js';
import {
  IN_FLIGHT_BYTES,
  IN_FLIGHT_STOPPED,
  type OpenRequest,
  type StoreCall,
  type PostedMessage,
  type StoreWorkerData,
  type WorkerReply,
} from './store-protocol.js';
import { RunStore } from './writer.js';

const port = parentPort!;
const reply = (m: WorkerReply): void => port.postMessage(m);
const { req, inFlight: inFlightBuffer } = workerData as StoreWorkerData;
const inFlight = new Int32Array(inFlightBuffer);

/** The poster may be blocked until the bytes in flight drop (WorkerStore.throttle). */
function applied(bytes: number): void {
  Atomics.sub(inFlight, IN_FLIGHT_BYTES, bytes);
  Atomics.notify(inFlight, IN_FLIGHT_BYTES);
}
process.on('exit', () => {
  Atomics.store(inFlight, IN_FLIGHT_STOPPED, 1);
  Atomics.notify(inFlight, IN_FLIGHT_BYTES);
});

function open(req: OpenRequest): RunStore | undefined {
  try {
    if (req.kind === 'create') {
      const store = RunStore.create(req.path, req.meta, req.lanes);
      reply({ kind: 'opened', committedPos: -1, lanes: req.lanes.map((l, id) => ({ id: l.id ?? id, name: l.name })) });
      return store;
    }
    const r = RunStore.resume(req.path);
    reply({ kind: 'opened', committedPos: r.committedPos, lanes: r.lanes });
    return r.store;
  } catch (err) {
    reply({ kind: 'failed', error: serializeError(err) });
    port.close();
    return undefined;
  }
}

const store = open(req);
let failed = false;
let commits = 0;

function close(call: StoreCall): void {
  try {
    if (call[0] === 'finish') store!.finish(failed ? 'failed' : call[1]);
    else store!.abandon();
    reply({ kind: 'closed' });
  } catch (err) {
    reply({ kind: 'closed', error: serializeError(err) });
  } finally {
    port.close();
  }
}

if (store) {
  port.on('message', ([bytes, calls]: PostedMessage) => {
    try {
      for (const call of calls) {
        if (call[0] === 'finish' || call[0] === 'abandon') return close(call);
        if (failed) continue;
        try {
          (store[call[0]] as (...args: unknown[]) => unknown).apply(store, call.slice(1));
          if (call[0] === 'commit') reply({ kind: 'committed', commits: ++commits });
        } catch (err) {
          failed = true;
          reply({ kind: 'failed', error: serializeError(err) });
        }
      }
    } finally {
      applied(bytes);
    }
  });
}
