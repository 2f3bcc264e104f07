/**
 * `zipf`: zipfian hot/cold pages. Rank k (1 = hottest) has probability ∝ 1/k^theta; ranks map to
 * pages through a seeded permutation, so hot pages are scattered over the mapping rather than
 * clustered at its start.
 */
import { PAGE_SIZE } from '../../mm/uapi.js';
import { REC_READ, REC_WRITE, type TraceChunk } from '../types.js';
import { Emitter } from './emit.js';
import { GEN_PID, requireReal, resolveGenOptions, type GenOptions, type ResolvedGenOptions } from './options.js';
import { prelude, TidCycler } from './prelude.js';
import { permutation, Rng } from './rng.js';
import { ZipfSampler } from './zipf.js';

export interface ZipfOptions extends GenOptions {
  /** Skew (default 0.99; 0 is uniform). */
  theta?: number;
}

export const DEFAULT_THETA = 0.99;

export function genZipf(opts: ZipfOptions): Iterable<TraceChunk> {
  const theta = requireReal('--theta', opts.theta ?? DEFAULT_THETA, 0, 10);
  return run(resolveGenOptions(opts), theta);
}

/** The page that zipf rank r (1-based) maps to, for a given seed and page count (what the generator uses). */
export function zipfHotPages(seed: number, pages: number): Uint32Array {
  return permutation(new Rng(seed ^ 0x5a17f00d), pages);
}

function* run(o: ResolvedGenOptions, theta: number): Generator<TraceChunk> {
  const rng = new Rng(o.seed);
  const perm = zipfHotPages(o.seed, o.pages);
  const zipf = new ZipfSampler(o.pages, theta);
  const tids = new TidCycler(GEN_PID, o.threads);
  const e = new Emitter(o.nsPerAccess, GEN_PID, o.interval);
  yield* prelude(e, o, tids.main);
  const slots = Math.floor(PAGE_SIZE / o.accessSize);
  const { base, accessSize, writeRatio } = o;
  for (let i = 0; i < o.accesses; i++) {
    const kind = rng.float() < writeRatio ? REC_WRITE : REC_READ;
    const page = perm[zipf.sample(rng) - 1]!;
    const addr = base + page * PAGE_SIZE + rng.below(slots) * accessSize;
    if (e.work(kind, GEN_PID, tids.next(), addr, accessSize)) yield* e.drain();
  }
  yield* e.finish();
}
