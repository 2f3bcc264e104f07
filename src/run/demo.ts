/**
 * The bundled demo (`npm start`): generate a few small workloads, replay each into every default
 * lane, and print the cross-lane comparison of each run.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadReport } from '../report/accuracy.js';
import { summarySection } from '../report/format-text.js';
import { RunReader } from '../store/reader.js';
import { genChurn, genZipf } from '../trace/generators/index.js';
import type { TraceChunk, TraceHeader } from '../trace/types.js';
import { writeTrace } from '../trace/writer.js';
import { PACKAGE_ROOT } from '../version.js';
import { replay } from './replay.js';

interface DemoWorkload {
  name: string;
  title: string;
  /** A generated trace, or a bundled file. */
  chunks?: () => Iterable<TraceChunk>;
  file?: string;
  interval: number;
}

const WORKLOADS: DemoWorkload[] = [
  {
    name: 'zipf',
    title: 'zipfian hot/cold writes over 64 MiB, collect every 50k accesses',
    chunks: () => genZipf({ seed: 1, pages: 16384, accesses: 400_000, theta: 0.99 }),
    interval: 50_000,
  },
  {
    name: 'churn',
    title: 'mixed workload with mmap/munmap/mprotect/mremap/madvise/fork/brk/THP churn',
    chunks: () => genChurn({ seed: 1, pages: 4096, accesses: 200_000, opEvery: 2_000 }),
    interval: 20_000,
  },
];

/** Bundled scenario files shown in the demo (docs/kernel-rules.md §3 cases with the clearest story). */
const SCENARIOS = ['vma-merge', 'dontneed-anon', 'thp-one-byte', 'mremap-move', 'fork-child'];

export async function runDemo(out: (s: string) => void, runsDir = join(process.cwd(), 'runs')): Promise<void> {
  mkdirSync(runsDir, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'pteplay-demo-'));
  try {
    const scenarioDir = join(PACKAGE_ROOT, 'traces', 'scenarios');
    const available = new Set(
      readdirSync(scenarioDir, { withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => d.name),
    );
    const list: DemoWorkload[] = [
      ...WORKLOADS,
      ...SCENARIOS.filter((s) => available.has(`${s}.jsonl`)).map((s) => ({
        name: s,
        title: `scenario traces/scenarios/${s}.jsonl`,
        file: join(scenarioDir, `${s}.jsonl`),
        interval: 0,
      })),
    ];
    for (const w of list) {
      let trace = w.file;
      if (!trace) {
        trace = join(tmp, `${w.name}.trace`);
        const header: TraceHeader = { pteplay: 'trace', version: 1, source: `pteplay demo: ${w.title}` };
        await writeTrace(trace, header, w.chunks!(), 'msgpack');
      }
      const db = join(runsDir, `demo-${w.name}.db`);
      const s = await replay({ trace, db, interval: w.interval, force: true }); // the demo's own runs, replaced each time
      const reader = RunReader.open(db);
      try {
        out(`\n== ${w.name}: ${w.title}\n   ${s.accesses} accesses, ${s.collects} collects -> ${db}\n`);
        out(summarySection(loadReport(reader).lanes).join('\n') + '\n');
      } finally {
        reader.close();
      }
    }
    out(`\nEach run is a SQLite file: try  npx pteplay report ${join('runs', 'demo-zipf.db')}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
