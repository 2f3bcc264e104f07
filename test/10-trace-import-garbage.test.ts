/**
 * `pteplay import` fed the wrong thing (issue 13 item 5, importer bullets), through the CLI on real
 * files: the other importer's format, random bytes, a perf.data file, perf script output with nothing
 * importable, an empty file, a file whose lines are mostly garbage, or a --pid the input does not have.
 * Each fails with one line on stderr naming the file, what was expected and what the file looks like,
 * with the documented exit code, and leaves no output file (nor touches one that was there).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { pteplay } from './helpers/cli.js';

const REAL = join(import.meta.dirname, '..', 'traces', 'real');
const LACKEY = join(REAL, 'lackey-mmap-demo.txt.gz');
const PERF = join(REAL, 'sqlite3-inserts.perf.txt.gz');
const tmp = mkdtempSync(join(tmpdir(), 'pteplay-garbage-'));
let n = 0;

function file(name: string, data: string | Buffer): string {
  const p = join(tmp, `${n++}-${name}`);
  writeFileSync(p, data);
  return p;
}

/** Deterministic pseudo-random bytes (xorshift32). */
function randomBytes(len: number, seed = 12345): Buffer {
  const b = Buffer.alloc(len);
  let x = seed;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** Run an import that must fail: one stderr line, the exit code, no output file. */
function importFails(args: string[], code: number): string {
  const out = join(tmp, `${n++}-out.ptrace`);
  const r = pteplay(['import', ...args, '-o', out]);
  expect(r.status, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^pteplay: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(existsSync(out), 'no output file').toBe(false);
  return lines[0]!;
}

describe('import of the wrong format or of garbage', () => {
  test('perf fed a lackey log: exit 65, says it is a lackey log and which command to use', () => {
    const msg = importFails(['perf', LACKEY], 65);
    expect(msg).toContain(LACKEY);
    expect(msg).toMatch(/perf script/);
    expect(msg).toMatch(/lackey log/);
    expect(msg).toContain('pteplay import lackey');
  });

  test('lackey fed perf script output: exit 65, says it is perf script output', () => {
    const msg = importFails(['lackey', PERF], 65);
    expect(msg).toContain(PERF);
    expect(msg).toMatch(/lackey/);
    expect(msg).toContain('pteplay import perf');
  });

  test('random bytes: exit 65, says it is binary data; an existing output file is left as it was', () => {
    const junk = file('random.bin', randomBytes(65536));
    for (const format of ['perf', 'lackey']) expect(importFails([format, junk], 65)).toMatch(/binary/);
    const out = file('precious.ptrace', 'precious');
    const r = pteplay(['import', 'perf', junk, '-o', out]);
    expect(r.status).toBe(65);
    expect(readFileSync(out, 'utf8')).toBe('precious');
  });

  test('a perf.data file: exit 65, says to run perf script on it first', () => {
    const data = file('perf.data', Buffer.concat([Buffer.from('PERFILE2'), randomBytes(8192, 7)]));
    expect(importFails(['perf', data], 65)).toContain('perf script');
  });

  test('an empty file: exit 65', () => {
    expect(importFails(['perf', file('empty.txt', '')], 65)).toMatch(/empty/);
    expect(importFails(['lackey', file('empty.txt', '')], 65)).toMatch(/empty/);
  });

  test('perf script output with nothing importable (page-faults without addr): exit 65 with the reason', () => {
    const text = [
      '            sort 21538  1275.822510:          1 page-faults:  ffffffff8177d51a elf_load+0x28a ([kernel.kallsyms])',
      '            sort 21538  1275.822971:          2 page-faults:      7f4fe3a34b70 _start+0x0 (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)',
      '            sort 21538  1275.823009:          3 page-faults:      7f4fe3a357c9 _dl_start+0x59 (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)',
    ].join('\n');
    const msg = importFails(['perf', file('noaddr.perf.txt', text)], 65);
    expect(msg).toMatch(/no records/);
    expect(msg).toContain('-F +addr');
  });

  test('a perf file whose lines are mostly garbage: exit 65 with the count; a few bad lines still import', () => {
    const lines = gunzipSync(readFileSync(PERF)).toString('utf8').split('\n').slice(0, 300);
    const junk = lines.flatMap((l, i) => (i % 100 === 0 ? [l] : [`garbage ${i}`, `\u0000 ${i}`]));
    const msg = importFails(['perf', file('mostly-junk.perf.txt', junk.join('\n'))], 65);
    expect(msg).toMatch(/\d+ of \d+ lines/);
    expect(msg).toContain('line 2');
    const few = [...lines.slice(0, 150), 'garbage', ...lines.slice(150)];
    const out = join(tmp, 'few.ptrace');
    const r = pteplay(['import', 'perf', file('few-junk.perf.txt', few.join('\n')), '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/1 malformed \(line 151\)/);
    expect(existsSync(out)).toBe(true);
  });

  test('--strict on binary input: the bad line is escaped (printable ASCII only) and capped', () => {
    const junk = file('random-strict.bin', randomBytes(65536, 99));
    const msg = importFails(['perf', junk, '--strict'], 65);
    expect(msg).toContain(`${junk}:line 1:`);
    expect(msg).toMatch(/^[\x20-\x7e]*$/);
    expect(msg.length).toBeLessThan(600);
    expect(msg).toMatch(/\\u[0-9a-f]{4}/);
    const lackey = importFails(['lackey', junk, '--strict'], 65);
    expect(lackey).toMatch(/^[\x20-\x7e]*$/);
    expect(lackey.length).toBeLessThan(600);
  });
});

describe('import --pid of a process that is not in the input', () => {
  test('perf: exit 64, lists the processes that are there with their line counts', () => {
    const msg = importFails(['perf', PERF, '--pid', '424242'], 64);
    expect(msg).toContain('424242');
    expect(msg).toMatch(/19005 \(\d+ lines\)/);
  });

  test('lackey: exit 64, names the process of the log', () => {
    const msg = importFails(['lackey', LACKEY, '--pid', '424242'], 64);
    expect(msg).toContain('424242');
    const pid = /==(\d+)==/.exec(gunzipSync(readFileSync(LACKEY)).toString('utf8').slice(0, 4096))![1]!;
    expect(msg).toMatch(new RegExp(`${pid} \\(\\d+ lines\\)`));
  });

  test('a --pid that is there still imports (exit 0)', () => {
    const out = join(tmp, 'pid-ok.ptrace');
    expect(pteplay(['import', 'perf', PERF, '--pid', '19005', '-o', out]).status).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});
