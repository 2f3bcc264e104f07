/**
 * `pteplay verify`: the same command lists on a real kernel (a {@link VerifyBackend}) and in the
 * simulator set up to describe that kernel, every observable compared (kreplay.ts compare()), and
 * the first divergence shrunk to a minimal command list (shrink.ts).
 *
 * The simulator runs the profile nearest the kernel's release (or `kernel`) with the switches the
 * backend probed (zero page, soft-dirty, userfaultfd features, PAGEMAP_SCAN categories), the
 * machine's THP mode and swap, and then the user's own `kernelOpts` (which win).
 */
import { resolveProfile } from '../kernel/profile.js';
import { UsageError } from '../errors.js';
import { compare, simRun, type Mismatch } from './kreplay.js';
import { BackendUnavailable, USERFAULTFD_DENIED, type VerifyBackend } from './backend.js';
import { fuzzSequence } from './fuzz.js';
import { shrinkDivergence } from './shrink.js';
import { commandsToJsonl, traceCommands } from './trace-commands.js';

export type VerifyTarget = { kind: 'trace'; path: string } | { kind: 'fuzz'; sequences: number; seed: number; ops: number };

export interface VerifyOptions {
  target: VerifyTarget;
  backend: VerifyBackend;
  /** Profile for the simulator (default: the backend's nearest). */
  kernel?: string;
  /** The user's `--kernel-opt` values, applied after the probed ones. */
  kernelOpts?: string[];
  /** Called after every batch of sequences. */
  onProgress?: (done: number, total: number, divergences: number) => void;
  /** Called after every kreplay batch of the shrinking. */
  onShrink?: (sequence: string | number, batches: number) => void;
}

/** One command of the minimised sequence with both answers. */
export interface Answer {
  command: string;
  kernel: string;
  sim: string;
  differs: boolean;
}

export interface Divergence {
  /** The sequence: the trace's path or the fuzz seed. */
  sequence: string | number;
  /** Commands of the whole sequence. */
  commands: number;
  /** The first divergent command (index into the sequence) and both answers. */
  first: Mismatch;
  minimized: {
    commands: string[];
    /** The same as trace records (JSONL lines; `#` lines are observations without a record). */
    records: string[];
    answers: Answer[];
    /** kreplay batches the shrinking ran. */
    batches: number;
  };
}

export interface VerifySummary {
  backend: VerifyBackend['name'];
  release: string;
  profile: string;
  /** Every `--kernel-opt` the simulator ran with: probed, then the user's. */
  kernelOpts: string[];
  /** Probed switches this build cannot simulate (listed, not applied). */
  unmodelled: string[];
  sysfs: VerifyBackend['sysfs'];
  mode: VerifyTarget['kind'];
  trace?: string;
  seed?: number;
  ops?: number;
  sequences: number;
  commands: number;
  /** The sequences that diverge (trace path or seeds). */
  divergent: (string | number)[];
  first: Divergence | null;
  /** What the user should know about the comparison (a trace that expects other machine settings). */
  warnings: string[];
}

export async function runVerify(o: VerifyOptions): Promise<VerifySummary> {
  const { backend } = o;
  const profile = o.kernel ?? backend.profile;
  const probed = backend.kernelOpts(profile);
  const kernelOpts = [...probed.kernelOpts, ...(o.kernelOpts ?? [])];
  try {
    resolveProfile(profile, kernelOpts);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const sim = (cmds: string[]) => simRun(cmds, profile, backend.sysfs, kernelOpts);

  let seqs: { id: string | number; cmds: string[] }[];
  let back: ((a: number) => number) | undefined;
  const warnings: string[] = [];
  if (o.target.kind === 'trace') {
    const t = await traceCommands(o.target.path);
    const want = t.sysfs ?? {};
    if (want.thp !== undefined && want.thp !== backend.sysfs.thp) {
      warnings.push(`${o.target.path} asks for THP ${want.thp}; this kernel runs with ${backend.sysfs.thp}, and so does the simulator here`);
    }
    if (want.thpZeroPage !== undefined && want.thpZeroPage !== backend.sysfs.thpZeroPage) {
      warnings.push(
        `${o.target.path} asks for use_zero_page ${want.thpZeroPage ? 1 : 0}; this kernel runs with ${backend.sysfs.thpZeroPage ? 1 : 0}, and so does the simulator here`,
      );
    }
    seqs = [{ id: o.target.path, cmds: t.commands }];
    back = (a) => t.relocation.back(a);
  } else {
    const { sequences, seed, ops } = o.target;
    const thp = backend.sysfs.thp !== 'never';
    seqs = Array.from({ length: sequences }, (_, i) => ({ id: seed + i, cmds: fuzzSequence(seed + i, ops, thp && (seed + i) % 3 !== 0) }));
  }
  if (backend.prepare) seqs = seqs.map((s) => ({ id: s.id, cmds: backend.prepare!(s.cmds) }));
  if (!backend.userfaultfd && seqs.some((s) => s.cmds.some((c) => c.startsWith('userfaultfd ')))) {
    throw new BackendUnavailable(USERFAULTFD_DENIED);
  }

  const divergent: (string | number)[] = [];
  let first: { id: string | number; cmds: string[]; m: Mismatch } | null = null;
  for (let i = 0; i < seqs.length; i += backend.batch) {
    const batch = seqs.slice(i, i + backend.batch);
    const kernel = await backend.run(batch.map((s) => s.cmds));
    batch.forEach((s, j) => {
      const ms = compare(s.cmds, kernel[j] ?? [], sim(s.cmds));
      if (ms.length === 0) return;
      divergent.push(s.id);
      first ??= { id: s.id, cmds: s.cmds, m: ms[0]! };
    });
    o.onProgress?.(Math.min(i + backend.batch, seqs.length), seqs.length, divergent.length);
  }

  const summary: VerifySummary = {
    backend: backend.name,
    release: backend.release,
    profile,
    kernelOpts,
    unmodelled: probed.unmodelled,
    sysfs: backend.sysfs,
    mode: o.target.kind,
    ...(o.target.kind === 'trace' ? { trace: o.target.path } : { seed: o.target.seed, ops: o.target.ops }),
    sequences: seqs.length,
    commands: seqs.reduce((n, s) => n + s.cmds.length, 0),
    divergent,
    first: null,
    warnings,
  };
  const found = first as { id: string | number; cmds: string[]; m: Mismatch } | null;
  if (found !== null) summary.first = await minimise(found, backend, sim, back, (b) => o.onShrink?.(found.id, b));
  return summary;
}

/** Shrink the first divergence and answer each command of the result on both sides. */
async function minimise(
  d: { id: string | number; cmds: string[]; m: Mismatch },
  backend: VerifyBackend,
  sim: (cmds: string[]) => string[],
  back: ((a: number) => number) | undefined,
  onBatch: (batches: number) => void,
): Promise<Divergence> {
  let batches = 0;
  const divergesAtEnd = async (lists: string[][]): Promise<boolean[]> => {
    const kernel = await backend.run(lists);
    onBatch(++batches);
    return lists.map((cmds, i) => compare(cmds, kernel[i] ?? [], sim(cmds)).some((m) => m.index === cmds.length - 1));
  };
  const index = d.m.index < d.cmds.length ? d.m.index : d.cmds.length - 1;
  const shrunk = await shrinkDivergence(d.cmds, index, divergesAtEnd);
  const cmds = shrunk.commands;
  const [kernel = []] = await backend.run([cmds]);
  const simLines = sim(cmds);
  const differing = new Set(compare(cmds, kernel, simLines).map((m) => m.index));
  return {
    sequence: d.id,
    commands: d.cmds.length,
    first: d.m,
    minimized: {
      commands: cmds,
      records: commandsToJsonl(cmds, back),
      answers: cmds.map((c, i) => ({ command: c, kernel: kernel[i] ?? '(none)', sim: simLines[i] ?? '(none)', differs: differing.has(i) })),
      batches: shrunk.batches,
    },
  };
}
