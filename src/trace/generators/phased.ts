/**
 * `phased`: a sequence of working sets. The accesses are split evenly over `phases` phases; each
 * phase picks a new window of `phasePages` consecutive pages at a random place in the mapping,
 * announces it with a `mark`, and hammers it uniformly.
 */
import { PAGE_SIZE } from '../../mm/uapi.js';
import { REC_READ, REC_WRITE, type TraceChunk } from '../types.js';
import { Emitter } from './emit.js';
import { GEN_PID, requireInt, resolveGenOptions, type GenOptions, type ResolvedGenOptions } from './options.js';
import { prelude, TidCycler } from './prelude.js';
import { Rng } from './rng.js';

export interface PhasedOptions extends GenOptions {
  /** Number of phases (default 4). */
  phases?: number;
  /** Pages per working set (default pages / 8, at least 1). */
  phasePages?: number;
}

export const DEFAULT_PHASES = 4;

export function defaultPhasePages(pages: number): number {
  return Math.max(1, Math.floor(pages / 8));
}

export function genPhased(opts: PhasedOptions): Iterable<TraceChunk> {
  const o = resolveGenOptions(opts);
  const phases = requireInt('--phases', opts.phases ?? DEFAULT_PHASES, 1, 1e6);
  const phasePages = requireInt('--phase-pages', opts.phasePages ?? defaultPhasePages(o.pages), 1, o.pages);
  return run(o, phases, phasePages);
}

function* run(o: ResolvedGenOptions, phases: number, phasePages: number): Generator<TraceChunk> {
  const rng = new Rng(o.seed);
  const tids = new TidCycler(GEN_PID, o.threads);
  const e = new Emitter(o.nsPerAccess, GEN_PID, o.interval);
  yield* prelude(e, o, tids.main);
  const slots = Math.floor(PAGE_SIZE / o.accessSize);
  const { accessSize, writeRatio } = o;
  const per = Math.floor(o.accesses / phases);
  const extra = o.accesses % phases;
  for (let ph = 0; ph < phases; ph++) {
    const first = rng.below(o.pages - phasePages + 1);
    if (e.op({ op: 'mark', pid: GEN_PID, label: `phase ${ph + 1}/${phases}: pages ${first}..${first + phasePages - 1}` })) yield* e.drain();
    const start = o.base + first * PAGE_SIZE;
    const n = per + (ph < extra ? 1 : 0);
    for (let i = 0; i < n; i++) {
      const kind = rng.float() < writeRatio ? REC_WRITE : REC_READ;
      const addr = start + rng.below(phasePages) * PAGE_SIZE + rng.below(slots) * accessSize;
      if (e.work(kind, GEN_PID, tids.next(), addr, accessSize)) yield* e.drain();
    }
  }
  yield* e.finish();
}
