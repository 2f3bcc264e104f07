/**
 * Property-based fuzzing of the valgrind lackey importer (issue 13 item 9).
 *
 * Inputs: windows of the real log (traces/real/lackey-mmap-demo.txt.gz, also with most memory lines
 * dropped so that mutations reach the syscall lines) with line mutations, sometimes gzip with byte
 * mutations, random bytes, lines of random lackey records with random values, and valid generated
 * logs. The property: the import either hands out a valid trace whose summary adds up, or fails with a
 * one-line located error; a valid log imports with no malformed line, one access per memory line, in
 * order. FUZZ_RUNS cases in all (test/helpers/fuzz.ts).
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { importLackey } from '../src/trace/importers/lackey.js';
import { recordsOfChunk } from '../src/trace/records.js';
import {
  byteMutation,
  checkValidChunks,
  fixtureLines,
  FuzzInputs,
  fuzzParams,
  FUZZ_RUNS,
  joinArb,
  joinLines,
  lineMutation,
  mutateBytes,
  mutateLines,
  NASTY_NUMBERS,
  testTimeout,
  windowArb,
  windowOf,
} from './helpers/fuzz.js';
import { accessesOf, hex, importAll, importProperty, LACKEY, lackeySparse, numTok, smallLen, userAddr } from './helpers/fuzz-import.js';

const inputs = new FuzzInputs('pteplay-fuzz-lackey-');
afterAll(() => inputs.remove());

/** One lackey line of a random kind with random values. */
const lackeyLineArb: fc.Arbitrary<string> = (() => {
  const addr = numTok(userAddr);
  const len = fc.oneof({ arbitrary: smallLen.map(String), weight: 3 }, fc.constantFrom(...NASTY_NUMBERS));
  const small = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 50 }).map(String), weight: 3 }, fc.constantFrom(...NASTY_NUMBERS));
  const hexDigits = fc.oneof(
    userAddr.map((a) => a.toString(16).padStart(8, '0')),
    fc.constantFrom('', 'ffffffffffffffff', '1ffffffffffffffff', 'zz', '0'),
  );
  const result = fc.tuple(fc.constantFrom('Success', 'Failure'), addr).map(([k, v]) => `${k}(${v.startsWith('0x') ? v : `0x${v}`})`);
  const call = fc.oneof(
    fc.tuple(addr, len, small, small, small, small).map((a) => ['mmap', a.join(', ')] as const),
    fc.tuple(addr, len).map((a) => ['munmap', a.join(', ')] as const),
    fc.tuple(addr, len, small).map((a) => ['mprotect', a.join(', ')] as const),
    fc.tuple(addr, len, small).map((a) => ['madvise', a.join(', ')] as const),
    fc.tuple(addr, len, len, small, addr).map((a) => ['mremap', a.join(', ')] as const),
    addr.map((a) => ['brk', a] as const),
    fc.tuple(small, addr, len).map((a) => ['read', a.join(', ')] as const),
    fc.tuple(small, addr, len, small).map((a) => ['pread64', a.join(', ')] as const),
    fc.tuple(small, addr).map(([d, a]) => ['openat', `${d}, ${a}(/tmp/f), 0`] as const),
    small.map((d) => ['close', d] as const),
  );
  return fc.oneof(
    { arbitrary: fc.tuple(fc.constantFrom('I  ', ' L ', ' S ', ' M '), hexDigits, small).map(([k, a, s]) => `${k}${a},${s}`), weight: 4 },
    fc
      .tuple(
        fc.constantFrom('10830', '1', ...NASTY_NUMBERS),
        call,
        fc.constantFrom('[sync] --> ', ' --> [pre-success] ', ' --> [async] ... ', ''),
        result,
      )
      .map(
        ([pid, [name, args], arrow, res]) =>
          `SYSCALL[${pid},1](9) sys_${name} ( ${args} )${arrow}${arrow.includes('...') || arrow === '' ? '' : res}`,
      ),
    fc.tuple(fc.constantFrom('10830', '1'), result).map(([pid, res]) => `SYSCALL[${pid},1](9) ... [async] --> ${res}`),
    result.map((r) => ` --> [pre-fail] ${r}`),
    fc.constantFrom('==10830== Lackey, an example Valgrind tool', '--10830-- warning', '**10830** x', '', '  '),
  );
})();

/** Valid lackey memory lines (and successful anonymous mmaps): the oracle is one access per memory line. */
const lackeySessionArb = fc
  .array(
    fc.oneof(
      {
        arbitrary: fc.record({
          k: fc.constantFrom('I', 'L', 'S', 'M'),
          addr: fc.integer({ min: 0x1000, max: 0x7ffffffff000 }),
          size: fc.integer({ min: 1, max: 64 }),
        }),
        weight: 5,
      },
      fc.record({ k: fc.constant('mmap' as const), addr: userAddr.map((a) => a - (a % 4096)), size: smallLen }),
    ),
    { maxLength: 80 },
  )
  // A log with no memory line has nothing to import and is refused by design (exit 65): not a valid session.
  .filter((steps) => steps.some((s) => s.k !== 'mmap'));

describe('fuzz: valgrind lackey importer', () => {
  it('mutated real lackey logs: a valid trace or a located error', { timeout: testTimeout(FUZZ_RUNS * 0.5, 30) }, async () => {
    const pools = [lackeySparse(), fixtureLines(LACKEY)];
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 1 }),
        windowArb(250),
        fc.array(lineMutation, { minLength: 1, maxLength: 5 }),
        joinArb,
        fc.boolean(),
        fc.option(fc.array(byteMutation, { maxLength: 2 }), { nil: null, freq: 10 }),
        async (pool, w, muts, j, strict, gz) => {
          const text = joinLines(mutateLines(windowOf(pools[pool]!, w), muts), j);
          if (gz === null) await importProperty(inputs, importLackey, text, strict);
          else await importProperty(inputs, importLackey, mutateBytes(gzipSync(text), gz), strict, '.txt.gz');
        },
      ),
      fuzzParams(0.5),
    );
  });

  it('random bytes and lines of random lackey records and values: a valid trace or a located error', {
    timeout: testTimeout(FUZZ_RUNS * 0.3, 30),
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }),
          fc.array(lackeyLineArb, { maxLength: 60 }).map((ls) => ls.join('\n')),
        ),
        fc.boolean(),
        async (data, strict) => {
          await importProperty(inputs, importLackey, data, strict);
        },
      ),
      fuzzParams(0.3),
    );
  });

  it('valid lackey lines import with no malformed line, one access per memory line, in order', {
    timeout: testTimeout(FUZZ_RUNS * 0.2, 30),
  }, async () => {
    await fc.assert(
      fc.asyncProperty(lackeySessionArb, async (steps) => {
        const lines = [
          '==4242== Lackey, an example Valgrind tool',
          ...steps.map((s) =>
            s.k === 'mmap'
              ? `SYSCALL[4242,1](9) sys_mmap ( 0x0, ${s.size}, 3, 34, 4294967295, 0 ) --> [pre-success] Success(${hex(s.addr)})`
              : `${s.k === 'I' ? 'I  ' : ` ${s.k} `}${s.addr.toString(16).padStart(8, '0')},${s.size}`,
          ),
        ];
        const r = await importProperty(inputs, importLackey, lines.join('\n'), true);
        expect(r, 'a valid log imports').not.toBeNull();
        expect(r!.summary.malformed).toBe(0);
        const want = steps.filter((s) => s.k !== 'mmap').map((s) => ({ addr: s.addr, size: s.size, write: s.k === 'S' || s.k === 'M' }));
        expect(accessesOf(r!.chunks).map((a) => ({ addr: a.addr, size: a.size, write: a.op === 'write' }))).toEqual(want);
      }),
      fuzzParams(0.2),
    );
  });
});

describe('fuzz regressions: lackey importer', () => {
  /** Valid loads after the case's lines, so that its malformed lines stay a minority (an import of mostly garbage may be refused). */
  const PAD = Array.from({ length: 24 }, () => ' L 7e0000000000,8');
  const importText = async (lines: string[], strict = false) => {
    const r = await importAll(importLackey, inputs.write([...lines, ...PAD].join('\n'), '.txt'), strict);
    const records = r.chunks.flatMap((c) => [...recordsOfChunk(c)]);
    // The case's own records: without the padding's loads and the page mapped for them.
    const mine = records.filter((x) => !('addr' in x) || Math.floor(x.addr / 4096) !== 0x7e0000000000 / 4096);
    return { ...r, mine: accessesOf(r.chunks).filter((a) => a.addr !== 0x7e0000000000), mmaps: mine.filter((x) => x.op === 'mmap') };
  };

  it('a memory line of size 0 is malformed (it was imported as an access of size 0, which no reader accepts)', async () => {
    const r = await importText(['I  00400000,0', ' S 00401000,8']);
    expect(r.summary.malformed).toBe(1);
    expect(r.summary.firstMalformed[0]).toMatchObject({ line: 1, reason: 'expected a positive decimal size after the address' });
    expect(r.mine.map((a) => [a.op, a.addr, a.size])).toEqual([['write', 0x401000, 8]]);
    checkValidChunks(r.chunks);
    await expect(importText(['I  00400000,0'], true)).rejects.toThrow(/:line 1: expected a positive decimal size/);
  });

  it('syscall arguments and results the trace cannot hold are malformed lines, not ops', async () => {
    const call = (s: string) => `SYSCALL[7,1](9) sys_${s}`;
    const r = await importText([
      '==7== Lackey',
      call('mmap ( -0x1000, 4096, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000)'),
      call('mmap ( 0x0, 99999999999999999999999, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000)'),
      call('mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x20000000000000)'),
      call('mprotect ( -1, 4096, 1 )[sync] --> Success(0x0)'),
      call('munmap ( 0x4835000, 18446744073709551615 )[sync] --> Success(0x0)'),
      call('brk ( 0x0 ) --> [pre-success] Success(0x1fffffffffffffff)'),
      call('read ( 3, 0x4835000, 4096 ) --> [pre-success] Success(0x100000000)'),
      call('mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000)'),
    ]);
    expect(r.summary.firstMalformed.map((m) => m.line)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(r.mmaps).toHaveLength(1);
    checkValidChunks(r.chunks);
  });
});
