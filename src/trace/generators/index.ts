/** The trace generators of `pteplay gen`, by kind. */
import type { TraceChunk } from '../types.js';
import { genChurn, type ChurnOptions } from './churn.js';
import { genPhased, type PhasedOptions } from './phased.js';
import { genSeq } from './seq.js';
import { genThreads, type ThreadsOptions } from './threads.js';
import { genUniform } from './uniform.js';
import { genZipf, type ZipfOptions } from './zipfian.js';

export type { GenOptions } from './options.js';
export type { ChurnOptions, PhasedOptions, ThreadsOptions, ZipfOptions };
export { genChurn, genPhased, genSeq, genThreads, genUniform, genZipf };

/** Every generator option, for callers (the CLI) that pick the kind at run time. */
export type AnyGenOptions = ZipfOptions & PhasedOptions & ThreadsOptions & ChurnOptions;

export const GEN_KINDS = ['seq', 'uniform', 'zipf', 'phased', 'threads', 'churn'] as const;
export type GenKind = (typeof GEN_KINDS)[number];

export const GENERATORS: Record<GenKind, (o: AnyGenOptions) => Iterable<TraceChunk>> = {
  seq: genSeq,
  uniform: genUniform,
  zipf: genZipf,
  phased: genPhased,
  threads: genThreads,
  churn: genChurn,
};

export const GEN_KIND_HELP: Record<GenKind, string> = {
  seq: 'sequential sweeps over the pages, wrapping',
  uniform: 'uniformly random pages',
  zipf: 'zipfian hot/cold pages (--theta), hot pages scattered by a seeded permutation',
  phased: 'a sequence of working sets (--phases, --phase-pages)',
  threads: 'threads with private slices plus a shared region, round-robin in bursts (--threads, default 4)',
  churn: 'mixed accesses plus address-space operations every --op-every accesses (--ops)',
};
