/**
 * The timing helper (tools/calibrate/calibrate.c): built with gcc at first use into
 * tools/calibrate/calibrate (git-ignored, rebuilt when the source is newer), run once, its JSON
 * lines parsed. Exit 69 when this machine cannot run it (not Linux, no gcc).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, PteplayError } from '../errors.js';
import { PACKAGE_ROOT } from '../version.js';

const DIR = join(PACKAGE_ROOT, 'tools', 'calibrate');
const SRC = join(DIR, 'calibrate.c');
const BIN = join(DIR, 'calibrate');
const HEADER = join(PACKAGE_ROOT, 'tools', 'probes', 'common.h');

/** One line of the helper's output (see the top of calibrate.c). */
export interface RawMeasurement {
  m: string;
  unit?: string;
  p50?: number;
  p90?: number;
  n?: number;
  /** A sweep: [size, p50, p90, samples] per size. */
  points?: [number, number, number, number][];
  status?: 'unavailable';
  why?: string;
}

export interface RawMeta {
  kernel: string;
  cpu: string;
  cpus: number;
  pinned_cpu: number;
  timer_ns: number;
  quick: boolean;
}

export interface RawRun {
  meta: RawMeta;
  measurements: Map<string, RawMeasurement>;
}

/** Build the helper if it is missing or older than its sources; the binary's path. */
export function helperBinary(): string {
  if (process.platform !== 'linux') {
    throw new PteplayError(`pteplay calibrate times Linux kernel operations: this is ${process.platform}`, EXIT.UNAVAILABLE);
  }
  const newest = Math.max(statSync(SRC).mtimeMs, statSync(HEADER).mtimeMs);
  if (existsSync(BIN) && statSync(BIN).mtimeMs >= newest) return BIN;
  const r = spawnSync('bash', [join(DIR, 'build.sh'), BIN], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const gcc = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
    if (gcc.error) {
      throw new PteplayError(
        `pteplay calibrate builds its timing helper ${SRC} with gcc at first use, and gcc is not on PATH: install gcc (e.g. apt-get install gcc)`,
        EXIT.UNAVAILABLE,
      );
    }
    const why = (r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' / ');
    throw new PteplayError(`cannot build the timing helper ${SRC}: ${why}`, EXIT.UNAVAILABLE);
  }
  return BIN;
}

/** Run the helper; `onLine` sees each measurement as it arrives. */
export function runHelper(quick: boolean, onLine?: (m: RawMeasurement) => void): Promise<RawRun> {
  const bin = helperBinary();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, quick ? ['quick'] : [], { stdio: ['ignore', 'pipe', 'pipe'] });
    let meta: RawMeta | undefined;
    const measurements = new Map<string, RawMeasurement>();
    let buf = '';
    let stderr = '';
    const line = (l: string) => {
      if (!l.trim()) return;
      let v: { meta?: RawMeta } & Partial<RawMeasurement>;
      try {
        v = JSON.parse(l);
      } catch {
        reject(new PteplayError(`the timing helper ${bin} printed a line that is not JSON: ${l.slice(0, 120)}`, EXIT.INTERNAL));
        child.kill();
        return;
      }
      if (v.meta) meta = v.meta;
      else if (typeof v.m === 'string') {
        measurements.set(v.m, v as RawMeasurement);
        onLine?.(v as RawMeasurement);
      }
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i = buf.indexOf('\n');
      while (i >= 0) {
        line(buf.slice(0, i));
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', (e) => reject(new PteplayError(`cannot run the timing helper ${bin}: ${e.message}`, EXIT.UNAVAILABLE)));
    child.on('close', (code, signal) => {
      line(buf);
      if (code !== 0 || !meta) {
        const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        reject(new PteplayError(`the timing helper ${bin} ${how}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`, EXIT.INTERNAL));
        return;
      }
      resolve({ meta, measurements });
    });
  });
}
