import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { injectProtocol, type InjectMode } from '../src/pipeline/inject-protocol.js';
import { ChunkBuilder } from '../src/trace/chunk.js';
import { REC_OP, REC_WRITE, type TraceChunk, type TraceOp } from '../src/trace/types.js';

/** A trace of `n` writes split into chunks of `size` records, with an op first when given. */
function chunks(n: number, size: number, first?: TraceOp): TraceChunk[] {
  const b = new ChunkBuilder(size);
  const out: TraceChunk[] = [];
  if (first) b.pushOp(first);
  for (let i = 0; i < n; i++) {
    b.pushAccess(REC_WRITE, 1, 1, i * 10, 0x10000 + i * 4096, 8);
    if (b.full) out.push(b.take());
  }
  if (!b.empty) out.push(b.take());
  return out;
}

/** The injected (and original) ops of the output, with the trace position each carries. */
function opsOf(out: TraceChunk[]): { op: string; pos: number; label?: string }[] {
  const r: { op: string; pos: number; label?: string }[] = [];
  for (const c of out) {
    let k = 0;
    for (let i = 0; i < c.n; i++) {
      if (c.kind[i] !== REC_OP) continue;
      const op = c.ops[k++]!;
      r.push({ op: op.op, pos: c.posCol![i]!, ...(op.op === 'collect' ? { label: op.label } : {}) });
    }
  }
  return r;
}

const run = (input: TraceChunk[], every: number, everyNs = 0, mode?: InjectMode) =>
  lastValueFrom(from(input).pipe(injectProtocol({ every, everyNs, mode }), toArray()));

/** A trace from JSONL-like records: accesses (w) and ops. */
function trace(recs: (TraceOp | 'w')[], size = 64): TraceChunk[] {
  const b = new ChunkBuilder(size);
  const out: TraceChunk[] = [];
  recs.forEach((r, i) => {
    if (r === 'w') b.pushAccess(REC_WRITE, 1, 1, i * 10, 0x10000 + i * 4096, 8);
    else b.pushOp(r);
    if (b.full) out.push(b.take());
  });
  if (!b.empty) out.push(b.take());
  return out;
}

describe('injectProtocol (the --interval protocol)', () => {
  it('arms before the first access, collects after every N-th access across chunk boundaries, and collects the tail', async () => {
    const out = await run(chunks(10, 4), 4);
    expect(opsOf(out)).toEqual([
      { op: 'reset', pos: 0 },
      { op: 'collect', pos: 3, label: 'interval 1' },
      { op: 'collect', pos: 7, label: 'interval 2' },
      { op: 'collect', pos: 9, label: 'end' },
    ]);
    // Original records keep their trace positions; nothing is lost.
    const accesses = out.flatMap((c) =>
      Array.from({ length: c.n }, (_, i) => i)
        .filter((i) => c.kind[i] !== REC_OP)
        .map((i) => c.posCol![i]!),
    );
    expect(accesses).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('does not add a reset when the trace arms tracking itself before its first access', async () => {
    const out = await run(chunks(5, 8, { op: 'reset', pid: 1, addr: 0, len: 0 }), 5);
    // The 5th access is the last record: its interval collect is the tail's, no second one.
    expect(opsOf(out).map((o) => o.op)).toEqual(['reset', 'collect']);
  });

  it('injects nothing without an interval', async () => {
    const out = await run(chunks(6, 4), 0);
    expect(opsOf(out)).toEqual([]);
  });

  it('collects whenever trace time crosses a multiple of --interval-us', async () => {
    // Accesses at t = 0, 10, ..., 90 ns; a boundary every 25 ns.
    const out = await run(chunks(10, 16), 0, 25);
    expect(
      opsOf(out)
        .filter((o) => o.op === 'collect')
        .map((o) => o.pos),
    ).toEqual([3, 5, 8, 9]);
  });

  it('collects the tail in the last chunk (it commits with the last records), without re-arming', async () => {
    const out = await run(chunks(10, 4), 4);
    expect(out.map((c) => c.pos0)).toEqual([0, 4, 8]);
    const last = out.at(-1)!;
    expect(last.kind[last.n - 1]).toBe(REC_OP);
    expect(last.ops.at(-1)).toEqual({ op: 'collect', pid: 0, addr: 0, len: 0, reset: false, label: 'end' });
  });

  it('collects a process just before it exits, once tracking is armed', async () => {
    const exit = (pid: number): TraceOp => ({ op: 'exit', pid });
    const out = await run(trace([exit(3), 'w', 'w', exit(2), 'w', exit(1)]), 100);
    expect(opsOf(out)).toEqual([
      { op: 'exit', pos: 0 }, // before the first access: nothing armed, nothing to collect
      { op: 'reset', pos: 1 },
      { op: 'collect', pos: 3, label: 'exit' },
      { op: 'exit', pos: 3 },
      { op: 'collect', pos: 5, label: 'exit' },
      { op: 'exit', pos: 5 },
      { op: 'collect', pos: 5, label: 'end' },
    ]);
    expect(
      out
        .flatMap((c) => c.ops)
        .filter((o) => o.op === 'collect')
        .map((o) => o.pid),
    ).toEqual([2, 1, 0]);
  });

  it("mode 'tail' keeps the trace's own collects and adds one at the end only when accesses follow the last", async () => {
    const collect: TraceOp = { op: 'collect', pid: 1, addr: 0, len: 0, reset: true, label: 'own' };
    const reset: TraceOp = { op: 'reset', pid: 1, addr: 0, len: 0 };
    const endsWithCollect = await run(trace([reset, 'w', 'w', collect, { op: 'exit', pid: 1 }]), 0, 0, 'tail');
    expect(opsOf(endsWithCollect).map((o) => o.label ?? o.op)).toEqual(['reset', 'own', 'exit']);
    const endsWithAccesses = await run(trace([reset, 'w', collect, 'w', { op: 'mark', pid: 1, label: 'x' }]), 0, 0, 'tail');
    expect(opsOf(endsWithAccesses).map((o) => o.label ?? o.op)).toEqual(['reset', 'own', 'mark', 'end']);
  });

  it("mode 'none' and no interval add nothing", async () => {
    expect(opsOf(await run(chunks(6, 4), 0, 0, 'none'))).toEqual([]);
    expect(opsOf(await run(chunks(6, 4), 3, 0, 'none'))).toEqual([]);
  });
});
