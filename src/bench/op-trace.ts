/** The op-path input of `pteplay bench`: a recorded perf trace imported once to msgpack, with its address-space ops counted. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { importPerf } from '../trace/importers/perf.js';
import { writeTrace } from '../trace/writer.js';
import { REC_OP, type TraceChunk } from '../trace/types.js';
import type { BenchTrace } from './trace.js';

/** The calls that change the address space (what the op-path target is about); forks, execs and exits are not counted. */
export const ADDRESS_SPACE_OPS: ReadonlySet<string> = new Set(['mmap', 'munmap', 'mprotect', 'madvise', 'mremap', 'brk']);

export interface OpTrace extends BenchTrace {
  accesses: number;
  /** Records whose op is one of ADDRESS_SPACE_OPS. */
  ops: number;
}

export async function writeOpTrace(dir: string, fixture: string): Promise<OpTrace> {
  const imported = await importPerf(fixture);
  let accesses = 0;
  let ops = 0;
  async function* counted(): AsyncGenerator<TraceChunk> {
    for await (const c of imported.chunks) {
      for (let i = 0; i < c.n; i++) if (c.kind[i] !== REC_OP) accesses++;
      for (const op of c.ops) if (ADDRESS_SPACE_OPS.has(op.op)) ops++;
      yield c;
    }
  }
  const path = join(dir, 'op-path.ptrace');
  const w = await writeTrace(path, imported.header, counted(), 'msgpack');
  return { path, records: w.records, bytes: statSync(path).size, accesses, ops };
}
