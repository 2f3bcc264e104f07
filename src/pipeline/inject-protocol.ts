import { Observable, type OperatorFunction } from 'rxjs';
import { REC_OP, type TraceChunk, type TraceOp } from '../trace/types.js';

/**
 * What replay adds to a trace's own records:
 * - 'interval': arm tracking before the first access, collect and re-arm every `every` accesses and/or
 *   `everyNs` of trace time, collect each process just before it exits, and collect the tail;
 * - 'tail': only the tail collect (a trace that carries its own collects);
 * - 'none': nothing, the trace exactly as it is.
 */
export type InjectMode = 'interval' | 'tail' | 'none';

export interface InjectOptions {
  /** Inject a collect+reset every this many accesses (0 = never). */
  every: number;
  /** Inject a collect+reset whenever trace time crosses a multiple of this many ns (0 = never). */
  everyNs: number;
  /** Default: 'interval' when `every` or `everyNs` is set, else 'none'. */
  mode?: InjectMode;
}

const collectAll = (label: string): TraceOp => ({ op: 'collect', pid: 0, addr: 0, len: 0, reset: true, label });
const resetAll = (): TraceOp => ({ op: 'reset', pid: 0, addr: 0, len: 0 });
/** Read without re-arming: nothing is tracked after it (the process exits, or the trace ends). */
const finalCollect = (pid: number, label: string): TraceOp => ({ op: 'collect', pid, addr: 0, len: 0, reset: false, label });

/**
 * The replay's collect protocol (`--interval`). The injected records carry the trace position of the
 * record next to them, so a resumed replay (which skips what was stored up to a committed position)
 * injects and skips exactly the same ones.
 *
 * 1. A chunk arrives; its records are copied to a new chunk of the same columns, with a `posCol`.
 * 2. 'interval': before the first access, if no `reset` was seen, a whole-process `reset` is inserted;
 *    after every N-th access (or when t crosses the next time boundary) a `collect` with `reset`; before
 *    an `exit` of a process, once tracking is armed, a `collect` of that process (its last interval:
 *    after the exit its pages cannot be read).
 * 3. Each chunk is handed on when the next one arrives: at the end of the trace, a whole-process
 *    `collect` without re-arm (label "end") is appended to the last chunk when accesses follow the last
 *    collect, so that it commits with the trace's last records.
 */
// Why an operator: it shapes the chunk stream itself, holding each chunk back until the next arrives
// and appending the tail collect when the stream completes, which a per-chunk function cannot see.
export function injectProtocol(o: InjectOptions): OperatorFunction<TraceChunk, TraceChunk> {
  const mode = o.mode ?? (o.every > 0 || o.everyNs > 0 ? 'interval' : 'none');
  if (mode === 'none') return (source) => source;
  const every = mode === 'interval' ? o.every : 0;
  const everyNs = mode === 'interval' ? o.everyNs : 0;
  return (source) =>
    new Observable<TraceChunk>((sub) => {
      let accesses = 0;
      let armed = mode !== 'interval';
      let nextTime = everyNs > 0 ? everyNs : Infinity;
      let seen = 0;
      /** Accesses since the last collect of the trace's own or injected over every process (not an exit's). */
      let uncollected = false;
      let held: TraceChunk | null = null;
      let lastPos = -1;
      let lastTime = NaN;
      return source.subscribe({
        next(c) {
          const extra = (every > 0 ? Math.ceil(c.n / every) + 1 : 0) + (everyNs > 0 ? c.n : 0) + c.ops.length + 2;
          const cap = c.n + extra;
          const out: TraceChunk = {
            n: 0,
            pos0: c.pos0,
            kind: new Uint8Array(cap),
            flags: new Uint8Array(cap),
            pid: new Int32Array(cap),
            tid: new Int32Array(cap),
            time: new Float64Array(cap),
            addr: new Float64Array(cap),
            size: new Uint32Array(cap),
            ops: [],
            posCol: new Float64Array(cap),
          };
          const pushOp = (op: TraceOp, pos: number, t: number) => {
            pushOpTo(out, op, pos, t);
            if (op.op === 'collect' && op.pid === 0) uncollected = false;
          };
          let opIndex = 0;
          for (let i = 0; i < c.n; i++) {
            const pos = c.posCol ? c.posCol[i]! : c.pos0 + i;
            const t = c.time[i]!;
            const isOp = c.kind[i] === REC_OP;
            const op = isOp ? c.ops[opIndex++]! : null;
            if (op && op.op === 'reset') armed = true;
            if (!isOp && !armed) {
              pushOp(resetAll(), pos, t);
              armed = true;
            }
            if (!isOp && t >= nextTime) {
              pushOp(collectAll(`t=${nextTime}ns`), pos, t);
              while (nextTime <= t) nextTime += everyNs;
            }
            if (op && op.op === 'exit' && mode === 'interval' && armed) pushOp(finalCollect(op.pid, 'exit'), pos, t);
            const j = out.n++;
            out.kind[j] = c.kind[i]!;
            out.flags[j] = c.flags[i]!;
            out.pid[j] = c.pid[i]!;
            out.tid[j] = c.tid[i]!;
            out.time[j] = t;
            out.addr[j] = c.addr[i]!;
            out.size[j] = c.size[i]!;
            out.posCol![j] = pos;
            if (op) {
              out.ops.push(op);
              if (op.op === 'collect') uncollected = false;
            } else {
              uncollected = true;
              if (every > 0 && ++accesses % every === 0) pushOp(collectAll(`interval ${++seen}`), pos, t);
            }
            lastPos = pos;
            lastTime = t;
          }
          if (held !== null) sub.next(held);
          held = out;
        },
        error: (e) => sub.error(e),
        complete: () => {
          if (held !== null) {
            if (uncollected) pushOpTo(held, finalCollect(0, 'end'), lastPos, lastTime);
            sub.next(held);
          }
          sub.complete();
        },
      });
    });
}

function pushOpTo(out: TraceChunk, op: TraceOp, pos: number, t: number): void {
  const j = out.n++;
  out.kind[j] = REC_OP;
  out.pid[j] = op.pid;
  out.tid[j] = op.pid;
  out.time[j] = t;
  out.posCol![j] = pos;
  out.ops.push(op);
}
