/**
 * perf script importer: hand-written lines of each kind and layout, then end to end on the real
 * fixtures recorded with traces/real/record-perf.sh (import, replay, compare with the source text).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Command } from 'commander';
import { describe, expect, test } from 'vitest';
import { register } from '../cli/import.js';
import { EXIT, PteplayError, TraceFormatError } from '../src/errors.js';
import { replay } from '../src/run/replay.js';
import { importPerfDetailed, type PerfImport } from '../src/trace/importers/perf.js';
import { parseHeader, parseMmapRecord, parseSampleAddr } from '../src/trace/importers/perf-parse.js';
import { openTrace } from '../src/trace/reader.js';
import { recordsOfChunk } from '../src/trace/records.js';
import type { TraceRecord } from '../src/trace/types.js';
import { writeTrace } from '../src/trace/writer.js';
import { counter, runScenario } from './helpers/scenario.js';

const REAL = join(import.meta.dirname, '..', 'traces', 'real');
const tmp = mkdtempSync(join(tmpdir(), 'pteplay-perf-'));
let fileNo = 0;

function tmpFile(text: string): string {
  const p = join(tmp, `in-${fileNo++}.perf.txt`);
  writeFileSync(p, text);
  return p;
}

async function records(imp: PerfImport): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const c of imp.chunks) out.push(...recordsOfChunk(c));
  return out;
}

async function importText(text: string, opts = {}): Promise<{ imp: PerfImport; recs: TraceRecord[] }> {
  const imp = await importPerfDetailed(tmpFile(text), opts);
  return { imp, recs: await records(imp) };
}

const accesses = (recs: TraceRecord[]) =>
  recs.filter((r): r is Extract<TraceRecord, { op: 'read' | 'write' }> => r.op === 'read' || r.op === 'write');
const ops = (recs: TraceRecord[], name: string) => recs.filter((r) => r.op === name) as Array<Record<string, unknown>>;

// A small hand-written session in perf's default layout: a process running before tracing (pid 100).
const L = {
  mmap2Stack: '   app   100 [000]  10.000000: PERF_RECORD_MMAP2 100/100: [0x7ffd00000000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]',
  mmap2Lib: '   app   100 [000]  10.000001: PERF_RECORD_MMAP2 100/100: [0x7f0000001000(0x3000) @ 0x1000 fe:00 338944 0]: r-xp /usr/lib/libfoo.so',
  enterMmap:
    '   app   100 [000]  10.000010:      syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00004000, prot: 0x00000003, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000',
  exitMmap: '   app   100 [000]  10.000011:       syscalls:sys_exit_mmap: 0x7f0000100000',
  read: '   app   100 [000]  10.000020:   exceptions:page_fault_user: address=0x7f0000100010 ip=0x401000 error_code=0x4',
  write: '   app   100 [000]  10.000021:   exceptions:page_fault_user: address=0x7f0000101010 ip=0x401000 error_code=0x6',
  ifetch: '   app   100 [000]  10.000022:   exceptions:page_fault_user: address=0x7f0000001b70 ip=0x7f0000001b70 error_code=0x14',
  kernelUser: '   app   100 [000]  10.000023: exceptions:page_fault_kernel: address=0x7f0000102000 ip=_copy_to_user error_code=0x2',
  kernelKernel: '   app   100 [000]  10.000024: exceptions:page_fault_kernel: address=0xffff888000001000 ip=memcpy error_code=0x0',
  kernelSym: '   app   100 [000]  10.000025: exceptions:page_fault_kernel: address=init_task+0x10 ip=memcpy error_code=0x0',
  enterFail:
    '   app   100 [000]  10.000030:      syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x10000000000, prot: 0x00000003, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000',
  exitFail: '   app   100 [000]  10.000031:       syscalls:sys_exit_mmap: 0xfffffffffffffff4',
  enterFile:
    '   app   100 [000]  10.000040:      syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00002000, prot: 0x00000001, flags: 0x00000001, fd: 0x00000003, off: 0x00001000',
  exitFile: '   app   100 [000]  10.000041:       syscalls:sys_exit_mmap: 0x7f0000104000',
  enterProt: '   app   100 [000]  10.000050:  syscalls:sys_enter_mprotect: start: 0x7f0000104000, len: 0x00001000, prot: 0x00000000',
  exitProt: '   app   100 [000]  10.000051:   syscalls:sys_exit_mprotect: 0x0',
  enterMadv: '   app   100 [000]  10.000060:   syscalls:sys_enter_madvise: start: 0x7f0000101000, len_in: 0x00001000, behavior: 0x00000004',
  exitMadv: '   app   100 [000]  10.000061:    syscalls:sys_exit_madvise: 0x0',
  enterMadvX: '   app   100 [000]  10.000062:   syscalls:sys_enter_madvise: start: 0x7f0000101000, len_in: 0x00001000, behavior: 0x0000000c',
  exitMadvX: '   app   100 [000]  10.000063:    syscalls:sys_exit_madvise: 0x0',
  enterRemap:
    '   app   100 [000]  10.000070:    syscalls:sys_enter_mremap: addr: 0x7f0000100000, old_len: 0x00004000, new_len: 0x00008000, flags: 0x00000001, new_addr: 0x00000000',
  exitRemap: '   app   100 [000]  10.000071:     syscalls:sys_exit_mremap: 0x7f0000300000',
  enterUnmap: '   app   100 [000]  10.000080:    syscalls:sys_enter_munmap: addr: 0x7f0000104000, len: 0x00002000',
  exitUnmap: '   app   100 [000]  10.000081:     syscalls:sys_exit_munmap: 0x0',
  thread: '   app   100 [000]  10.000090:            task:task_newtask: pid=101 comm=app clone_flags=3d0f00 oom_score_adj=0',
  threadFault: '   app   101 [001]  10.000091:   exceptions:page_fault_user: address=0x7f0000300010 ip=0x401000 error_code=0x6',
  threadExit: '   app   101 [001]  10.000092:     sched:sched_process_exit: comm=app pid=101 prio=120 group_dead=false',
  fork: '   app   100 [000]  10.000100:            task:task_newtask: pid=102 comm=app clone_flags=1200000 oom_score_adj=0',
  forkDup: '   app   100 [000]  10.000101:     sched:sched_process_fork: comm=app pid=100 child_comm=app child_pid=102',
  childCow: '   app   102 [001]  10.000110:   exceptions:page_fault_user: address=0x7f0000300020 ip=0x401000 error_code=0x7',
  childStack: '  true   102 [001]  10.000119: PERF_RECORD_MMAP2 102/102: [0x7ffe00000000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]',
  childMmap2: '  true   102 [001]  10.000120: PERF_RECORD_MMAP2 102/102: [0x555500000000(0x2000) @ 0 fe:00 1 0]: r--p /usr/bin/true',
  childKfault: '  true   102 [001]  10.000121: exceptions:page_fault_kernel: address=0x7ffe00000ff0 ip=_copy_to_user error_code=0x2',
  childExec: '  true   102 [001]  10.000122:     sched:sched_process_exec: filename=/usr/bin/true pid=102 old_pid=102',
  childFault: '  true   102 [001]  10.000123:   exceptions:page_fault_user: address=0x555500000100 ip=0x555500000100 error_code=0x4',
  childBrk0: '  true   102 [001]  10.000124:       syscalls:sys_enter_brk: brk: 0x00000000',
  childBrk0x: '  true   102 [001]  10.000125:        syscalls:sys_exit_brk: 0x555500010000',
  childBrk: '  true   102 [001]  10.000126:       syscalls:sys_enter_brk: brk: 0x555500031000',
  childBrkx: '  true   102 [001]  10.000127:        syscalls:sys_exit_brk: 0x555500031000',
  childHeap: '  true   102 [001]  10.000128:   exceptions:page_fault_user: address=0x555500020008 ip=0x555500000100 error_code=0x6',
  childExit: '  true   102 [001]  10.000130:     sched:sched_process_exit: comm=true pid=102 prio=120 group_dead=true',
  unknownEvent: '   app   100 [000]  10.000140:        sched:sched_switch: prev_comm=app prev_pid=100 ==> next_comm=swapper/0',
  stackFault: '   app   100 [000]  10.000150:   exceptions:page_fault_user: address=0x7ffd00020ff8 ip=0x401000 error_code=0x6',
  unmappedFault: '   app   100 [000]  10.000160:   exceptions:page_fault_user: address=0x600000000010 ip=0x401000 error_code=0x6',
  exit: '   app   100 [000]  10.000200:     sched:sched_process_exit: comm=app pid=100 prio=120 group_dead=true',
};

describe('perf script lines', () => {
  test('header layouts: default, -F pid/tid, no comm, no cpu, no time, period, comm with spaces', () => {
    const ev = 'exceptions:page_fault_user: address=0x7f25e3731b70 ip=0x7f25e3731b70 error_code=0x14';
    const cases: Array<[string, Partial<ReturnType<typeof parseHeader> & object>]> = [
      [`              sh  6077 [001]  5062.165317: ${ev}`, { comm: 'sh', pid: undefined, tid: 6077, cpu: 1, time: 5062.165317 }],
      [`              sh  6077/6078  [001]  5062.165317: ${ev}`, { comm: 'sh', pid: 6077, tid: 6078, cpu: 1 }],
      [` 6077  5062.165317:   ${ev}`, { comm: '', tid: 6077, cpu: undefined, time: 5062.165317 }],
      [` 6077   ${ev}`, { comm: '', tid: 6077 }],
      [`   sh  6077  5062.165317:          1   ${ev}`, { comm: 'sh', tid: 6077, time: 5062.165317 }],
      [`   sh  6077 [001]  5062.165317162:   ${ev}`, { time: 5062.165317162 }],
      [`  Web Content 12  4242 [003]  1.5: ${ev}`, { comm: 'Web Content 12', tid: 4242, cpu: 3 }],
      [`  kworker/0:1  17 [000]  1.0: ${ev}`, { comm: 'kworker/0:1', tid: 17 }],
    ];
    for (const [line, want] of cases) {
      const h = parseHeader(line);
      expect(h, line).not.toBeNull();
      expect(h!.event).toBe('exceptions:page_fault_user');
      expect(h!.rest).toBe('address=0x7f25e3731b70 ip=0x7f25e3731b70 error_code=0x14');
      expect(h).toMatchObject(want);
      if (want.time === undefined && !line.includes('.')) expect(h!.time).toBeNaN();
    }
    expect(parseHeader('garbage')).toBeNull();
    expect(parseHeader('sh 6077 [001] 5062.16 exceptions:page_fault_user address=0x1')).toBeNull();
  });

  test('PERF_RECORD_MMAP2 and samples with addr / data_src', () => {
    const h = parseHeader(
      '            sort  6282 [001]  5077.849060: PERF_RECORD_MMAP2 6282/6283: [0x7fff31620000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]',
    )!;
    expect(h.event).toBe('PERF_RECORD_MMAP2');
    expect(parseMmapRecord(h.rest)).toEqual({
      pid: 6282,
      tid: 6283,
      addr: 0x7fff31620000,
      len: 0x21000,
      offset: 0x7ffffffde000,
      perms: 'rw-p',
      name: '[stack]',
    });
    const s = parseHeader(
      '  sort  6290  5079.310742:          1 page-faults:     556727a1d548 [unknown] (/usr/bin/sort) ffffffff821e8700 rep_stos_alternative+0x40 ([kernel.kallsyms])',
    )!;
    expect(s.event).toBe('page-faults');
    expect(parseSampleAddr(s.event, s.rest)).toMatchObject({ addr: 0x556727a1d548, store: false });
    const m = parseHeader('  a  7/7  1.0: cpu/mem-stores/P:     7fc0c5e1a110 |OP STORE|LVL L1 hit|SNP None| 7fc0c5e017ad _dl_start')!;
    expect(m.event).toBe('cpu/mem-stores/P');
    expect(parseSampleAddr(m.event, m.rest)).toMatchObject({ addr: 0x7fc0c5e1a110, ip: 0x7fc0c5e017ad, store: true });
    // The default layout without -F +addr prints only the ip: no data address.
    expect(parseSampleAddr('page-faults', 'ffffffff821e8700 rep_stos_alternative+0x40 ([kernel.kallsyms])')).toBeNull();
  });

  test('MADV_DONTNEED_LOCKED (24) imports as dontneed, as in the lackey importer (one ABI table: src/trace/linux-abi.ts)', async () => {
    const text = `${Object.values(L)
      .map((l) => (l === L.enterMadvX ? l.replace('behavior: 0x0000000c', 'behavior: 0x00000018') : l))
      .join('\n')}\n`;
    const { imp, recs } = await importText(text);
    expect(ops(recs, 'madvise').map((o) => (o as { advice: string }).advice)).toEqual(['dontneed', 'dontneed']);
    expect(Object.keys(imp.summary().skipped).filter((k) => k.startsWith('madvise'))).toEqual([]);
  });

  test('a hand-written session: every kind of line, in order', async () => {
    const { imp, recs } = await importText(`${Object.values(L).join('\n')}\n`);
    const s = imp.summary();
    const st = imp.stats();
    expect(s.malformed).toBe(0);
    const acc = accesses(recs);
    // page_fault_user: 4 (read, write, ifetch) + thread + child COW + child exec'd (2) + stack + unmapped; kernel faults on user addresses: 2.
    expect(st.userFaults).toBe(9);
    expect(st.kernelFaults).toBe(2);
    expect(acc.length).toBe(11);
    expect(s.reads + s.writes).toBe(11);
    const at = (addr: number) => acc.find((a) => a.addr === addr)!;
    expect(at(0x7f0000100010)).toMatchObject({ op: 'read', pid: 100, kernel: false });
    expect(at(0x7f0000101010)).toMatchObject({ op: 'write', pid: 100 });
    expect(at(0x7f0000001b70)).toMatchObject({ op: 'read', ifetch: true });
    expect(at(0x7f0000102000)).toMatchObject({ op: 'write', kernel: true });
    expect(s.skipped['page_fault_kernel on a kernel address']).toBe(2);
    // The thread (CLONE_VM) shares pid 100's mm; its exit is not the process's.
    expect(at(0x7f0000300010)).toMatchObject({ pid: 100, tid: 101 });
    expect(st.threads).toBe(1);
    // Ops.
    const mm = ops(recs, 'mmap');
    expect(mm.find((o) => o.result === 0x7f0000100000)).toMatchObject({
      len: 0x4000,
      flags: ['private', 'anonymous'],
      backing: { kind: 'anon' },
      prot: { read: true, write: true, exec: false },
    });
    expect(mm.find((o) => o.result === 0x7f0000104000)).toMatchObject({
      flags: ['shared'],
      backing: { kind: 'file', name: 'fd3@100' },
      offset: 0x1000,
    });
    expect(mm.find((o) => o.result === 0x7f0000001000)).toMatchObject({
      backing: { kind: 'file', name: '/usr/lib/libfoo.so' },
      prot: { read: true, write: false, exec: true },
      offset: 0x1000,
    });
    expect(s.skipped['failed mmap']).toBe(1);
    expect(st.failed.mmap).toBe(1);
    expect(ops(recs, 'mprotect')).toEqual([
      expect.objectContaining({ addr: 0x7f0000104000, len: 0x1000, prot: { read: false, write: false, exec: false } }),
    ]);
    expect(ops(recs, 'madvise')).toEqual([expect.objectContaining({ advice: 'dontneed', len: 0x1000 })]);
    expect(s.skipped['madvise(mergeable): not modelled']).toBe(1); // the same reason lackey gives
    expect(ops(recs, 'mremap')).toEqual([
      expect.objectContaining({ addr: 0x7f0000100000, oldLen: 0x4000, newLen: 0x8000, flags: ['maymove'], result: 0x7f0000300000 }),
    ]);
    expect(ops(recs, 'munmap').filter((o) => o.pid === 100)).toEqual([expect.objectContaining({ addr: 0x7f0000104000, len: 0x2000 })]);
    // Processes: 100 is adopted (fork from pid 0: no process the recording did not have), forks 102 once
    // (task_newtask; sched_process_fork deduplicated).
    expect(ops(recs, 'fork')).toEqual([expect.objectContaining({ pid: 0, child: 100 }), expect.objectContaining({ pid: 100, child: 102 })]);
    // 102 execs: its inherited mm is dropped before the new image's mappings (held back until the exec).
    const i = (pred: (r: TraceRecord) => boolean) => recs.findIndex(pred);
    const unmapAll = i((r) => r.op === 'munmap' && r.pid === 102 && r.addr === 0);
    const newImage = i((r) => r.op === 'mmap' && r.pid === 102 && (r as { result?: number }).result === 0x555500000000);
    const kfault = i((r) => r.op === 'write' && r.pid === 102 && r.kernel);
    const exec = i((r) => r.op === 'exec' && r.pid === 102);
    expect(i((r) => r.op === 'read' && r.pid === 102) > exec).toBe(true);
    expect(unmapAll).toBeGreaterThan(i((r) => r.op === 'write' && r.pid === 102 && r.addr === 0x7f0000300020));
    expect(newImage).toBeGreaterThan(unmapAll);
    expect(kfault).toBeGreaterThan(newImage);
    expect(exec).toBeGreaterThan(kfault);
    // The first brk(0) after exec gives the exec its heap start; the heap grows by brk.
    expect(recs[exec]).toMatchObject({ op: 'exec', pid: 102, brkStart: 0x555500010000 });
    expect(ops(recs, 'brk')).toEqual([expect.objectContaining({ addr: 0 }), expect.objectContaining({ addr: 0x555500031000 })]);
    expect(ops(recs, 'exit')).toEqual([expect.objectContaining({ pid: 102 }), expect.objectContaining({ pid: 100 })]);
    expect(s.skipped['thread exit']).toBe(1);
    expect(s.skipped['event sched:sched_switch']).toBe(1);
    // The stack is known from its MMAP2; an address no record covers gets a synthesised page.
    expect(st.synthesized).toBe(1);
    expect(mm.find((o) => o.result === 0x600000000000)).toMatchObject({ len: 4096, backing: { kind: 'anon' } });
    expect(s.notes[0]).toMatch(/first touches and protection faults, not every store/);
    // Times: ns since the first line.
    expect(at(0x7f0000100010).t).toBe(20_000);

    // Replayed: every access lands in a mapping, no op fails.
    const out = join(tmp, 'hand.ptrace');
    const again = await importPerfDetailed(tmpFile(`${Object.values(L).join('\n')}\n`), {});
    await writeTrace(out, again.header, again.chunks);
    const run = await runScenario(out, ['soft-dirty', 'uffd-async']);
    for (const l of run.lanes) expect(counter(run, l.config.name, 'fault_sigsegv')).toBe(0);
    expect([...run.ops.get('soft-dirty')!].filter((r) => r.origin === 'trace' && r.errno !== null)).toEqual([]);
  });

  test('-F layouts with pid/tid and no comm or cpu give the same trace', async () => {
    const def = Object.values(L).join('\n');
    // pid/tid columns, no comm, no cpu (perf script -F pid,tid,time,event,trace).
    const f = Object.values(L)
      .map((line) => line.replace(/^\s*\S+\s+(\d+)\s+\[\d+\]/, (_m, tid: string) => ` ${tid === '101' ? '100' : tid}/${tid} `))
      .join('\n');
    const a = await importText(def);
    const b = await importText(f);
    expect(b.imp.summary().malformed).toBe(0);
    expect(b.recs).toEqual(a.recs);
  });

  test('filters: --pid, --tid, --comm', async () => {
    const text = Object.values(L).join('\n');
    const byPid = await importText(text, { pids: [102] });
    expect(new Set(accesses(byPid.recs).map((r) => r.pid))).toEqual(new Set([102]));
    expect(byPid.imp.summary().skipped['filtered out']).toBeGreaterThan(0);
    const byTid = await importText(text, { tids: [101] });
    expect(accesses(byTid.recs).map((r) => r.addr)).toEqual([0x7f0000300010]);
    const byComm = await importText(text, { comms: ['true'] });
    expect(accesses(byComm.recs).every((r) => r.pid === 102)).toBe(true);
    expect(accesses(byComm.recs).length).toBe(3);
  });

  test('malformed lines: counted with line numbers, or the first one stops a strict import', async () => {
    const lines = [
      L.read.replace('10.000020', '10.000019'),
      L.enterMmap,
      L.exitMmap,
      L.read,
      '   app   100 [000]  10.000030:   exceptions:page_fault_user: address=0x7f00', // truncated
      L.write.replace('error_code=0x6', 'error_code=zz'), // garbled field
      'this is not perf output',
      L.ifetch,
    ];
    const { imp } = await importText(lines.join('\n'));
    const s = imp.summary();
    expect(s.malformed).toBe(3);
    expect(s.firstMalformed.map((m) => m.line)).toEqual([5, 6, 7]);
    expect(s.firstMalformed[0]!.reason).toMatch(/error_code/);
    expect(s.firstMalformed[0]!.text).toContain('address=0x7f00');
    const strict = await importPerfDetailed(tmpFile(lines.join('\n')), { strict: true });
    await expect(records(strict)).rejects.toThrow(TraceFormatError);
    const again = await importPerfDetailed(tmpFile(lines.join('\n')), { strict: true });
    await expect(records(again)).rejects.toThrow(/:line 5: expected address=/);
  });
});

// ---- the real fixtures -------------------------------------------------------------------------

const FIXTURES = [
  'sqlite3-inserts.perf.txt.gz',
  'python3-list-threads.perf.txt.gz',
  'sh-sort-uniq.perf.txt',
  'sh-sort-uniq.F-pid-tid-time.perf.txt.gz',
];

function sourceLines(name: string): string[] {
  const buf = readFileSync(join(REAL, name));
  return (name.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8').split('\n');
}

/** grep -c of an event name (followed by its colon). */
function grepEvent(lines: string[], event: string, pred: (l: string) => boolean = () => true): number {
  return lines.filter((l) => l.includes(` ${event}: `) && pred(l)).length;
}

const userAddr = (l: string) => {
  const m = /address=0x([0-9a-f]+)/.exec(l);
  return m !== null && parseInt(m[1]!, 16) < 0x800000000000;
};

describe.each(FIXTURES)('real fixture %s', (name) => {
  test('import: counts match the source, mmaps pair with their exits, replay lands every access in a VMA', async () => {
    const src = sourceLines(name);
    const imp = await importPerfDetailed(join(REAL, name), {});
    const out = join(tmp, `${name}.ptrace`);
    await writeTrace(out, imp.header, imp.chunks);
    const s = imp.summary();
    const st = imp.stats();
    expect(s.malformed).toBe(0);
    expect(s.lines).toBe(src.at(-1) === '' ? src.length - 1 : src.length);

    const pfu = grepEvent(src, 'exceptions:page_fault_user');
    const pfkUser = grepEvent(src, 'exceptions:page_fault_kernel', userAddr);
    expect(pfu).toBeGreaterThan(500);
    expect(st.userFaults).toBe(pfu);
    expect(st.kernelFaults).toBe(pfkUser);
    expect(s.reads + s.writes).toBe(pfu + pfkUser);
    expect(
      grepEvent(src, 'exceptions:page_fault_user', (l) => /error_code=0x[0-9a-f]*[2367abef]$/.test(l.trim())) +
        grepEvent(src, 'exceptions:page_fault_kernel', (l) => userAddr(l) && /error_code=0x[0-9a-f]*[2367abef]$/.test(l.trim())),
    ).toBe(s.writes);

    // Every sys_enter of a modelled call pairs with its sys_exit; failed ones are counted, not emitted.
    for (const call of ['mmap', 'munmap', 'mprotect', 'mremap', 'brk', 'madvise']) {
      const enters = grepEvent(src, `syscalls:sys_enter_${call}`);
      expect(grepEvent(src, `syscalls:sys_exit_${call}`), call).toBe(enters);
      expect(st.enters[call] ?? 0, call).toBe(enters);
      expect((st.fromSyscalls[call] ?? 0) + (st.failed[call] ?? 0), call).toBe(enters);
    }
    expect(s.ops.mmap).toBe((st.fromSyscalls.mmap ?? 0) + st.mmap2Mmaps + st.synthesized);
    // With perf record -d and --show-mmap-events, every mapping is known: nothing synthesised.
    expect(st.synthesized).toBe(0);
    expect(s.pages).toBeGreaterThan(100);

    // Processes: one exec op per sched_process_exec, each with its heap start; one exit per dead group.
    expect(s.ops.exec).toBe(grepEvent(src, 'sched:sched_process_exec'));
    expect(s.ops.exit).toBe(grepEvent(src, 'sched:sched_process_exit', (l) => l.includes('group_dead=true')));
    const trace = await openTrace(out);
    const execs: Array<Record<string, unknown>> = [];
    for await (const c of trace.chunks) for (const r of recordsOfChunk(c)) if (r.op === 'exec') execs.push(r as never);
    expect(execs.length).toBe(s.ops.exec);
    for (const e of execs) expect(e.brkStart).toBeGreaterThan(0);

    // Replay: no SIGSEGV (every access inside a VMA with the right protection), no failed op.
    const run = await runScenario(out);
    for (const l of run.lanes) expect(counter(run, l.config.name, 'fault_sigsegv'), l.config.name).toBe(0);
    const lane = run.lanes[0]!.config.name;
    expect(run.ops.get(lane)!.filter((r) => r.origin === 'trace' && r.errno !== null)).toEqual([]);
  });

  test('--pid filter keeps exactly the lines of that process', async () => {
    const src = sourceLines(name);
    const exec = src.find((l) => l.includes(' sched:sched_process_exec: '))!;
    const pid = Number(/ pid=(\d+)/.exec(exec)![1]);
    const imp = await importPerfDetailed(join(REAL, name), { pids: [pid] });
    await records(imp);
    const s = imp.summary();
    // The tid column is the first number (or pid/tid): the process's own threads are tids listed by task_newtask with CLONE_VM.
    const tids = new Set([
      pid,
      ...src
        .filter((l) => /task:task_newtask: .*clone_flags=[0-9a-f]*[13579bdf][0-9a-f]{2}\b/.test(l) && idOf(l) === pid)
        .map((l) => Number(/ pid=(\d+)/.exec(l)![1])),
    ]);
    const mine = (l: string) => tids.has(idOf(l));
    expect(s.reads + s.writes).toBe(
      grepEvent(src, 'exceptions:page_fault_user', mine) + grepEvent(src, 'exceptions:page_fault_kernel', (l) => mine(l) && userAddr(l)),
    );
  });
});

/** The tid of a line in the default layout (`comm tid [cpu] ...`) or -F pid,tid (`pid/tid ...`). */
function idOf(line: string): number {
  const m = /^\s*(?:\S.*?\s+)??(\d+)(?:\/(\d+))?\s+(?:\[\d+\]\s+)?\d+\.\d+:/.exec(line);
  return m === null ? -1 : Number(m[2] ?? m[1]);
}

test('the default and -F pid,tid,time,event,trace outputs of the same perf.data import identically', async () => {
  const a = await importPerfDetailed(join(REAL, 'sh-sort-uniq.perf.txt'), {});
  const b = await importPerfDetailed(join(REAL, 'sh-sort-uniq.F-pid-tid-time.perf.txt.gz'), {});
  const ra = await records(a);
  const rb = await records(b);
  expect(rb.length).toBe(ra.length);
  expect(rb).toEqual(ra);
});

test('without the MMAP2 records (perf script without --show-mmap-events) mappings are synthesised', async () => {
  const src = sourceLines('sqlite3-inserts.perf.txt.gz').filter((l) => !l.includes('PERF_RECORD_'));
  const imp = await importPerfDetailed(tmpFile(src.join('\n')), {});
  const out = join(tmp, 'no-mmap2.ptrace');
  await writeTrace(out, imp.header, imp.chunks);
  const st = imp.stats();
  expect(st.synthesized).toBeGreaterThan(0);
  expect(imp.summary().notes.join(' ')).toMatch(/synthesised/);
  expect(imp.summary().reads + imp.summary().writes).toBe(
    grepEvent(src, 'exceptions:page_fault_user') + grepEvent(src, 'exceptions:page_fault_kernel', userAddr),
  );
  const run = await runScenario(out, ['soft-dirty']);
  // One-page mappings where the exec'd image, stack and vdso are touched: still no SIGSEGV, no failed op.
  expect(counter(run, 'soft-dirty', 'fault_sigsegv')).toBe(0);
  expect(run.ops.get('soft-dirty')!.filter((r) => r.origin === 'trace' && r.errno !== null)).toEqual([]);
});

describe('corrupted copy of a real fixture', () => {
  const src = sourceLines('sh-sort-uniq.perf.txt');
  const corrupt = [...src];
  const pfuIdx = src.findIndex((l, i) => i > 200 && l.includes('exceptions:page_fault_user:'));
  const mmapIdx = src.findIndex((l, i) => i > pfuIdx + 10 && l.includes('syscalls:sys_enter_mmap:'));
  corrupt[pfuIdx] = src[pfuIdx]!.slice(0, src[pfuIdx]!.indexOf('address=') + 12); // truncated line
  corrupt[mmapIdx] = src[mmapIdx]!.replace(/prot: 0x[0-9a-f]+/, 'prot: 0xZZ'); // garbled field
  corrupt.splice(pfuIdx + 5, 0, '\u0000\u0001 binary junk'); // a garbage line (after the truncation: line numbers shift by one from there)
  const file = join(tmp, 'corrupt.perf.txt');
  writeFileSync(file, corrupt.join('\n'));

  test('without --strict: counted with line numbers, no crash', async () => {
    const imp = await importPerfDetailed(file, {});
    await records(imp);
    const s = imp.summary();
    expect(s.malformed).toBe(3);
    expect(s.firstMalformed.map((m) => m.line)).toEqual([pfuIdx + 1, pfuIdx + 6, mmapIdx + 2].sort((x, y) => x - y));
    expect(s.firstMalformed.find((m) => m.line === pfuIdx + 1)!.reason).toMatch(/error_code/);
    expect(s.firstMalformed.find((m) => m.line === mmapIdx + 2)!.reason).toMatch(/sys_enter_mmap fields/);
  });

  test('with --strict: a located error (file:line N), exit 65, through the CLI', async () => {
    const imp = await importPerfDetailed(file, { strict: true });
    await expect(records(imp)).rejects.toThrow(`${file}:line ${pfuIdx + 1}: expected address=`);
    const err = await runCli(['import', 'perf', file, '-o', join(tmp, 'c.ptrace'), '--strict']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PteplayError);
    expect((err as PteplayError).exitCode).toBe(EXIT.DATA);
    expect((err as PteplayError).message).toContain(`line ${pfuIdx + 1}`);
  });
});

async function runCli(args: string[]): Promise<void> {
  const program = new Command('pteplay').exitOverride();
  register(program);
  for (const c of program.commands) c.exitOverride();
  await program.parseAsync(['node', 'pteplay', ...args]);
}

describe('pteplay import (in-process)', () => {
  test('writes the trace, --json prints the summary, a missing input is exit 66', async () => {
    const out = join(tmp, 'cli.ptrace');
    const writes: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => {
      writes.push(String(s));
      return true;
    }) as typeof process.stdout.write;
    try {
      await runCli(['import', 'perf', join(REAL, 'sqlite3-inserts.perf.txt.gz'), '-o', out, '--json']);
    } finally {
      process.stdout.write = orig;
    }
    const summary = JSON.parse(writes.join(''));
    expect(summary).toMatchObject({ importer: 'perf', malformed: 0 });
    const t = await openTrace(out);
    let n = 0;
    for await (const c of t.chunks) n += c.n;
    expect(n).toBe(summary.records);
    const err = await runCli(['import', 'perf', join(tmp, 'nope.txt'), '-o', out]).catch((e: unknown) => e);
    expect((err as PteplayError).exitCode).toBe(EXIT.NO_INPUT);
  });

  test('replay() of an imported fixture into a run database', async () => {
    const out = join(tmp, 'py.ptrace');
    const imp = await importPerfDetailed(join(REAL, 'python3-list-threads.perf.txt.gz'), {});
    await writeTrace(out, imp.header, imp.chunks);
    // --interval none: the replay adds no collect records of its own, so it processes exactly the import's.
    const r = await replay({ trace: out, db: join(tmp, 'py.db'), interval: 0 });
    expect(r.records).toBe(imp.summary().records);
    expect(r.accesses).toBe(imp.summary().reads + imp.summary().writes);
    // By default (auto) it adds collects, and every access still counts once.
    const auto = await replay({ trace: out, db: join(tmp, 'py-auto.db') });
    expect(auto.accesses).toBe(r.accesses);
    expect(auto.collects).toBeGreaterThan(0);
  });
});
