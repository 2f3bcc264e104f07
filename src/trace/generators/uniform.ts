/** `uniform`: every access picks a page uniformly at random (and an aligned offset in it). */
import { PAGE_SIZE } from '../../mm/uapi.js';
import { REC_READ, REC_WRITE, type TraceChunk } from '../types.js';
import { Emitter } from './emit.js';
import { GEN_PID, resolveGenOptions, type GenOptions, type ResolvedGenOptions } from './options.js';
import { prelude, TidCycler } from './prelude.js';
import { Rng } from './rng.js';

export function genUniform(opts: GenOptions): Iterable<TraceChunk> {
  return run(resolveGenOptions(opts));
}

function* run(o: ResolvedGenOptions): Generator<TraceChunk> {
  const rng = new Rng(o.seed);
  const tids = new TidCycler(GEN_PID, o.threads);
  const e = new Emitter(o.nsPerAccess, GEN_PID, o.interval);
  yield* prelude(e, o, tids.main);
  const slots = Math.floor(PAGE_SIZE / o.accessSize);
  const { base, accessSize, writeRatio, pages } = o;
  for (let i = 0; i < o.accesses; i++) {
    const kind = rng.float() < writeRatio ? REC_WRITE : REC_READ;
    const addr = base + rng.below(pages) * PAGE_SIZE + rng.below(slots) * accessSize;
    if (e.work(kind, GEN_PID, tids.next(), addr, accessSize)) yield* e.drain();
  }
  yield* e.finish();
}
