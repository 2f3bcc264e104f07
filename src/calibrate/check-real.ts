/**
 * The measured side of `pteplay calibrate --check`: tools/calibrate/check (built with gcc on first
 * use, as tools/kreplay is) runs the encoded stream (check-encode.ts) for real under one tracker
 * lane, several repetitions, each in a fresh process; this module runs it and reads its lines.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, PteplayError } from '../errors.js';
import { PACKAGE_ROOT } from '../version.js';

const DIR = join(PACKAGE_ROOT, 'tools', 'calibrate');
const SRC = join(DIR, 'check.c');
const BIN = join(DIR, 'check');

/** The lanes the executor runs: `none` is the baseline (no tracker). */
export const REAL_LANES = ['none', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async', 'soft-dirty'] as const;
export type RealLane = (typeof REAL_LANES)[number];

/** One repetition's figures (the executor's line). */
export interface RealRep {
  wallNs: number;
  userNs: number;
  sysNs: number;
  minflt: number;
  /** uffd messages the sync monitor read. */
  msgs: number;
  /** SIGSEGV/SIGBUS taken by accesses (read-only or unmapped pages). */
  signals: number;
  /** PAGEMAP_SCAN calls (async) or pagemap preads (soft-dirty). */
  scans: number;
}

/** Build tools/calibrate/check if it is missing or older than its sources; a clear error when it cannot. */
export function checkBinary(): string {
  const newest = Math.max(statSync(SRC).mtimeMs, statSync(join(PACKAGE_ROOT, 'tools', 'probes', 'common.h')).mtimeMs);
  if (existsSync(BIN) && statSync(BIN).mtimeMs >= newest) return BIN;
  if (spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new PteplayError(
      'calibrate --check: gcc is not installed: tools/calibrate/check.c is built with gcc on first use (apt-get install gcc, or dnf install gcc)',
      EXIT.UNAVAILABLE,
    );
  }
  const r = spawnSync('bash', [join(DIR, 'build-check.sh')], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new PteplayError(`calibrate --check: building tools/calibrate/check failed: ${r.stderr.trim().split('\n')[0] ?? ''}`, EXIT.UNAVAILABLE);
  }
  return BIN;
}

const LINE = /^rep (\d+) wall_ns (\d+) user_ns (\d+) sys_ns (\d+) minflt (\d+) msgs (\d+) signals (\d+) scans (\d+)$/;

/** Parse the executor's output: one RealRep per line. */
export function parseReps(stdout: string): RealRep[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = LINE.exec(l);
      if (!m) throw new PteplayError(`calibrate --check: unexpected line from tools/calibrate/check: ${JSON.stringify(l)}`, EXIT.INTERNAL);
      const n = m.slice(2).map(Number);
      return { wallNs: n[0]!, userNs: n[1]!, sysNs: n[2]!, minflt: n[3]!, msgs: n[4]!, signals: n[5]!, scans: n[6]! };
    });
}

/** Run `stream` (a file written from check-encode.ts) for real under `lane`, `reps` times. */
export function runReal(stream: string, lane: RealLane, reps: number): RealRep[] {
  const r = spawnSync(checkBinary(), [lane, String(reps), stream], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.error) throw new PteplayError(`calibrate --check: cannot run tools/calibrate/check: ${r.error.message}`, EXIT.INTERNAL);
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`;
    throw new PteplayError(`calibrate --check: the real run of lane ${lane} failed: ${why.replace(/^error: /, '')}`, EXIT.INTERNAL);
  }
  const out = parseReps(r.stdout);
  if (out.length !== reps) throw new PteplayError(`calibrate --check: lane ${lane}: ${out.length} of ${reps} repetitions reported`, EXIT.INTERNAL);
  return out;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
