/**
 * `pteplay import <perf|lackey> <input> -o <output>`: turn a `perf script` text dump or a valgrind
 * lackey log into a pteplay trace, streaming. Prints a progress line on stderr when it is a
 * terminal, then a one-line summary (or the summary as JSON on stdout with --json).
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { importLackey } from '../src/trace/importers/lackey.js';
import { importPerf } from '../src/trace/importers/perf.js';
import type { ImportedTrace, ImportOptions, ImportSummary } from '../src/trace/importers/types.js';
import { writeTrace } from '../src/trace/writer.js';
import { progressPrinter } from './progress.js';

type Importer = (path: string, opts: ImportOptions) => Promise<ImportedTrace>;

const IMPORTERS: Record<string, Importer> = { perf: importPerf, lackey: importLackey };

interface ImportCliOptions {
  output: string;
  pid: number[];
  tid: number[];
  comm: string[];
  strict?: boolean;
  json?: boolean;
}

function collectInt(name: string) {
  return (value: string, prev: number[]): number[] => {
    const n = Number(value.trim());
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`option ${name}: expected a whole number, got "${value}"`);
    return [...prev, n];
  };
}

export function register(program: Command): void {
  program
    .command('import')
    .description(
      'Import a trace recorded by another tool.\n' +
        '  perf:   the text output of `perf script` (exceptions:page_fault_user/kernel, syscalls:sys_enter/exit of\n' +
        '          mmap, munmap, mprotect, madvise, mremap, brk, task/sched process events, PERF_RECORD_MMAP2 with\n' +
        '          --show-mmap-events); see traces/real/README.md and traces/real/record-perf.sh.\n' +
        '  lackey: a valgrind --tool=lackey --trace-mem=yes log (optionally with --trace-syscalls=yes).\n' +
        'The input may be gzip-compressed. The output format follows its name (.jsonl → JSON Lines, else msgpack).\n' +
        'An input with no importable record, or with more than half its lines malformed, is refused (exit 65, ' +
        'nothing written) with what the file looks like; a --pid the input does not have is exit 64.',
    )
    .addArgument(program.createArgument('<format>', 'input format').choices(['perf', 'lackey']))
    .argument('<input>', 'input file (perf script text or lackey log, optionally .gz)')
    .requiredOption('-o, --output <file>', 'output trace file (.ptrace, .jsonl, optionally .gz)')
    .addOption(new Option('--pid <n>', 'keep only this process (repeatable; each must be in the input)').argParser(collectInt('--pid')).default([]))
    .addOption(new Option('--tid <n>', 'keep only this thread (repeatable)').argParser(collectInt('--tid')).default([]))
    .addOption(
      new Option('--comm <name>', 'perf: keep only this command name (repeatable)')
        .argParser((v: string, prev: string[]) => [...prev, v])
        .default([]),
    )
    .option('--strict', 'stop at the first malformed line (exit 65, the line quoted and escaped) instead of counting it')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (format: string, input: string, o: ImportCliOptions) => {
      const importer = IMPORTERS[format]!;
      const progress = process.stderr.isTTY ? progressPrinter(`import ${format}`, 'records', 'rec') : undefined;
      const trace = await importer(input, {
        pids: o.pid,
        tids: o.tid,
        comms: o.comm,
        strict: o.strict === true,
        onProgress: progress && ((p) => progress.update({ bytes: p.bytes, totalBytes: p.totalBytes, count: p.records })),
      });
      try {
        await writeTrace(o.output, trace.header, trace.chunks);
      } finally {
        progress?.done();
      }
      const s = trace.summary();
      if (o.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      else process.stderr.write(`${summaryLine(s, o.output)}\n`);
    });
}

/** The one-line summary: counts by kind, pages, skipped, malformed with the first line numbers. */
export function summaryLine(s: ImportSummary, output: string): string {
  const ops = Object.entries(s.ops)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const skipped = Object.values(s.skipped).reduce((a, b) => a + b, 0);
  const mal =
    s.malformed > 0
      ? `, ${s.malformed} malformed (line${s.firstMalformed.length > 1 ? 's' : ''} ${s.firstMalformed.map((m) => m.line).join(', ')}${s.malformed > s.firstMalformed.length ? ', ...' : ''})`
      : '';
  return (
    `pteplay import ${s.importer}: ${s.lines} lines → ${s.records} records (${s.reads} reads, ${s.writes} writes` +
    `${ops ? `; ${ops}` : ''}), ${s.pages} pages, ${skipped} skipped${mal} → ${output}`
  );
}
