/**
 * The CLI entry points fed mutated real fixtures (issue 13 item 9): `pteplay import perf|lackey`,
 * `pteplay convert` and `pteplay replay`, each a real process on real files. Whatever the input, the
 * exit code is 0 or a documented one (64, 65, 66, 73, 74; never 70), stderr carries no stack trace,
 * and a failure is one line `pteplay: ...`. What a command accepted must be sound: an imported or
 * converted trace reads back as a valid trace (the same records the reader gives for the input), and
 * replay accepts exactly what the reader accepts. FUZZ_CLI_RUNS cases per command (fewer than the
 * in-process fuzzers: each spawns node); `npm run fuzz` runs more.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PteplayError } from '../src/errors.js';
import { formatRecord } from '../src/trace/jsonl.js';
import { openTrace } from '../src/trace/reader.js';
import { chunksFromRecords, recordsOfChunk } from '../src/trace/records.js';
import type { TraceChunk, TraceRecord } from '../src/trace/types.js';
import { writeTrace } from '../src/trace/writer.js';
import { pteplay, type CliResult } from './helpers/cli.js';
import {
  checkValidChunks,
  fixtureLines,
  FUZZ_MODE,
  FuzzInputs,
  fuzzParams,
  joinArb,
  joinLines,
  lineMutation,
  mutateLines,
  windowArb,
  windowOf,
} from './helpers/fuzz.js';
import { LACKEY, lackeySparse } from './helpers/fuzz-import.js';
import type { LineMutation } from './helpers/fuzz.js';

const CLI_RUNS = Number(process.env.FUZZ_CLI_RUNS ?? (FUZZ_MODE ? 40 : 8));
const inputs = new FuzzInputs('pteplay-fuzz-cli-');
afterAll(() => inputs.remove());
/** Every file of these tests gets its own name: a command must never meet an output it did not make. */
const file = (name: string) => inputs.path(name, true);

/** Exit codes a user may see (src/errors.ts); 70 is a bug. */
const DOCUMENTED = [0, 64, 65, 66, 73, 74];

function checkCli(r: CliResult, what: string): void {
  expect(DOCUMENTED, `${what}: exit ${r.status}, stderr: ${r.stderr}`).toContain(r.status);
  expect(r.stderr, `${what}: a stack trace`).not.toMatch(/^\s+at .+[:(]\d+/m);
  if (r.status !== 0) {
    const lines = r.stderr.replace(/\n$/, '').split('\n');
    expect(lines, `${what}: one line on failure`).toHaveLength(1);
    expect(lines[0]).toMatch(/^pteplay: \S/);
  }
}

async function readRecords(path: string): Promise<TraceRecord[]> {
  const t = await openTrace(path);
  const chunks: TraceChunk[] = [];
  for await (const c of t.chunks) chunks.push(c);
  checkValidChunks(chunks);
  return chunks.flatMap((c) => [...recordsOfChunk(c)]);
}

/** What the in-process reader says of a file: its records, or the error message. */
async function readerVerdict(path: string): Promise<{ records: TraceRecord[] } | { error: string }> {
  try {
    const t = await openTrace(path);
    const records: TraceRecord[] = [];
    for await (const c of t.chunks) records.push(...recordsOfChunk(c));
    return { records };
  } catch (e) {
    if (e instanceof PteplayError) return { error: e.message };
    throw e;
  }
}

const PERF = ['traces/real/sh-sort-uniq.perf.txt', 'traces/real/sh-sort-uniq.F-pid-tid-time.perf.txt.gz', 'traces/real/sqlite3-inserts.perf.txt.gz'];

const muts = fc.array(lineMutation, { minLength: 1, maxLength: 4 });
const timeout = (perCase: number) => Math.max(120_000, CLI_RUNS * perCase * 3);

describe('fuzz: pteplay import with mutated real recordings', () => {
  it('import perf: a documented exit, one line on failure, and a valid trace on success', { timeout: timeout(1000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PERF), windowArb(400), muts, joinArb, fc.boolean(), async (fixture, w, m, j, strict) => {
        const input = file('in.perf.txt');
        writeFileSync(input, joinLines(mutateLines(windowOf(fixtureLines(fixture), w), m), j));
        const out = file('out.ptrace');
        const r = pteplay(['import', 'perf', input, '-o', out, ...(strict ? ['--strict'] : [])]);
        checkCli(r, 'import perf');
        if (r.status === 0) await readRecords(out);
        else expect(r.stderr).toContain(input);
      }),
      fuzzParams(1, CLI_RUNS),
    );
  });

  it('import lackey: a documented exit, one line on failure, and a valid trace on success', { timeout: timeout(1000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('sparse', 'dense'), windowArb(400), muts, joinArb, fc.boolean(), async (pool, w, m, j, strict) => {
        const input = file('in.lackey.txt');
        writeFileSync(input, joinLines(mutateLines(windowOf(pool === 'sparse' ? lackeySparse() : fixtureLines(LACKEY), w), m), j));
        const out = file('out.ptrace');
        const r = pteplay(['import', 'lackey', input, '-o', out, ...(strict ? ['--strict'] : [])]);
        checkCli(r, 'import lackey');
        if (r.status === 0) await readRecords(out);
        else expect(r.stderr).toContain(input);
      }),
      fuzzParams(1, CLI_RUNS),
    );
  });
});

/** JSONL line pools for convert and replay: scenarios with their collects, and a real import as JSONL. */
let traceLines: string[][] | null = null;
async function tracePools(): Promise<string[][]> {
  if (traceLines !== null) return traceLines;
  const imported = file('sqlite3.ptrace');
  const r = pteplay(['import', 'perf', join('traces', 'real', 'sqlite3-inserts.perf.txt.gz'), '-o', imported]);
  expect(r.status).toBe(0);
  traceLines = [
    ...['vma-merge', 'uffd-close', 'fork-child', 'thp-split-carry', 'mremap-move', 'scan-mixed-vmas'].map((s) =>
      fixtureLines(`traces/scenarios/${s}.jsonl`),
    ),
    (await readRecords(imported)).map(formatRecord),
  ];
  return traceLines;
}

/** A mutated trace file: JSONL, or the same lines as a binary trace when they still parse. */
async function mutatedTrace(pool: number, w: { start: number; len: number }, m: LineMutation[], binary: boolean): Promise<string> {
  const pools = await tracePools();
  const text = joinLines(mutateLines(windowOf(pools[pool % pools.length]!, w), m), { crlf: false, finalNewline: true });
  const jsonl = file('in.jsonl');
  writeFileSync(jsonl, text);
  if (!binary) return jsonl;
  const v = await readerVerdict(jsonl);
  if ('error' in v) return jsonl;
  const bin = file('in.ptrace');
  await writeTrace(bin, { pteplay: 'trace', version: 1 }, chunksFromRecords(v.records, 7));
  return bin;
}

describe('fuzz: pteplay convert and replay with mutated traces', () => {
  it('convert: exits 0 exactly when the reader accepts the input, and writes the same records', { timeout: timeout(800) }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        windowArb(300),
        muts,
        fc.boolean(),
        fc.constantFrom('out.ptrace', 'out.jsonl', 'out.jsonl.gz'),
        async (pool, w, m, binary, outName) => {
          const input = await mutatedTrace(pool, w, m, binary);
          const out = file(outName);
          const r = pteplay(['convert', input, out]);
          checkCli(r, 'convert');
          const v = await readerVerdict(input);
          if ('error' in v) {
            expect(r.status).toBe(65);
            // (through UTF-8, as stderr carries it: V8's JSON message may quote half a surrogate pair)
            expect(r.stderr).toBe(`pteplay: ${Buffer.from(v.error).toString()}\n`);
            expect(existsSync(out), 'no half-written output').toBe(false);
          } else {
            expect(r.status).toBe(0);
            expect(await readRecords(out)).toEqual(v.records);
          }
        },
      ),
      fuzzParams(1, CLI_RUNS),
    );
  });

  it('replay: exits 0 exactly when the reader accepts the trace (a malformed one: 65, its location)', { timeout: timeout(2500) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), windowArb(200), muts, fc.boolean(), async (pool, w, m, binary) => {
        const input = await mutatedTrace(pool, w, m, binary);
        const db = file('run.db');
        const r = pteplay(['replay', input, '--db', db]);
        checkCli(r, 'replay');
        const v = await readerVerdict(input);
        if ('error' in v) {
          expect(r.status, r.stderr).toBe(65);
          expect(r.stderr).toContain(v.error.slice(0, v.error.indexOf(': ') + 2));
        } else {
          expect(r.status, r.stderr).toBe(0);
          expect(existsSync(db)).toBe(true);
        }
      }),
      fuzzParams(1, Math.max(1, Math.round(CLI_RUNS * 0.75))),
    );
  });
});

/**
 * The importer bugs the fuzzers found, as a user meets them: the import said success, and the replay
 * of what it wrote failed. Now the bad line is counted as malformed (or stops --strict), and the
 * trace the import wrote reads back.
 */
describe('fuzz regressions through the CLI: an imported trace always reads back', () => {
  const check = async (format: 'perf' | 'lackey', lines: string[], badLines: number[]) => {
    const input = file(`bad.${format}.txt`);
    writeFileSync(input, `${lines.join('\n')}\n`);
    const out = file('bad.ptrace');
    const r = pteplay(['import', format, input, '-o', out, '--json']);
    checkCli(r, `import ${format}`);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { malformed: number; firstMalformed: { line: number }[] };
    expect(summary.malformed).toBe(badLines.length);
    expect(summary.firstMalformed.map((m) => m.line)).toEqual(badLines);
    const c = pteplay(['convert', out, file('back.jsonl')]);
    expect(c.stderr).not.toContain('pteplay: ');
    expect(c.status).toBe(0);
    const s = pteplay(['import', format, input, '-o', file('strict.ptrace'), '--strict']);
    expect(s.status).toBe(65);
    expect(s.stderr).toContain(`${input}:line ${badLines[0]}: `);
  };

  it('perf: a tid of 2^64-1, a mmap of 2^64 bytes that succeeded, a mmap of /dev/zero', { timeout: 60_000 }, async () => {
    const real = fixtureLines('traces/real/sh-sort-uniq.perf.txt').slice(1, 40);
    const at = (rest: string) => `              sh 19469 [001]  5507.800000: ${rest}`;
    await check(
      'perf',
      [
        ...real,
        real[6]!.replace(' 19469 [001]', ' 18446744073709551615 [001]'),
        at(
          'syscalls:sys_enter_mmap: addr: 0x00000000, len: 0xffffffffffffffff, prot: 0x00000003, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000',
        ),
        at('syscalls:sys_exit_mmap: 0x7f0000100000'),
        at('syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00002000, prot: 0x00000003, flags: 0x00000002, fd: 0x00000003, off: 0x00000000'),
        at('PERF_RECORD_MMAP2 19469/19469: [0x7f0000200000(0x2000) @ 0 00:06 4 0]: rw-p /dev/zero'),
        at('syscalls:sys_exit_mmap: 0x7f0000200000'),
      ],
      [40, 42],
    );
  });

  it('lackey: an access of size 0, an mmap at -0x1000', { timeout: 60_000 }, async () => {
    const real = fixtureLines('traces/real/lackey-mmap-demo.txt.gz').slice(0, 30);
    await check(
      'lackey',
      [...real, 'I  0401ab70,0', 'SYSCALL[10830,1](9) sys_mmap ( -0x1000, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000)'],
      [31, 32],
    );
  });
});
