/**
 * `threads`: several threads (tids pid*1000+k), each with a private slice of the mapping plus one
 * region shared by all, interleaved round-robin in small bursts. Layout: the shared region is the
 * first `sharedPages` pages; the rest is cut into equal slices, one per thread (a remainder of
 * fewer than `threads` pages at the end is left untouched).
 */
import { PAGE_SIZE } from '../../mm/uapi.js';
import { UsageError } from '../../errors.js';
import { REC_READ, REC_WRITE, type TraceChunk } from '../types.js';
import { Emitter } from './emit.js';
import { GEN_PID, requireInt, requireReal, resolveGenOptions, type GenOptions, type ResolvedGenOptions } from './options.js';
import { prelude } from './prelude.js';
import { Rng } from './rng.js';

export interface ThreadsOptions extends GenOptions {
  /** Pages of the shared region (default pages / 4, at least 1). */
  sharedPages?: number;
  /** Fraction of each thread's accesses that go to the shared region (default 0.25). */
  sharedRatio?: number;
  /** Accesses per burst before the next thread runs (default 16). */
  burst?: number;
}

export const DEFAULT_THREADS_KIND_THREADS = 4;

export interface ThreadsLayout {
  sharedPages: number;
  slicePages: number;
}

export function threadsLayout(pages: number, threads: number, sharedPages?: number): ThreadsLayout {
  const shared = sharedPages ?? Math.max(1, Math.floor(pages / 4));
  if (!Number.isSafeInteger(shared) || shared < 1 || shared >= pages) {
    throw new UsageError(`option --shared-pages: expected 1..${pages - 1} (fewer than --pages), got ${shared}`);
  }
  const slicePages = Math.floor((pages - shared) / threads);
  if (slicePages < 1) {
    throw new UsageError(
      `option --pages: ${pages} pages leave no private slice for ${threads} threads after ` +
        `${shared} shared pages; need at least ${shared + threads}`,
    );
  }
  return { sharedPages: shared, slicePages };
}

export function genThreads(opts: ThreadsOptions): Iterable<TraceChunk> {
  const o = resolveGenOptions({ ...opts, threads: opts.threads ?? DEFAULT_THREADS_KIND_THREADS });
  const layout = threadsLayout(o.pages, o.threads, opts.sharedPages);
  const sharedRatio = requireReal('--shared-ratio', opts.sharedRatio ?? 0.25, 0, 1);
  const burst = requireInt('--burst', opts.burst ?? 16, 1);
  return run(o, layout, sharedRatio, burst);
}

function* run(o: ResolvedGenOptions, layout: ThreadsLayout, sharedRatio: number, burst: number): Generator<TraceChunk> {
  const rng = new Rng(o.seed);
  const e = new Emitter(o.nsPerAccess, GEN_PID, o.interval);
  yield* prelude(e, o, GEN_PID * 1000);
  const slots = Math.floor(PAGE_SIZE / o.accessSize);
  const { base, accessSize, writeRatio, threads } = o;
  const { sharedPages, slicePages } = layout;
  let k = 0;
  let left = burst;
  for (let i = 0; i < o.accesses; i++) {
    if (left === 0) {
      left = burst;
      k = k + 1 === threads ? 0 : k + 1;
    }
    left--;
    const kind = rng.float() < writeRatio ? REC_WRITE : REC_READ;
    const page = rng.float() < sharedRatio ? rng.below(sharedPages) : sharedPages + k * slicePages + rng.below(slicePages);
    const addr = base + page * PAGE_SIZE + rng.below(slots) * accessSize;
    if (e.work(kind, GEN_PID, GEN_PID * 1000 + k, addr, accessSize)) yield* e.drain();
  }
  yield* e.finish();
}
