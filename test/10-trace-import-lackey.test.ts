/**
 * The valgrind lackey importer (issue 4, scope 2): hand-written lines of every kind, then the real
 * fixture traces/real/lackey-mmap-demo.txt.gz (recorded with valgrind 3.19, see traces/real/README.md)
 * end to end: import, write, replay through the lanes, and check properties of the real recording.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PteplayError, TraceFormatError } from '../src/errors.js';
import { importLackey } from '../src/trace/importers/lackey.js';
import { SYNTH_GAP_PAGES } from '../src/trace/importers/synth.js';
import type { ImportOptions, ImportSummary } from '../src/trace/importers/types.js';
import { recordsOfChunk } from '../src/trace/records.js';
import type { TraceOp, TraceRecord } from '../src/trace/types.js';
import { writeTrace } from '../src/trace/writer.js';
import { counter, errorsOf, runScenario, type ScenarioRun } from './helpers/scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'pteplay-lackey-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURE = new URL('../traces/real/lackey-mmap-demo.txt.gz', import.meta.url).pathname;
const LANES = ['soft-dirty', 'uffd-sync', 'uffd-async'];
const PAGE = 4096;

const tmp = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

type Access = Extract<TraceRecord, { op: 'read' | 'write' }>;
const isAccess = (r: TraceRecord): r is Access => r.op === 'read' || r.op === 'write';

async function importAll(path: string, opts: ImportOptions = {}): Promise<{ recs: TraceRecord[]; summary: ImportSummary }> {
  const t = await importLackey(path, opts);
  const recs: TraceRecord[] = [];
  for await (const c of t.chunks) for (const r of recordsOfChunk(c)) recs.push(r);
  return { recs, summary: t.summary() };
}

/** Import, write the trace, replay it through LANES in-process. */
async function importAndReplay(path: string, name: string): Promise<{ run: ScenarioRun; summary: ImportSummary }> {
  const t = await importLackey(path);
  const out = join(dir, `${name}.ptrace`);
  await writeTrace(out, t.header, t.chunks);
  const run = await runScenario(out, LANES);
  return { run, summary: t.summary() };
}

const HAND = [
  '==4242== Lackey, an example Valgrind tool',
  '==4242== Command: ./x',
  '==4242== ',
  'SYSCALL[4242,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x600000) ',
  'SYSCALL[4242,1](9) sys_mmap ( 0x0, 16384, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x10000000) ',
  'I  00401000,4',
  ' L 10000010,8',
  ' S 10000ffe,4',
  ' M 10001000,8',
  'SYSCALL[4242,1](28) sys_madvise ( 0x10001000, 4096, 4 ) --> [async] ... ',
  'SYSCALL[4242,1](28) ... [async] --> Success(0x0) ',
  'SYSCALL[4242,1](11) sys_munmap ( 0x10000001, 4096 )[sync] --> Failure(0x16) ',
  'SYSCALL[4242,1](10) sys_mprotect ( 0x10000000, 4096, 1 )[sync] --> Success(0x0) ',
  'SYSCALL[4242,1](25) sys_mremap ( 0x10002000, 8192, 16384, 0x1 ) --> [pre-success] Success(0x20000000) ',
  ' S 20003ff8,8',
  'SYSCALL[4242,1](12) sys_brk ( 0x602000 ) --> [pre-success] Success(0x602000) ',
  ' S 00600010,8',
  'SYSCALL[4242,1](334) unimplemented (by the kernel) syscall: 334! (ni_syscall)',
  ' --> [pre-fail] Failure(0x26) ',
  'SYSCALL[4242,1](257) sys_openat ( 4294967196, 0x4034bb0(/lib/libfoo.so), 524288 ) --> [async] ... ',
  'SYSCALL[4242,1](257) ... [async] --> Success(0x3) ',
  'SYSCALL[4242,1](9) sys_mmap ( 0x0, 8192, 5, 2050, 3, 0 ) --> [pre-success] Success(0x30000000) ',
  'I  30000010,3',
  'SYSCALL[4242,1](0) sys_read ( 3, 0x10001100, 832 ) --> [async] ... ',
  'SYSCALL[4242,1](0) ... [async] --> Success(0x340) ',
  ' S 7ffffffde008,8',
  ' S 7fffffffe000,8',
  'SYSCALL[4242,1](11) sys_munmap ( 0x30000000, 8192 )[sync] --> Success(0x0) ',
  'SYSCALL[4242,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) ',
  '==4242== ',
  '==4242== Counted 1 call to main()',
  '',
].join('\n');

describe('lackey lines', () => {
  let recs: TraceRecord[];
  let summary: ImportSummary;
  beforeAll(async () => {
    ({ recs, summary } = await importAll(tmp('hand.txt', HAND)));
  });

  it('turns every kind of line into the right record, in program order', () => {
    const shown = recs.map((r) => {
      if (isAccess(r)) return `${r.op} ${r.addr.toString(16)},${r.size}${r.ifetch ? ' ifetch' : ''}${r.kernel ? ' kernel' : ''}`;
      switch (r.op) {
        case 'mmap':
          return `mmap ${r.addr.toString(16)} ${r.len} ${r.flags.join('|')} ${r.backing.kind === 'anon' ? 'anon' : `${r.backing.kind}:${r.backing.name}`} -> ${r.result!.toString(16)}`;
        case 'munmap':
        case 'mprotect':
        case 'madvise':
          return `${r.op} ${r.addr.toString(16)} ${r.len}`;
        case 'mremap':
          return `mremap ${r.addr.toString(16)} ${r.oldLen}->${r.newLen} ${r.flags.join('|')} ${r.newAddr?.toString(16)} -> ${r.result!.toString(16)}`;
        case 'brk':
          return `brk ${r.addr.toString(16)}`;
        case 'exec':
          return `exec brk_start=${r.brkStart!.toString(16)}`;
        default:
          return r.op;
      }
    });
    expect(shown).toEqual([
      'exec brk_start=600000',
      'brk 0',
      'mmap 0 16384 private|anonymous anon -> 10000000',
      // The executable's text: no syscall shows its mapping, so it is synthesised before its first use.
      'mmap 401000 4096 private|anonymous|fixed anon -> 401000',
      'read 401000,4 ifetch',
      'read 10000010,8',
      'write 10000ffe,4', // crosses into the next page: one record, the replay splits it
      'write 10001000,8', // M: one store
      'madvise 10001000 4096', // emitted when its [async] result arrives
      'mprotect 10000000 4096',
      // It moved: pinned to the recorded address (MREMAP_FIXED), the replay would grow it in place.
      'mremap 10002000 8192->16384 maymove|fixed 20000000 -> 20000000',
      'write 20003ff8,8',
      'brk 602000',
      'write 600010,8',
      'mmap 0 8192 private file:/lib/libfoo.so -> 30000000',
      'read 30000010,3 ifetch',
      'write 10001100,832 kernel', // what read() stored into the user buffer
      // The stack: one synthesised mapping, then a second one 32 pages above (beyond SYNTH_GAP_PAGES).
      'mmap 7ffffffde000 4096 private|anonymous|fixed anon -> 7ffffffde000',
      'write 7ffffffde008,8',
      'mmap 7fffffffe000 4096 private|anonymous|fixed anon -> 7fffffffe000',
      'write 7fffffffe000,8',
      'munmap 30000000 8192',
    ]);
    const mm = recs.find((r): r is Extract<TraceOp, { op: 'mmap' }> => r.op === 'mmap')!;
    expect(mm.prot).toEqual({ read: true, write: true, exec: false });
    expect(recs.every((r) => r.pid === 1)).toBe(true);
  });

  it('counts what it skipped and explains what it invented', () => {
    expect(summary).toMatchObject({
      // 31 lines (the text ends with a newline); pages: 401, 10000-10001, 20003, 600, 30000 and two stack pages.
      importer: 'lackey',
      lines: 31,
      reads: 3,
      writes: 7,
      pages: 8,
      malformed: 0,
      ops: { exec: 1, brk: 2, mmap: 5, madvise: 1, mprotect: 1, mremap: 1, munmap: 1 },
      // munmap EINVAL and the unimplemented call; the openat and exit_group lines.
      skipped: { 'valgrind message': 5, 'failed syscall': 2, 'syscall not modelled': 2 },
    });
    expect(summary.records).toBe(recs.length);
    expect(summary.notes.join('\n')).toMatch(/process 4242 of the recording is pid 1/);
    expect(summary.notes.join('\n')).toMatch(/3 mappings synthesised/);
    expect(summary.notes.join('\n')).toMatch(/1 kernel stores into user buffers were added/);
  });

  it('replays with every access inside a VMA and every op succeeding', async () => {
    const t = await importLackey(join(dir, 'hand.txt'));
    await writeTrace(join(dir, 'hand.ptrace'), t.header, t.chunks);
    const run = await runScenario(join(dir, 'hand.ptrace'), LANES);
    for (const lane of LANES) {
      expect(counter(run, lane, 'fault_sigsegv'), lane).toBe(0);
      expect(errorsOf(run, lane), lane).toEqual([]);
    }
  });

  it('widens a synthesised mapping over a small hole, and says so without SYSCALL lines', async () => {
    const gap = SYNTH_GAP_PAGES * PAGE;
    const text = [
      ' S 7f0000000000,8',
      ` S ${(0x7f0000000000 + PAGE + gap).toString(16)},8`,
      ` L ${(0x7f0000000000 + 2 * PAGE + 2 * gap).toString(16)},8`,
      '',
    ].join('\n');
    const { recs: r, summary: s } = await importAll(tmp('gap.txt', text));
    const mmaps = r.filter((x): x is Extract<TraceOp, { op: 'mmap' }> => x.op === 'mmap').map((m) => [m.addr.toString(16), m.len / PAGE]);
    // Each page is SYNTH_GAP_PAGES pages above the previous one: each hole is filled.
    expect(mmaps).toEqual([
      ['7f0000000000', 1],
      ['7f0000001000', SYNTH_GAP_PAGES + 1],
      [(0x7f0000000000 + (SYNTH_GAP_PAGES + 2) * PAGE).toString(16), SYNTH_GAP_PAGES + 1],
    ]);
    // One more page with a hole of SYNTH_GAP_PAGES + 1: a mapping of its own.
    const far = ` S ${(0x7f0000000000 + (4 + 3 * SYNTH_GAP_PAGES) * PAGE).toString(16)},8`;
    const { recs: r2 } = await importAll(tmp('gap2.txt', `${text}${far}\n`));
    expect(r2.filter((x) => x.op === 'mmap').map((m) => (m as Extract<TraceOp, { op: 'mmap' }>).len / PAGE)).toEqual([
      1,
      SYNTH_GAP_PAGES + 1,
      SYNTH_GAP_PAGES + 1,
      1,
    ]);
    expect(s.notes.join('\n')).toMatch(/no SYSCALL lines .* every mapping is synthesised/);
    expect(s.notes.join('\n')).toMatch(/user-mode accesses only/);
  });

  it('refuses a --pid that is not the process of the log (usage error naming the one it has)', async () => {
    const err = await importAll(join(dir, 'hand.txt'), { pids: [77] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PteplayError);
    expect((err as PteplayError).exitCode).toBe(64);
    expect((err as Error).message).toMatch(/no process 77 in the input \(processes: 4242 \(\d+ lines\)\)/);
  });

  it('malformed lines: located error with strict, counted without', async () => {
    const lines = HAND.split('\n');
    lines.splice(6, 0, ' L 10zz0010,8'); // line 7
    lines.splice(9, 0, 'I  00401000'); // line 10
    lines.splice(11, 0, 'hello from the program'); // line 12
    lines.splice(13, 0, 'SYSCALL[4242](9) sys_mmap'); // line 14
    const p = tmp('bad.txt', lines.join('\n'));
    const err = await importAll(p, { strict: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TraceFormatError);
    expect((err as Error).message).toMatch(/bad\.txt:line 7: expected a hex address and ",size" .*"\s?L 10zz0010,8"/);
    const { summary: s } = await importAll(p);
    expect(s.malformed).toBe(4);
    expect(s.firstMalformed.map((m) => m.line)).toEqual([7, 10, 12, 14]);
    expect(s.firstMalformed[2]!.reason).toMatch(/not a lackey line/);
    expect(s.firstMalformed[3]!.reason).toMatch(/SYSCALL\[pid,tid\]/);
  });

  it('a missing file is a one-line error', async () => {
    await expect(importLackey(join(dir, 'nope.txt'))).rejects.toThrow(PteplayError);
    await expect(importLackey(join(dir, 'nope.txt'))).rejects.toThrow(/cannot open trace .*nope\.txt: no such file/);
  });
});

/** The real recording, decompressed, and what the test computes from it directly. */
const source = gunzipSync(readFileSync(FIXTURE)).toString('utf8');
const srcLines = source.split('\n');
const count = (re: RegExp) => srcLines.filter((l) => re.test(l)).length;
const SRC = {
  I: count(/^I {2}[0-9a-f]+,\d+$/),
  L: count(/^ L [0-9a-f]+,\d+$/),
  S: count(/^ S [0-9a-f]+,\d+$/),
  M: count(/^ M [0-9a-f]+,\d+$/),
  mmaps: srcLines
    .map((l) => /sys_mmap \( (0x[0-9a-f]+), (\d+), (\d+), (\d+), (\d+), (\d+) \).*Success\((0x[0-9a-f]+)\)/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ addr: Number(m![1]), len: Number(m![2]), result: Number(m![7]) })),
  munmaps: count(/sys_munmap .*Success/),
  reads: srcLines.filter((l) => /sys_(read|pread64) \(/.test(l)).length,
};

describe('real fixture: valgrind lackey of traces/real/mmap-demo.c', () => {
  let recs: TraceRecord[];
  let summary: ImportSummary;
  beforeAll(async () => {
    ({ recs, summary } = await importAll(FIXTURE));
  });

  it('is a real recording of the program', () => {
    expect(source).toMatch(/^==\d+== Lackey, an example Valgrind tool/);
    expect(source).toMatch(/Using Valgrind-3\.19\.0/);
    expect(source).toMatch(/Command: \.\/mmap-demo/);
    expect(SRC.I).toBeGreaterThan(100_000);
    expect(SRC.mmaps.length).toBeGreaterThan(10);
  });

  it('every I/L/S/M line is one access record; nothing else is an access but read() buffers', () => {
    const acc = recs.filter(isAccess);
    const user = acc.filter((a) => !a.kernel);
    expect(user.filter((a) => a.op === 'read' && a.ifetch).length).toBe(SRC.I);
    expect(user.filter((a) => a.op === 'read' && !a.ifetch).length).toBe(SRC.L);
    expect(user.filter((a) => a.op === 'write').length).toBe(SRC.S + SRC.M);
    expect(summary.reads).toBe(SRC.I + SRC.L);
    const kernel = acc.filter((a) => a.kernel);
    expect(kernel.length).toBeGreaterThan(0);
    expect(kernel.length).toBeLessThanOrEqual(SRC.reads);
    expect(summary.writes).toBe(SRC.S + SRC.M + kernel.length);
    expect(summary.records).toBe(recs.length);
    expect(summary.malformed).toBe(0);
    expect(summary.lines).toBe(srcLines.length - (source.endsWith('\n') ? 1 : 0));
    // A page-crossing store of the program (memcpy over the page 1/2 boundary of its first mapping) keeps its size.
    expect(acc.some((a) => a.op === 'write' && Math.floor(a.addr / PAGE) !== Math.floor((a.addr + a.size - 1) / PAGE))).toBe(true);
  });

  it('every successful mmap of the log is an op, in order, placed where the kernel put it', () => {
    const mmaps = recs.filter((r): r is Extract<TraceOp, { op: 'mmap' }> => r.op === 'mmap');
    let k = 0;
    for (const m of mmaps)
      if (k < SRC.mmaps.length && m.result === SRC.mmaps[k]!.result && m.addr === SRC.mmaps[k]!.addr && m.len === SRC.mmaps[k]!.len) k++;
    expect(k).toBe(SRC.mmaps.length);
    expect(recs.filter((r) => r.op === 'munmap').length).toBeGreaterThanOrEqual(SRC.munmaps);
    for (const op of ['mprotect', 'madvise', 'mremap', 'brk', 'exec']) expect(summary.ops[op], op).toBeGreaterThan(0);
    // The program's mremap (grow 2 → 16 pages, moved) and its failing unaligned munmap.
    const mr = recs.find((r): r is Extract<TraceOp, { op: 'mremap' }> => r.op === 'mremap')!;
    expect([mr.oldLen, mr.newLen, mr.flags, mr.newAddr]).toEqual([2 * PAGE, 16 * PAGE, ['maymove', 'fixed'], mr.result]);
    expect(summary.skipped['failed syscall']).toBe(count(/Failure\(0x[0-9a-f]+\)/));
  });

  it('synthesises only what valgrind mapped before the program ran, never valgrind itself', () => {
    const logged = new Set(SRC.mmaps.map((m) => m.result));
    const synth = recs.filter((r): r is Extract<TraceOp, { op: 'mmap' }> => r.op === 'mmap' && !logged.has(r.result!));
    expect(synth.length).toBeGreaterThan(0);
    // The executable (non-PIE load base 0x108000 under valgrind), ld.so (0x4000000) and the client stack (below 0x2000000000).
    const areas = [
      [0x100000, 0x200000],
      [0x4000000, 0x4035000],
      [0x1ff0000000, 0x2000000000],
    ];
    for (const m of synth)
      expect(
        areas.some(([a, b]) => m.addr >= a! && m.addr + m.len <= b!),
        m.addr.toString(16),
      ).toBe(true);
    // valgrind's own text is loaded at 0x58000000 on amd64 Linux: lackey shows no access there.
    expect(recs.filter(isAccess).some((a) => a.addr >= 0x58000000 && a.addr < 0x60000000)).toBe(false);
    expect(summary.notes.join('\n')).toMatch(/synthesised for accesses outside every mapping the SYSCALL lines show/);
  });

  it('replays through the lanes with every access inside a VMA and every recorded op succeeding', async () => {
    const { run } = await importAndReplay(FIXTURE, 'fixture');
    for (const lane of LANES) {
      expect(counter(run, lane, 'fault_sigsegv'), lane).toBe(0);
      expect(errorsOf(run, lane), lane).toEqual([]);
    }
  });

  it('without its SYSCALL lines: synthesised mappings cover every access', async () => {
    const stripped = srcLines.filter((l) => !l.startsWith('SYSCALL[') && !l.startsWith(' -->')).join('\n');
    const p = tmp('nosys.txt', stripped);
    const { run, summary: s } = await importAndReplay(p, 'nosys');
    for (const lane of LANES) expect(counter(run, lane, 'fault_sigsegv'), lane).toBe(0);
    expect(Object.keys(s.ops)).toEqual(['mmap']);
    expect(s.reads).toBe(SRC.I + SRC.L);
    expect(s.writes).toBe(SRC.S + SRC.M);
    expect(s.notes.join('\n')).toMatch(/no SYSCALL lines .*every mapping is synthesised/);
    // Progress: bytes of the plain file against its size; for the gzip fixture the total is unknown (0).
    const seen: Array<{ bytes: number; totalBytes: number; records: number }> = [];
    const t = await importLackey(p, { onProgress: (x) => seen.push(x) });
    for await (const _c of t.chunks);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({ bytes: Buffer.byteLength(stripped), totalBytes: Buffer.byteLength(stripped), records: t.summary().records });
    const gz: number[] = [];
    const tg = await importLackey(FIXTURE, { onProgress: (x) => gz.push(x.totalBytes) });
    for await (const _c of tg.chunks);
    expect(new Set(gz)).toEqual(new Set([0]));
  });

  it('a corrupted copy: located error with strict, counted malformed lines without, and no crash', async () => {
    const lines = [...srcLines];
    const spots = [1000, 50_000, 120_000, 160_000];
    lines[spots[0]! - 1] = 'I  04zz1ab70,3';
    lines[spots[1]! - 1] = lines[spots[1]! - 1]!.slice(0, 5);
    lines[spots[2]! - 1] = 'SYSCALL[oops';
    lines[spots[3]! - 1] = '\u0000\u0001garbage';
    const p = tmp('corrupt.txt.gz', gzipSync(lines.join('\n')));
    const err = await importAll(p, { strict: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TraceFormatError);
    expect((err as Error).message).toMatch(/corrupt\.txt\.gz:line 1000: expected a hex address/);
    const { run, summary: s } = await importAndReplay(p, 'corrupt');
    expect(s.malformed).toBe(4);
    expect(s.firstMalformed.map((m) => m.line)).toEqual(spots);
    for (const lane of LANES) expect(counter(run, lane, 'fault_sigsegv'), lane).toBe(0);
    // A truncated gzip stream is a located error too.
    const gz = readFileSync(FIXTURE);
    const cut = tmp('cut.txt.gz', gz.subarray(0, gz.length >> 1));
    await expect(importAll(cut)).rejects.toThrow(/cut\.txt\.gz:byte offset \d+: corrupt or truncated gzip data/);
  });
});
