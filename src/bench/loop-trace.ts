/**
 * The hit-path input of `pteplay bench`: a real program's lackey trace (traces/real/lackey-mmap-demo.txt.gz)
 * stretched to `accesses` by repeating its longest stretch of accesses with no op in between, in place:
 * the trace up to the end of that stretch, the stretch again and again, then the rest of the trace. Every
 * repeated access was valid in the address space the stretch ran in, and no op runs between the
 * repetitions, so the looped trace is as valid as the recording (no mmap repeated, no access outside a
 * mapping). A whole-process collect with re-arm comes every 1/20 of the repetitions, as in the zipf trace.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { importLackey } from '../trace/importers/lackey.js';
import { Emitter } from '../trace/generators/emit.js';
import { writeTrace } from '../trace/writer.js';
import { REC_OP, REC_WRITE, type TraceChunk, type TraceOp } from '../trace/types.js';
import type { BenchTrace } from './trace.js';
import { COLLECTS_PER_TRACE } from './workloads.js';

export interface LoopedTrace extends BenchTrace {
  /** Access records of the looped trace. */
  accesses: number;
  /** Access records of the recording, the repeated stretch's length and how often it runs. */
  recordedAccesses: number;
  stretch: number;
  repeats: number;
  /** Distinct pages the accesses touch, and the fraction of accesses that are writes. */
  pages: number;
  /** Distinct pages the repeated stretch writes: what each lane re-arms and sees written again at every collect. */
  stretchWrittenPages: number;
  writeRatio: number;
}

interface Rec {
  kind: number;
  flags: number;
  pid: number;
  tid: number;
  addr: number;
  size: number;
  op?: TraceOp;
}

/** Write the looped trace of the lackey log `fixture` to `dir`, with at least `accesses` access records. */
export async function writeLoopedTrace(dir: string, fixture: string, accesses: number): Promise<LoopedTrace> {
  const recs: Rec[] = [];
  const imported = await importLackey(fixture);
  for await (const c of imported.chunks) {
    let op = 0;
    for (let i = 0; i < c.n; i++) {
      const r: Rec = { kind: c.kind[i]!, flags: c.flags[i]!, pid: c.pid[i]!, tid: c.tid[i]!, addr: c.addr[i]!, size: c.size[i]! };
      if (r.kind === REC_OP) r.op = c.ops[op++];
      recs.push(r);
    }
  }
  // The longest stretch [s, e) of consecutive access records.
  let s = 0;
  let e = 0;
  for (let i = 0, from = 0; i <= recs.length; i++) {
    if (i === recs.length || recs[i]!.kind === REC_OP) {
      if (i - from > e - s) [s, e] = [from, i];
      from = i + 1;
    }
  }
  const written = new Set<number>();
  for (let i = s; i < e; i++) if (recs[i]!.kind === REC_WRITE) written.add(Math.floor(recs[i]!.addr / 4096));
  const recorded = recs.filter((r) => r.kind !== REC_OP).length;
  const stretch = e - s;
  const repeats = Math.max(0, Math.ceil((accesses - recorded) / stretch));
  const interval = Math.max(1, Math.ceil((repeats * stretch) / COLLECTS_PER_TRACE));
  const em = new Emitter(10, 1, undefined);
  const pages = new Set<number>();
  let writes = 0;
  const emit = (r: Rec): boolean => {
    if (r.op) {
      const { t: _t, ...op } = r.op;
      return em.op(op);
    }
    pages.add(Math.floor(r.addr / 4096));
    if (r.kind === REC_WRITE) writes++;
    return em.access(r.kind, r.pid, r.tid, r.addr, r.size, r.flags);
  };
  function* chunks(): Generator<TraceChunk> {
    for (let i = 0; i < e; i++) if (emit(recs[i]!)) yield* em.drain();
    let since = 0;
    for (let k = 0; k < repeats; k++) {
      for (let i = s; i < e; i++) {
        if (emit(recs[i]!)) yield* em.drain();
        if (++since === interval || (k === repeats - 1 && i === e - 1)) {
          since = 0;
          if (em.collect()) yield* em.drain();
        }
      }
    }
    for (let i = e; i < recs.length; i++) if (emit(recs[i]!)) yield* em.drain();
    yield* em.finish();
  }
  const path = join(dir, 'hit-real.ptrace');
  const source = `bench: ${imported.header.source}, accesses ${s}..${e - 1} repeated ${repeats} times in place`;
  const w = await writeTrace(path, { pteplay: 'trace', version: 1, source }, chunks(), 'msgpack');
  return {
    path,
    records: w.records,
    bytes: statSync(path).size,
    accesses: em.accesses,
    recordedAccesses: recorded,
    stretch,
    repeats,
    pages: pages.size,
    stretchWrittenPages: written.size,
    writeRatio: writes / Math.max(1, em.accesses),
  };
}
