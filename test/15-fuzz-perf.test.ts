/**
 * Property-based fuzzing of the perf script importer (issue 13 item 9), in both layouts: perf's
 * default one and `-F pid,tid,time,event,trace --show-mmap-events` (traces/real/).
 *
 * Inputs: windows of the real recordings with line mutations (deletion, duplication, splicing,
 * truncation, bit flips, numbers replaced by huge, negative or NaN-ish values; sometimes gzip with
 * byte mutations), random bytes, lines of random events with random values, and valid generated
 * sessions. The property: the import either hands out a valid trace whose summary adds up, or fails
 * with a one-line located error; a valid session imports with no malformed line, one access per
 * fault, in order. FUZZ_RUNS cases in all (test/helpers/fuzz.ts).
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { importPerf } from '../src/trace/importers/perf.js';
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
import { accessesOf, hex, importAll, importProperty, numTok, PERF_F, PERF_PLAIN, smallLen, userAddr } from './helpers/fuzz-import.js';

const inputs = new FuzzInputs('pteplay-fuzz-perf-');
afterAll(() => inputs.remove());

/** One perf script line of a random event, in the default or the -F pid,tid,time layout, with random values. */
const perfLineArb: fc.Arbitrary<string> = (() => {
  const id = fc.oneof({ arbitrary: fc.constantFrom('100', '101', '1', '0'), weight: 6 }, fc.constantFrom(...NASTY_NUMBERS));
  const addr = numTok(userAddr);
  const len = numTok(smallLen);
  const small = numTok(fc.integer({ min: 0, max: 0x2000ff }));
  const rest: fc.Arbitrary<[string, string]> = fc.oneof(
    fc.tuple(
      fc.constantFrom('exceptions:page_fault_user', 'exceptions:page_fault_kernel'),
      fc.tuple(addr, small).map(([a, e]) => `address=${a} ip=0x401000 error_code=${e}`),
    ),
    fc.tuple(
      fc.constant('syscalls:sys_enter_mmap'),
      fc
        .tuple(addr, len, small, small, small, len)
        .map(([a, l, p, f, fd, o]) => `addr: ${a}, len: ${l}, prot: ${p}, flags: ${f}, fd: ${fd}, off: ${o}`),
    ),
    fc.tuple(
      fc.constantFrom('syscalls:sys_enter_munmap'),
      fc.tuple(addr, len).map(([a, l]) => `addr: ${a}, len: ${l}`),
    ),
    fc.tuple(
      fc.constantFrom('syscalls:sys_enter_mprotect'),
      fc.tuple(addr, len, small).map(([a, l, p]) => `start: ${a}, len: ${l}, prot: ${p}`),
    ),
    fc.tuple(
      fc.constantFrom('syscalls:sys_enter_madvise'),
      fc.tuple(addr, len, small).map(([a, l, b]) => `start: ${a}, len_in: ${l}, behavior: ${b}`),
    ),
    fc.tuple(
      fc.constantFrom('syscalls:sys_enter_mremap'),
      fc.tuple(addr, len, len, small, addr).map(([a, o, n, f, na]) => `addr: ${a}, old_len: ${o}, new_len: ${n}, flags: ${f}, new_addr: ${na}`),
    ),
    fc.tuple(
      fc.constantFrom('syscalls:sys_enter_brk'),
      addr.map((a) => `brk: ${a}`),
    ),
    fc.tuple(
      fc.constantFrom(
        'syscalls:sys_exit_mmap',
        'syscalls:sys_exit_munmap',
        'syscalls:sys_exit_mprotect',
        'syscalls:sys_exit_madvise',
        'syscalls:sys_exit_mremap',
        'syscalls:sys_exit_brk',
      ),
      fc.oneof(addr, fc.constant('0x0'), fc.constant('0xfffffffffffffff4')),
    ),
    fc.tuple(
      fc.constant('PERF_RECORD_MMAP2'),
      fc
        .tuple(
          id,
          id,
          addr,
          len,
          small,
          fc.constantFrom('rw-p', 'r-xp', 'r--s', 'x', '---p'),
          fc.constantFrom('//anon', '[stack]', '/usr/lib/libc.so.6', '/memfd:x (deleted)', ''),
        )
        .map(([p, t, a, l, o, perms, name]) => `${p}/${t}: [${a}(${l}) @ ${o} fe:00 42 0]: ${perms} ${name}`),
    ),
    fc.tuple(
      fc.constantFrom('PERF_RECORD_FORK', 'PERF_RECORD_EXIT'),
      fc.tuple(id, id, id, id).map(([a, b, c, d]) => `(${a}:${b}):(${c}:${d})`),
    ),
    fc.tuple(
      fc.constant('task:task_newtask'),
      fc
        .tuple(id, fc.constantFrom('1200000', '3d0f00', '100', 'zz', ...NASTY_NUMBERS))
        .map(([p, f]) => `pid=${p} comm=x clone_flags=${f} oom_score_adj=0`),
    ),
    fc.tuple(
      fc.constant('sched:sched_process_exec'),
      fc.tuple(id, id).map(([p, o]) => `filename=/bin/x pid=${p} old_pid=${o}`),
    ),
    fc.tuple(
      fc.constant('sched:sched_process_exit'),
      fc.tuple(id, fc.boolean()).map(([p, g]) => `comm=x pid=${p} prio=120 group_dead=${g}`),
    ),
    fc.tuple(
      fc.constant('sched:sched_process_fork'),
      fc.tuple(id, id).map(([p, c]) => `comm=x pid=${p} child_comm=y child_pid=${c}`),
    ),
    fc.tuple(
      fc.constantFrom('page-faults', 'mem-stores', 'cpu-clock'),
      fc.tuple(addr, addr).map(([a, ip]) => `${a.replace(/^0x/, '')} ${ip} main+0x10 (/bin/x)`),
    ),
  );
  const time = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 999999 }).map((us) => `5000.${String(us).padStart(6, '0')}`), weight: 4 },
    fc.constantFrom('1e400.5', '99999999999999999999999999999999999999.000001', '0.000000'),
  );
  return fc
    .tuple(fc.boolean(), fc.constantFrom('sh', 'my prog', 'x'), id, id, time, rest)
    .map(([dflt, comm, pid, tid, t, [ev, r]]) => (dflt ? `${comm.padStart(16)} ${tid} [001] ${t}: ${ev}: ${r}` : `${pid}/${tid}  ${t}: ${ev}: ${r}`));
})();

type PerfSession = typeof perfSessionArb extends fc.Arbitrary<infer T> ? T : never;

/** A valid perf session of one process: mmaps, munmaps and mprotects that succeed, and page faults (the oracle: one access each). */
const perfSessionArb = fc.record({
  dflt: fc.boolean(),
  steps: fc
    .array(
      fc.oneof(
        fc.record({ k: fc.constant('mmap' as const), addr: userAddr.map((a) => a - (a % 4096)), len: smallLen, prot: fc.constantFrom(1, 3, 5, 7) }),
        fc.record({ k: fc.constantFrom('munmap' as const, 'mprotect' as const), addr: userAddr.map((a) => a - (a % 4096)), len: smallLen }),
        { arbitrary: fc.record({ k: fc.constant('fault' as const), addr: userAddr, write: fc.boolean(), kernel: fc.boolean() }), weight: 4 },
      ),
      { maxLength: 60 },
    )
    // A session without a fault has nothing to import and is refused by design (exit 65): not a valid session.
    .filter((steps) => steps.some((st) => st.k === 'fault')),
});

function perfSession(s: PerfSession): { text: string; faults: { addr: number; write: boolean }[] } {
  let us = 0;
  const line = (ev: string, rest: string) => {
    const t = `6000.${String(us++).padStart(6, '0')}`;
    return s.dflt ? `            prog   100 [000] ${t}: ${ev}: ${rest}` : `100/100  ${t}: ${ev}: ${rest}`;
  };
  const out: string[] = [];
  const faults: { addr: number; write: boolean }[] = [];
  for (const st of s.steps) {
    if (st.k === 'mmap') {
      out.push(
        line(
          'syscalls:sys_enter_mmap',
          `addr: 0x00000000, len: ${hex(st.len)}, prot: ${hex(st.prot)}, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000`,
        ),
        line('syscalls:sys_exit_mmap', hex(st.addr)),
      );
    } else if (st.k === 'munmap') {
      out.push(line('syscalls:sys_enter_munmap', `addr: ${hex(st.addr)}, len: ${hex(st.len)}`), line('syscalls:sys_exit_munmap', '0x0'));
    } else if (st.k === 'mprotect') {
      out.push(
        line('syscalls:sys_enter_mprotect', `start: ${hex(st.addr)}, len: ${hex(st.len)}, prot: 0x00000001`),
        line('syscalls:sys_exit_mprotect', '0x0'),
      );
    } else if (st.k === 'fault') {
      out.push(
        line(
          st.kernel ? 'exceptions:page_fault_kernel' : 'exceptions:page_fault_user',
          `address=${hex(st.addr)} ip=${st.kernel ? '_copy_to_user' : '0x401000'} error_code=${st.write ? '0x6' : '0x4'}`,
        ),
      );
      faults.push({ addr: st.addr, write: st.write });
    }
  }
  return { text: out.join('\n'), faults };
}

describe('fuzz: perf script importer', () => {
  for (const [flavour, files, share] of [
    ['default layout', PERF_PLAIN, 0.35],
    ['-F pid,tid,time,event,trace layout', PERF_F, 0.25],
  ] as const) {
    it(`mutated real perf script output (${flavour}): a valid trace or a located error`, {
      timeout: testTimeout(FUZZ_RUNS * share, 30),
    }, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...files),
          windowArb(250),
          fc.array(lineMutation, { minLength: 1, maxLength: 5 }),
          joinArb,
          fc.boolean(),
          fc.option(fc.array(byteMutation, { maxLength: 2 }), { nil: null, freq: 10 }),
          async (file, w, muts, j, strict, gz) => {
            const text = joinLines(mutateLines(windowOf(fixtureLines(file), w), muts), j);
            if (gz === null) await importProperty(inputs, importPerf, text, strict);
            else await importProperty(inputs, importPerf, mutateBytes(gzipSync(text), gz), strict, '.txt.gz');
          },
        ),
        fuzzParams(share),
      );
    });
  }

  it('random bytes and lines of random perf events and values: a valid trace or a located error', {
    timeout: testTimeout(FUZZ_RUNS * 0.25, 30),
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }),
          fc.array(perfLineArb, { maxLength: 60 }).map((ls) => ls.join('\n')),
        ),
        fc.boolean(),
        async (data, strict) => {
          await importProperty(inputs, importPerf, data, strict);
        },
      ),
      fuzzParams(0.25),
    );
  });

  it('valid perf sessions import with no malformed line, one access per fault, in order', {
    timeout: testTimeout(FUZZ_RUNS * 0.15, 30),
  }, async () => {
    await fc.assert(
      fc.asyncProperty(perfSessionArb, async (s) => {
        const { text, faults } = perfSession(s);
        const r = await importProperty(inputs, importPerf, text, true);
        expect(r, 'a valid session imports').not.toBeNull();
        expect(r!.summary.malformed).toBe(0);
        expect(accessesOf(r!.chunks).map((a) => ({ addr: a.addr, write: a.op === 'write' }))).toEqual(faults);
      }),
      fuzzParams(0.15),
    );
  });
});

describe('fuzz regressions: perf script importer', () => {
  /** Valid faults after the case's lines, so that its malformed lines stay a minority (an import of mostly garbage may be refused). */
  const PAD = Array.from(
    { length: 24 },
    (_, k) =>
      `            prog   100 [000] 20.${String(k).padStart(6, '0')}: exceptions:page_fault_user: address=0x7e0000000000 ip=0x401000 error_code=0x4`,
  );
  const importText = async (lines: string[], strict = false) => {
    const r = await importAll(importPerf, inputs.write([...lines, ...PAD].join('\n'), '.txt'), strict);
    const records = r.chunks.flatMap((c) => [...recordsOfChunk(c)]);
    // The case's own records: without the padding's loads and the page mapped for them.
    const mine = records.filter((x) => !('addr' in x) || Math.floor(x.addr / 4096) !== 0x7e0000000000 / 4096);
    return { ...r, mine: accessesOf(r.chunks).filter((a) => a.addr !== 0x7e0000000000), mmaps: mine.filter((x) => x.op === 'mmap') };
  };
  const at = (t: string, ev: string, rest: string, tid = '100') => `            prog ${tid.padStart(5)} [000] ${t}: ${ev}: ${rest}`;
  const fault = (t: string, addr: string, tid?: string) => at(t, 'exceptions:page_fault_user', `address=${addr} ip=0x401000 error_code=0x6`, tid);
  const mmapEnter = (t: string, len: string, flags = '0x00000022', fd = '0xffffffff') =>
    at(t, 'syscalls:sys_enter_mmap', `addr: 0x00000000, len: ${len}, prot: 0x00000003, flags: ${flags}, fd: ${fd}, off: 0x00000000`);

  it('pids and tids beyond 2^31 or negative are malformed lines (they became fork children of 2^64)', async () => {
    const r = await importText([
      fault('10.000001', '0x7f0000001000', '18446744073709551615'),
      fault('10.000002', '0x7f0000001000', '-5'),
      at('10.000003', 'task:task_newtask', 'pid=18446744073709551615 comm=x clone_flags=1200000 oom_score_adj=0'),
      at('10.000004', 'PERF_RECORD_FORK', '(2147483648:2147483648):(100:100)'),
      fault('10.000005', '0x7f0000001000', '-0'),
      fault('10.000006', '0x7f0000002000'),
    ]);
    expect(r.summary.firstMalformed.map((m) => m.line)).toEqual([1, 2, 3, 4, 5]);
    expect(r.mine.map((a) => [a.pid, a.addr])).toEqual([[100, 0x7f0000002000]]);
    checkValidChunks(r.chunks);
  });

  it('a successful call with an argument or result beyond 2^53 is malformed at its sys_exit (a failed one is still skipped)', async () => {
    const r = await importText([
      mmapEnter('10.000001', '0xffffffffffffffff'),
      at('10.000002', 'syscalls:sys_exit_mmap', '0x7f0000100000'),
      mmapEnter('10.000003', '0xffffffffffffffff'),
      at('10.000004', 'syscalls:sys_exit_mmap', '0xfffffffffffffff4'),
      mmapEnter('10.000005', '0x2000'),
      at('10.000006', 'syscalls:sys_exit_mmap', '0x7fffffffffffffff'),
      at('10.000007', 'syscalls:sys_enter_brk', 'brk: 0x00000000'),
      at('10.000008', 'syscalls:sys_exit_brk', '0xfffffffffffffff4'),
    ]);
    expect(r.summary.firstMalformed.map((m) => [m.line, m.reason.replace(/:.*/, '')])).toEqual([
      [2, 'sys_exit_mmap of the sys_enter_mmap at line 1'],
      [6, 'sys_exit_mmap of the sys_enter_mmap at line 5'],
      [8, 'sys_exit_brk of the sys_enter_brk at line 7'],
    ]);
    expect(r.summary.skipped['failed mmap']).toBe(1);
    checkValidChunks(r.chunks);
  });

  it('a time beyond the range of a double in ns is no time, not Infinity', async () => {
    const r = await importText([fault('10.000001', '0x7f0000001000'), fault(`${'9'.repeat(300)}.000001`, '0x7f0000002000')]);
    expect(r.mine.map((a) => a.t)).toEqual([0, NaN]);
    checkValidChunks(r.chunks);
  });

  it('an mmap of /dev/zero (MAP_PRIVATE, no MAP_ANONYMOUS) is written as anonymous memory (it was anon backing without the flag)', async () => {
    const r = await importText([
      mmapEnter('10.000001', '0x2000', '0x00000002', '0x00000003'),
      at('10.000002', 'PERF_RECORD_MMAP2', '100/100: [0x7f0000100000(0x2000) @ 0 00:06 4 0]: rw-p /dev/zero'),
      at('10.000003', 'syscalls:sys_exit_mmap', '0x7f0000100000'),
    ]);
    expect(r.mmaps).toMatchObject([{ flags: ['private', 'anonymous'], backing: { kind: 'anon' }, result: 0x7f0000100000 }]);
    checkValidChunks(r.chunks);
  });
  it('a PERF_RECORD_MMAP2 that would end beyond user space is malformed (its page-rounded length went past 2^53)', async () => {
    const r = await importText([
      at('10.000001', 'PERF_RECORD_MMAP2', '100/100: [0x400000(0x1fffffffffffff) @ 0x0 fe:00 42 0]: rw-p //anon'),
      at('10.000002', 'PERF_RECORD_MMAP2', '100/100: [0x7f0000000000(0x2000) @ 0x0 fe:00 42 0]: rw-p //anon'),
      fault('10.000003', '0x7f0000001000'),
    ]);
    expect(r.summary.firstMalformed.map((m) => m.line)).toEqual([1]);
    expect(r.mmaps).toHaveLength(1);
    checkValidChunks(r.chunks);
  });
});
