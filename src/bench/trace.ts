/** The benchmark's generated inputs: zipf traces written once to a temporary msgpack file. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { genZipf } from '../trace/generators/index.js';
import { writeTrace } from '../trace/writer.js';

export const BENCH_SEED = 1;

export interface BenchTrace {
  path: string;
  records: number;
  bytes: number;
  /** The command that generates the same trace (generated traces only). */
  source?: string;
}

export async function writeBenchTrace(
  dir: string,
  accesses: number,
  pages: number,
  interval: number,
  writeRatio = 0.5,
  name = 'bench',
): Promise<BenchTrace> {
  const path = join(dir, `${name}.ptrace`);
  const source = `pteplay gen zipf --seed ${BENCH_SEED} --pages ${pages} --accesses ${accesses} --interval ${interval} --write-ratio ${writeRatio}`;
  const r = await writeTrace(
    path,
    { pteplay: 'trace', version: 1, source },
    genZipf({ seed: BENCH_SEED, pages, accesses, interval, writeRatio }),
    'msgpack',
  );
  return { path, records: r.records, bytes: statSync(path).size, source };
}
