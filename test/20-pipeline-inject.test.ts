import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { injectProtocol } from '../src/pipeline/inject-protocol.js';
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

const run = (input: TraceChunk[], every: number, everyNs = 0) =>
  lastValueFrom(from(input).pipe(injectProtocol({ every, everyNs }), toArray()));

describe('injectProtocol (the --interval protocol)', () => {
  it('arms before the first access and collects after every N-th access, across chunk boundaries', async () => {
    const out = await run(chunks(10, 4), 4);
    expect(opsOf(out)).toEqual([
      { op: 'reset', pos: 0 },
      { op: 'collect', pos: 3, label: 'interval 1' },
      { op: 'collect', pos: 7, label: 'interval 2' },
    ]);
    // Original records keep their trace positions; nothing is lost.
    const accesses = out.flatMap((c) => Array.from({ length: c.n }, (_, i) => i).filter((i) => c.kind[i] !== REC_OP).map((i) => c.posCol![i]!));
    expect(accesses).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('does not add a reset when the trace arms tracking itself before its first access', async () => {
    const out = await run(chunks(5, 8, { op: 'reset', pid: 1, addr: 0, len: 0 }), 5);
    expect(opsOf(out).map((o) => o.op)).toEqual(['reset', 'collect']);
  });

  it('injects nothing without an interval', async () => {
    const out = await run(chunks(6, 4), 0);
    expect(opsOf(out)).toEqual([]);
  });

  it('collects whenever trace time crosses a multiple of --interval-us', async () => {
    // Accesses at t = 0, 10, ..., 90 ns; a boundary every 25 ns.
    const out = await run(chunks(10, 16), 0, 25);
    expect(opsOf(out).filter((o) => o.op === 'collect').map((o) => o.pos)).toEqual([3, 5, 8]);
  });
});
