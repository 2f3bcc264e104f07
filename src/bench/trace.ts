/** The benchmark's input: a zipf trace written once to a temporary msgpack file. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { genZipf } from '../trace/generators/index.js';
import { writeTrace } from '../trace/writer.js';

export const BENCH_SEED = 1;

export interface BenchTrace {
  path: string;
  records: number;
  bytes: number;
}

export async function writeBenchTrace(dir: string, accesses: number, pages: number, interval: number): Promise<BenchTrace> {
  const path = join(dir, 'bench.ptrace');
  const source = `pteplay gen zipf --seed ${BENCH_SEED} --pages ${pages} --accesses ${accesses} --interval ${interval}`;
  const r = await writeTrace(path, { pteplay: 'trace', version: 1, source }, genZipf({ seed: BENCH_SEED, pages, accesses, interval }), 'msgpack');
  return { path, records: r.records, bytes: statSync(path).size };
}
