/** `uniform`: every access picks a page uniformly at random (and an aligned offset in it). */
import { PAGE_SIZE } from '../../mm/uapi.js';
import type { TraceChunk } from '../types.js';
import { resolveGenOptions, type GenOptions } from './options.js';
import { simpleWorkload } from './prelude.js';

export function genUniform(opts: GenOptions): Iterable<TraceChunk> {
  const o = resolveGenOptions(opts);
  const { base, accessSize, pages } = o;
  return simpleWorkload(o, (rng, slots) => base + rng.below(pages) * PAGE_SIZE + rng.below(slots) * accessSize);
}
