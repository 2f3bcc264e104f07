/**
 * `pteplay gen <kind> -o <file>`: write a synthetic, seeded, reproducible trace. The header's
 * `source` is the full command line (every parameter, defaults included) that regenerates it.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { CHURN_OP_HELP, CHURN_OPS, DEFAULT_WEIGHTS, parseChurnOps } from '../src/trace/generators/churn/menu.js';
import { DEFAULT_OP_EVERY } from '../src/trace/generators/churn.js';
import { GEN_KIND_HELP, GEN_KINDS, GENERATORS, type GenKind } from '../src/trace/generators/index.js';
import { DEFAULT_PHASES } from '../src/trace/generators/phased.js';
import { DEFAULT_ACCESSES, DEFAULT_PAGES, DEFAULT_SEED, type GenParams, resolveGen } from '../src/trace/generators/resolve.js';
import { DEFAULT_THETA } from '../src/trace/generators/zipfian.js';
import type { TraceFormat } from '../src/trace/reader.js';
import type { TraceChunk, TraceHeader } from '../src/trace/types.js';
import { formatForPath, writeTrace } from '../src/trace/writer.js';
import { parseAddress, parseCount } from './options.js';

/** gen's parameters (GenParams) plus what only the command line has. */
interface GenCliOptions extends GenParams {
  output: string;
  warmup: boolean;
  format?: TraceFormat;
  json?: boolean;
}

/** Options that only mean something for some kinds (CLI name, option key, kinds). */
const KIND_OPTIONS: [string, keyof GenCliOptions, GenKind[]][] = [
  ['--theta', 'theta', ['zipf']],
  ['--phases', 'phases', ['phased']],
  ['--phase-pages', 'phasePages', ['phased']],
  ['--shared-pages', 'sharedPages', ['threads']],
  ['--shared-ratio', 'sharedRatio', ['threads']],
  ['--burst', 'burst', ['threads']],
  ['--op-every', 'opEvery', ['churn']],
  ['--ops', 'ops', ['churn']],
];

function parseNumber(name: string) {
  return (value: string): number => {
    const n = Number(value.trim());
    if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`option ${name}: expected a number, got "${value}"`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('gen')
    .description('Generate a seeded, reproducible synthetic trace: mmap, warm-up writes, reset, then the workload.')
    .addHelpText(
      'after',
      '\nKinds:\n' +
        GEN_KINDS.map((k) => `  ${k.padEnd(9)} ${GEN_KIND_HELP[k]}`).join('\n') +
        '\n\nchurn --ops items (name or name:weight, comma-separated; default all), [default weight]:\n' +
        CHURN_OPS.map((k) => `  ${k.padEnd(9)} [${DEFAULT_WEIGHTS[k]}] ${CHURN_OP_HELP[k]}`).join('\n') +
        '\n\nThe header records the full command line that regenerates the trace.',
    )
    .argument('<kind>', `workload kind: ${GEN_KINDS.join(', ')}`)
    .requiredOption('-o, --output <file>', 'output trace (.jsonl → JSON Lines, else msgpack, e.g. .ptrace; .gz compresses; - for stdout)')
    .option('--pages <n>', `pages of the main mapping (default ${DEFAULT_PAGES})`, parseCount('--pages'))
    .option('--accesses <n>', `workload accesses, warm-up excluded (default ${DEFAULT_ACCESSES})`, parseCount('--accesses'))
    .option('--seed <n>', `PRNG seed, 0..4294967295 (default ${DEFAULT_SEED})`, parseCount('--seed'))
    .option('--write-ratio <r>', 'fraction of accesses that are writes, 0..1 (default 0.5)', parseNumber('--write-ratio'))
    .option('--threads <n>', 'threads issuing the workload, tids pid*1000+k (default 1; threads kind: 4)', parseCount('--threads'))
    .option('--theta <x>', `zipf: skew, 0 = uniform (default ${DEFAULT_THETA})`, parseNumber('--theta'))
    .option('--phases <n>', `phased: number of working sets (default ${DEFAULT_PHASES})`, parseCount('--phases'))
    .option('--phase-pages <n>', 'phased: pages per working set (default pages/8)', parseCount('--phase-pages'))
    .option('--shared-pages <n>', 'threads: pages of the shared region (default pages/4)', parseCount('--shared-pages'))
    .option('--shared-ratio <r>', 'threads: fraction of accesses to the shared region (default 0.25)', parseNumber('--shared-ratio'))
    .option('--burst <n>', 'threads: accesses per round-robin burst (default 16)', parseCount('--burst'))
    .option('--op-every <n>', `churn: accesses between address-space operations (default ${DEFAULT_OP_EVERY})`, parseCount('--op-every'))
    .option('--ops <list>', 'churn: operation menu, e.g. "mmap,fork" or "dontneed:5,mremap" (default all)', parseChurnOps)
    .option('--base <addr>', 'address of the main mapping, 2 MiB aligned (default 0x7f0000000000)', parseAddress('--base'))
    .option('--access-size <bytes>', 'bytes per access, 1..4096 (default 8)', parseCount('--access-size'))
    .option('--ns-per-access <ns>', 'time step of the t column (default 10)', parseNumber('--ns-per-access'))
    .option('--interval <n>', 'emit a whole-process collect (with re-arm) every n workload accesses, and at the end', parseCount('--interval'))
    .option('--no-warmup', 'do not write every page before the reset (trackers start from unpopulated memory)')
    .addOption(new Option('--format <format>', 'output format (default: from the file name)').choices(['jsonl', 'msgpack']))
    .option('--json', 'print the summary as JSON on stdout (not with -o -)')
    .action(async (kindArg: string, opts: GenCliOptions) => {
      if (opts.json && opts.output === '-')
        throw new UsageError('gen: --json prints the summary on stdout, where -o - writes the trace: give -o a file');
      if (!(GEN_KINDS as readonly string[]).includes(kindArg)) {
        throw new UsageError(`gen: unknown kind "${kindArg}" (expected one of ${GEN_KINDS.join(', ')})`);
      }
      const kind = kindArg as GenKind;
      for (const [flag, key, kinds] of KIND_OPTIONS) {
        if (opts[key] !== undefined && !kinds.includes(kind)) {
          throw new UsageError(`option ${flag}: applies to ${kinds.join(', ')} only, not ${kind}`);
        }
      }
      const { options, source } = resolveGen(kind, opts);
      const chunks = GENERATORS[kind](options); // validates every option before the file is created
      const format = opts.format ?? formatForPath(opts.output);
      if (opts.output === '-' && format === 'msgpack' && process.stdout.isTTY) {
        throw new UsageError('gen: refusing to write binary msgpack to a terminal (redirect stdout or use --format jsonl)');
      }
      const header: TraceHeader = { pteplay: 'trace', version: 1, source };
      const t0 = performance.now();
      const counts = { accesses: 0, ops: 0 };
      const { records, bytes } = await writeTrace(opts.output, header, counting(chunks, counts), format);
      const secs = (performance.now() - t0) / 1000;
      if (opts.json) {
        const summary = { kind, output: opts.output, format, records, accesses: counts.accesses, ops: counts.ops, bytes, seconds: secs, source };
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      process.stderr.write(
        `pteplay gen: ${kind} → ${opts.output === '-' ? 'stdout' : opts.output}: ${records} records ` +
          `(${counts.accesses} accesses, ${counts.ops} ops), ${format}, ${formatBytes(bytes)}, ${secs.toFixed(1)} s\n`,
      );
    });
}

function* counting(chunks: Iterable<TraceChunk>, counts: { accesses: number; ops: number }): Generator<TraceChunk> {
  for (const c of chunks) {
    counts.ops += c.ops.length;
    counts.accesses += c.n - c.ops.length;
    yield c;
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
