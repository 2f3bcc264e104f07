/**
 * A generator's parameters with every default filled in, and the `pteplay gen` command line that
 * reproduces the trace (the header's `source`): shared by `pteplay gen` and the `gen` traces of a
 * sweep plan, whose identity is that command line.
 */
import type { ChurnWeights } from './churn/menu.js';
import { DEFAULT_WEIGHTS, formatChurnOps } from './churn/menu.js';
import { DEFAULT_OP_EVERY } from './churn.js';
import type { AnyGenOptions, GenKind } from './index.js';
import { resolveGenOptions } from './options.js';
import { DEFAULT_PHASES, defaultPhasePages } from './phased.js';
import { DEFAULT_THREADS_KIND_THREADS, threadsLayout } from './threads.js';
import { DEFAULT_THETA } from './zipfian.js';

export const DEFAULT_PAGES = 65536;
export const DEFAULT_ACCESSES = 1_000_000;
export const DEFAULT_SEED = 1;

/** What `pteplay gen` takes besides the kind and the output (undefined: the default). */
export interface GenParams {
  pages?: number;
  accesses?: number;
  seed?: number;
  writeRatio?: number;
  threads?: number;
  theta?: number;
  phases?: number;
  phasePages?: number;
  sharedPages?: number;
  sharedRatio?: number;
  burst?: number;
  opEvery?: number;
  ops?: ChurnWeights;
  base?: number;
  accessSize?: number;
  nsPerAccess?: number;
  interval?: number;
  warmup?: boolean;
}

/** Fill in every default, and build the command line that reproduces the trace. */
export function resolveGen(kind: GenKind, opts: GenParams): { options: AnyGenOptions; source: string } {
  const options: AnyGenOptions = {
    seed: opts.seed ?? DEFAULT_SEED,
    pages: opts.pages ?? DEFAULT_PAGES,
    accesses: opts.accesses ?? DEFAULT_ACCESSES,
    writeRatio: opts.writeRatio,
    threads: opts.threads ?? (kind === 'threads' ? DEFAULT_THREADS_KIND_THREADS : undefined),
    base: opts.base,
    accessSize: opts.accessSize,
    nsPerAccess: opts.nsPerAccess,
    interval: opts.interval,
    warmup: opts.warmup,
  };
  const o = resolveGenOptions(options);
  const args = [
    `pteplay gen ${kind}`,
    `--pages ${o.pages}`,
    `--accesses ${o.accesses}`,
    `--seed ${o.seed}`,
    `--write-ratio ${o.writeRatio}`,
    `--threads ${o.threads}`,
    `--base 0x${o.base.toString(16)}`,
    `--access-size ${o.accessSize}`,
    `--ns-per-access ${o.nsPerAccess}`,
  ];
  if (o.interval !== undefined) args.push(`--interval ${o.interval}`);
  if (!o.warmup) args.push('--no-warmup');
  switch (kind) {
    case 'zipf':
      options.theta = opts.theta ?? DEFAULT_THETA;
      args.push(`--theta ${options.theta}`);
      break;
    case 'phased':
      options.phases = opts.phases ?? DEFAULT_PHASES;
      options.phasePages = opts.phasePages ?? defaultPhasePages(o.pages);
      args.push(`--phases ${options.phases}`, `--phase-pages ${options.phasePages}`);
      break;
    case 'threads':
      options.sharedPages = threadsLayout(o.pages, o.threads, opts.sharedPages).sharedPages;
      options.sharedRatio = opts.sharedRatio ?? 0.25;
      options.burst = opts.burst ?? 16;
      args.push(`--shared-pages ${options.sharedPages}`, `--shared-ratio ${options.sharedRatio}`, `--burst ${options.burst}`);
      break;
    case 'churn':
      options.opEvery = opts.opEvery ?? DEFAULT_OP_EVERY;
      options.ops = opts.ops ?? { ...DEFAULT_WEIGHTS };
      args.push(`--op-every ${options.opEvery}`, `--ops ${formatChurnOps(options.ops)}`);
      break;
    default:
      break;
  }
  return { options, source: args.join(' ') };
}
