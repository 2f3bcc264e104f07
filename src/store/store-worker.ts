/**
 * The store's worker thread (started by WorkerStore): owns the RunStore and applies the calls the main
 * thread posts, in order. After the first error it writes nothing more (the run stops there, as it would
 * in-thread) until finish, which then records status "failed".
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CollectPageRun, UffdMsgRow } from '../lanes/results.js';
import { COLLECT_PAGE_FIELDS, UFFD_MSG_FIELDS, unpackRows } from './row-pack.js';
import { serializeError } from '../workers/errors.js';
import type { OpenRequest, PostedCall, WorkerReply } from './store-protocol.js';
import { RunStore } from './writer.js';

const port = parentPort!;
const reply = (m: WorkerReply): void => port.postMessage(m);

function open(req: OpenRequest): RunStore | undefined {
  try {
    if (req.kind === 'create') {
      const store = RunStore.create(req.path, req.meta);
      reply({ kind: 'opened', committedPos: -1, lanes: [] });
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

const store = open(workerData as OpenRequest);
let failed = false;
let commits = 0;

function apply(s: RunStore, call: PostedCall): void {
  switch (call[0]) {
    case 'writeUffdMsgs':
      for (const m of unpackRows<UffdMsgRow>(call[1], UFFD_MSG_FIELDS)) s.writeUffdMsg(m);
      return;
    case 'writeCollect':
      s.writeCollect({ ...call[1], pages: unpackRows<CollectPageRun>(call[1].pages, COLLECT_PAGE_FIELDS) });
      return;
    default:
      (s[call[0]] as (...args: unknown[]) => unknown).apply(s, call.slice(1));
  }
}

function close(call: PostedCall): void {
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
  port.on('message', (calls: PostedCall[]) => {
    for (const call of calls) {
      if (call[0] === 'finish' || call[0] === 'abandon') return close(call);
      if (failed) continue;
      try {
        apply(store, call);
        if (call[0] === 'commit') reply({ kind: 'committed', commits: ++commits });
      } catch (err) {
        failed = true;
        reply({ kind: 'failed', error: serializeError(err) });
      }
    }
  });
}
