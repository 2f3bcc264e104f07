/** `seq`: sequential sweeps over the pages, one access per page, wrapping; each sweep moves the in-page offset on. */
import { PAGE_SIZE } from '../../mm/uapi.js';
import type { TraceChunk } from '../types.js';
import { resolveGenOptions, type GenOptions } from './options.js';
import { simpleWorkload } from './prelude.js';

export function genSeq(opts: GenOptions): Iterable<TraceChunk> {
  const o = resolveGenOptions(opts);
  const { base, accessSize, pages } = o;
  let page = 0;
  let sweep = 0;
  let off = 0;
  return simpleWorkload(o, (_rng, slots) => {
    const addr = base + page * PAGE_SIZE + off;
    if (++page === pages) {
      page = 0;
      sweep++;
      off = (sweep % slots) * accessSize;
    }
    return addr;
  });
}
