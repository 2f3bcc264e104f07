import { Observable, type OperatorFunction } from 'rxjs';
import { REC_OP, REC_READ, type TraceChunk, type TraceOp } from '../trace/types.js';

export interface InjectOptions {
  /** Inject a collect+reset every this many accesses (0 = never). */
  every: number;
  /** Inject a collect+reset whenever trace time crosses a multiple of this many ns (0 = never). */
  everyNs: number;
}

const collectAll = (label: string): TraceOp => ({ op: 'collect', pid: 0, addr: 0, len: 0, reset: true, label });
const resetAll = (): TraceOp => ({ op: 'reset', pid: 0, addr: 0, len: 0 });

/**
 * The `--interval N` / `--interval-us` protocol: arm tracking in every process just before the first
 * access (unless the trace resets by itself before it), then collect and re-arm every N accesses or
 * every interval of trace time. The injected records carry the position of the record before them.
 *
 * 1. A chunk arrives; its records are copied to a new chunk of the same columns.
 * 2. Before the first access, if no `reset` was seen, a whole-process `reset` is inserted.
 * 3. After every N-th access (or when t crosses the next time boundary) a `collect` with `reset` is inserted.
 * 4. The new chunk is emitted with a `posCol` column holding each record's trace position.
 */
export function injectProtocol(o: InjectOptions): OperatorFunction<TraceChunk, TraceChunk> {
  // Without an interval nothing is injected: the trace's own reset/collect ops drive tracking.
  if (o.every <= 0 && o.everyNs <= 0) return (source) => source;
  return (source) =>
    new Observable<TraceChunk>((sub) => {
      let accesses = 0;
      let armed = false;
      let nextTime = o.everyNs > 0 ? o.everyNs : Infinity;
      let seen = 0;
      return source.subscribe({
        next(c) {
          const extra = (o.every > 0 ? Math.ceil(c.n / o.every) + 1 : 0) + (o.everyNs > 0 ? c.n : 0) + 1;
          const cap = c.n + extra;
          const out: TraceChunk = {
            n: 0, pos0: c.pos0, kind: new Uint8Array(cap), flags: new Uint8Array(cap), pid: new Int32Array(cap),
            tid: new Int32Array(cap), time: new Float64Array(cap), addr: new Float64Array(cap), size: new Uint32Array(cap),
            ops: [], posCol: new Float64Array(cap),
          };
          const pushOp = (op: TraceOp, pos: number, t: number) => {
            const j = out.n++;
            out.kind[j] = REC_OP;
            out.pid[j] = op.pid;
            out.tid[j] = op.pid;
            out.time[j] = t;
            out.posCol![j] = pos;
            out.ops.push(op);
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
              while (nextTime <= t) nextTime += o.everyNs;
            }
            const j = out.n++;
            out.kind[j] = c.kind[i]!;
            out.flags[j] = c.flags[i]!;
            out.pid[j] = c.pid[i]!;
            out.tid[j] = c.tid[i]!;
            out.time[j] = t;
            out.addr[j] = c.addr[i]!;
            out.size[j] = c.size[i]!;
            out.posCol![j] = pos;
            if (op) out.ops.push(op);
            if (!isOp && c.kind[i]! <= REC_READ + 1 && o.every > 0 && ++accesses % o.every === 0) {
              pushOp(collectAll(`interval ${++seen}`), pos, t);
            }
          }
          sub.next(out);
        },
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      });
    });
}
