/**
 * A lane worker: runs some of a replay's lanes on its own thread. Each chunk it receives is executed
 * by its lanes one after the other; the lanes' sink calls are recorded in order and sent back with
 * the chunk's sequence number (change batches' buffers are transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseLaneSpec } from '../lanes/config.js';
import { Lane, type LaneSinks } from '../lanes/lane.js';
import { PageRuns } from '../lanes/page-runs.js';
import { serializeError } from './errors.js';
import type { FromWorker, SinkCall, ToWorker, WorkerInit } from './lane-messages.js';

const init = workerData as WorkerInit;
const port = parentPort!;
let calls: SinkCall[][] = init.lanes.map(() => []);
let transfer: ArrayBuffer[] = [];

function recordingSinks(k: number): LaneSinks {
  const sinks: LaneSinks = { keyframeEvery: init.keyframeEvery };
  for (const name of init.sinks) {
    (sinks as Record<string, (x: unknown) => void>)[name] = (x: unknown) => {
      calls[k]!.push([name, x]);
      if (name === 'onChanges') {
        const b = x as Record<string, unknown>;
        for (const v of Object.values(b)) if (ArrayBuffer.isView(v)) transfer.push(v.buffer as ArrayBuffer);
      }
    };
  }
  return sinks;
}

const lanes = init.lanes.map((l, k) => new Lane(l.id, parseLaneSpec(l.spec, init.defaults), init.sysfs, recordingSinks(k)));

/** The page runs of the chunk being executed, shared by this worker's lanes. */
const runs = new PageRuns();

function send(m: FromWorker): void {
  port.postMessage(m, transfer);
  calls = init.lanes.map(() => []);
  transfer = [];
}

port.on('message', (m: ToWorker) => {
  try {
    if (m.type === 'chunk') {
      runs.compute(m.chunk);
      for (const lane of lanes) lane.processChunk(m.chunk, runs);
      send({ type: 'done', seq: m.seq, calls });
    } else {
      for (const lane of lanes) lane.finish();
      send({ type: 'finished', calls, counters: lanes.map((l) => l.sys.counters), opTimes: lanes.map((l) => l.opTimes) });
    }
  } catch (e) {
    send({ type: 'error', error: serializeError(e) });
  }
});
