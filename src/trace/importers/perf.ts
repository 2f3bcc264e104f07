/**
 * `perf script` text → pteplay trace, streaming (bounded memory, .gz read transparently).
 *
 * What is read (see traces/real/README.md for the perf command lines that produce it):
 * - `exceptions:page_fault_user` → an access: error_code bit 1 (0x2) a store (REC_WRITE), else a
 *   load; bit 4 (0x10) an instruction fetch (ACC_IFETCH).
 * - `exceptions:page_fault_kernel` on a user address (below 0x0000800000000000) → a kernel-mode
 *   access (ACC_KERNEL): copy_to_user, clear_user, put_user — real stores the trackers see.
 * - `syscalls:sys_enter_*`/`sys_exit_*` of mmap, munmap, mprotect, madvise, mremap, brk, paired per
 *   tid; the op is emitted at the exit with the recorded result (mmap/mremap: the address). A failed
 *   call (negative return) is dropped and counted in `skipped`. A file-backed mmap is named
 *   `fd<N>@<pid>` (perf does not know the path), unless a PERF_RECORD_MMAP2 printed inside the call
 *   (perf record -d) names the file.
 * - `task:task_newtask` (CLONE_VM: a thread or vfork child sharing the mm, nothing emitted;
 *   otherwise a fork), `sched:sched_process_fork` and PERF_RECORD_FORK (when task_newtask is
 *   absent), `sched:sched_process_exec` (→ exec: the old mm is unmapped first, the heap start comes
 *   from the first brk(0) after it), `sched:sched_process_exit`/PERF_RECORD_EXIT (→ exit when the
 *   thread group dies).
 * - PERF_RECORD_MMAP2/MMAP (`perf script --show-mmap-events`) outside a traced syscall: mappings
 *   made by exec or before tracing began → mmap at the recorded address (only over the parts not
 *   mapped yet; a different protection over mapped parts → mprotect).
 * - samples with a data address (`perf record -d`, `perf mem record`, printed with `-F +addr`): a
 *   load unless the event name or a data_src `|OP STORE|` says store.
 *
 * An access to an address no recorded mapping covers (a mapping from before tracing began, e.g. the
 * stack without `perf record -d`) gets an anonymous private rw mapping right before it, widened over a
 * small hole to a synthesised neighbour (synth.ts, shared with the lackey importer), counted in the notes. A process first seen without its fork (running before tracing began) is
 * created empty by a fork from pid 0 (a parent outside the trace).
 *
 * Ordering: the MMAP2 records and kernel faults of a thread are held back until that thread's next
 * event (at most {@link DEFER_MAX}): a process that execs shows them before `sched_process_exec`, and
 * they belong to the new mm, which the importer only knows about at that point.
 */
import { basename } from 'node:path';
import { TraceFormatError } from '../../errors.js';
import { protOf } from '../linux-abi.js';
import { ChunkBuilder } from '../chunk.js';
import { openByteSource } from '../source.js';
import { ACC_IFETCH, ACC_KERNEL, REC_READ, REC_WRITE, type MmapFlag, type TraceChunk, type TraceHeader, type TraceOp } from '../types.js';
import { importLines } from './input.js';
import type { ImportedTrace, ImportOptions, ImportSummary, MalformedLine } from './types.js';
import {
  backingOfName,
  colonFields,
  exitValue,
  kvFields,
  parseHeader,
  parseMmapRecord,
  parseNum,
  parseSampleAddr,
  parseTaskRecord,
  type Mmap2Record,
  type PerfHeader,
} from './perf-parse.js';
import { ENTER_FIELDS, EXIT_DECODERS, isMmCall, opArgs, returnsAddress, type MmCall, type SyscallProc } from './perf-syscalls.js';
import { PAGE, PageCounter, PROT_R, PROT_W, PROT_X, pageDown, pageUp, RangeSet } from './perf-vmas.js';
import { quoteLine } from './quote.js';
import { SYNTH_GAP_PAGES, synthRanges } from './synth.js';
import { badValue, isTraceId, isTraceUint } from './values.js';

/** First address above user space (x86-64, 4-level paging). */
export const USER_TOP = 0x0000800000000000;
/** x86-64 TASK_SIZE: munmap(0, TASK_SIZE) drops a whole address space (exec). */
const TASK_SIZE = 0x7ffffffff000;
/** Held-back events per thread before they are applied anyway. */
export const DEFER_MAX = 4096;
/** Full chunks held while an exec op waits for its heap start (the first brk(0) after it). */
const HOLD_CHUNKS = 8;
const MAX_FIRST_MALFORMED = 10;

/* error_code bits (arch/x86/include/asm/trap_pf.h) */
const PF_WRITE = 0x2;
const PF_INSTR = 0x10;

/* clone flags */
const CLONE_VM = 0x100;
const CLONE_THREAD = 0x10000;

function permsProt(perms: string): number {
  if (perms === 'x') return PROT_R | PROT_X; // PERF_RECORD_MMAP (v1): executable mappings only
  return (perms.includes('r') ? PROT_R : 0) | (perms.includes('w') ? PROT_W : 0) | (perms.includes('x') ? PROT_X : 0);
}

/** Detailed counters, beyond the summary (used by the tests and the notes). */
export interface PerfImportStats {
  /** Accesses from exceptions:page_fault_user. */
  userFaults: number;
  /** Accesses from exceptions:page_fault_kernel on user addresses. */
  kernelFaults: number;
  /** Accesses from samples with a data address. */
  samples: number;
  /** sys_enter_* of the modelled calls, by name. */
  enters: Record<string, number>;
  /** Ops emitted from a sys_exit_*, by name. */
  fromSyscalls: Record<string, number>;
  /** Failed calls (negative return), by name. */
  failed: Record<string, number>;
  /** mmap ops from PERF_RECORD_MMAP2/MMAP records, and mprotect ops they implied. */
  mmap2Mmaps: number;
  mmap2Mprotects: number;
  /** Mappings synthesised for accesses outside every recorded mapping, and their pages. */
  synthesized: number;
  synthPages: number;
  /** Processes created empty (fork from pid 0) because their fork was not in the trace. */
  adopted: number;
  /** Address spaces dropped at exec (munmap of the whole user range). */
  execUnmaps: number;
  /** Writes to a mapping the importer believes read-only (the replay records a SIGSEGV for them). */
  writesToReadOnly: number;
  /** Threads and vfork children (CLONE_VM). */
  threads: number;
}

interface Proc extends SyscallProc {
  /** Tids with held-back events. */
  deferredTids: Set<number>;
}

interface InFlight {
  name: MmCall;
  f: Map<string, string>;
  line: number;
  /** The file name of a PERF_RECORD_MMAP2 printed during this mmap. */
  mmapName?: string;
}

type Deferred =
  | { k: 'mmap2'; pid: number; tid: number; t: number; rec: Mmap2Record }
  | { k: 'kfault'; pid: number; tid: number; t: number; addr: number; write: boolean };

/** A perf script import with its detailed counters. */
export interface PerfImport extends ImportedTrace {
  stats(): PerfImportStats;
}

export async function importPerf(path: string, opts: ImportOptions = {}): Promise<ImportedTrace> {
  return importPerfDetailed(path, opts);
}

export async function importPerfDetailed(path: string, opts: ImportOptions = {}): Promise<PerfImport> {
  const src = await openByteSource(path);
  const header: TraceHeader = { pteplay: 'trace', version: 1, source: `pteplay import perf ${basename(path)}` };
  const imp = new PerfImporter(path, opts);
  const chunks = importLines(src, path, opts, {
    line: (text, n) => imp.line(text, n),
    finish: () => imp.finish(),
    drain: (final) => imp.drain(final),
    records: () => imp.records,
    summary: () => imp.summary(),
  });
  return { header, chunks, summary: () => imp.summary(), stats: () => imp.stats };
}

class PerfImporter {
  private readonly b = new ChunkBuilder();
  private readonly ready: TraceChunk[] = [];
  private readonly procs = new Map<number, Proc>();
  /** tid → pid of the mm it shares (CLONE_VM threads and vfork children). */
  private readonly tidMm = new Map<number, number>();
  /** CLONE_VM children without CLONE_THREAD (vfork, posix_spawn): they get their own mm at exec. */
  private readonly vforkChild = new Set<number>();
  /** Tasks whose creation has been handled (task_newtask / sched_process_fork / PERF_RECORD_FORK dedupe). */
  private readonly created = new Set<number>();
  private readonly inflight = new Map<number, InFlight>();
  private readonly deferred = new Map<number, Deferred[]>();
  private readonly pageCounter = new PageCounter();
  private readonly pidFilter: Set<number> | null;
  private readonly tidFilter: Set<number> | null;
  private readonly commFilter: Set<string> | null;
  private t0 = NaN;
  private lines = 0;
  private reads = 0;
  private writes = 0;
  private readonly ops: Record<string, number> = {};
  private readonly skipped: Record<string, number> = {};
  private malformedCount = 0;
  private readonly firstMalformed: MalformedLine[] = [];
  /** Lines per process (before the filters). */
  private readonly seen = new Map<number, number>();
  /** Samples that do not say load or store, by event. */
  private readonly noRw = new Map<string, number>();
  /** Some line had no pid column (threads are known only through task_newtask). */
  private tidOnly = false;
  readonly stats: PerfImportStats = {
    userFaults: 0,
    kernelFaults: 0,
    samples: 0,
    enters: {},
    fromSyscalls: {},
    failed: {},
    mmap2Mmaps: 0,
    mmap2Mprotects: 0,
    synthesized: 0,
    synthPages: 0,
    adopted: 0,
    execUnmaps: 0,
    writesToReadOnly: 0,
    threads: 0,
  };

  constructor(
    private readonly file: string,
    private readonly opts: ImportOptions,
  ) {
    this.pidFilter = opts.pids && opts.pids.length > 0 ? new Set(opts.pids) : null;
    this.tidFilter = opts.tids && opts.tids.length > 0 ? new Set(opts.tids) : null;
    this.commFilter = opts.comms && opts.comms.length > 0 ? new Set(opts.comms) : null;
  }

  get records(): number {
    return this.b.position;
  }

  // ---- output ------------------------------------------------------------------------------

  private push(op: TraceOp): void {
    this.b.pushOp(op);
    this.ops[op.op] = (this.ops[op.op] ?? 0) + 1;
    if (this.b.full) this.ready.push(this.b.take());
  }

  private pushAccess(kind: number, pid: number, tid: number, t: number, addr: number, flags: number): void {
    this.b.pushAccess(kind, pid, tid, t, addr, 1, flags);
    if (kind === REC_WRITE) this.writes++;
    else this.reads++;
    this.pageCounter.add(pid, pageDown(addr));
    if (this.b.full) this.ready.push(this.b.take());
  }

  /** Chunks that may be handed out: all of them unless an exec op still waits for its heap start. */
  *drain(end: boolean): Generator<TraceChunk> {
    if (end) {
      if (!this.b.empty) this.ready.push(this.b.take());
    }
    let waiting = false;
    for (const p of this.procs.values()) if (p.pendingExec) waiting = true;
    if (waiting && !end && this.ready.length <= HOLD_CHUNKS) return;
    if (waiting) {
      // Too long without a brk(0): give up on the heap start of these execs (a later brk(0) sets it).
      for (const p of this.procs.values()) p.pendingExec = null;
    }
    while (this.ready.length > 0) yield this.ready.shift()!;
  }

  // ---- bookkeeping ---------------------------------------------------------------------------

  private skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
  }

  private malformed(lineNo: number, text: string, reason: string): void {
    if (this.opts.strict) throw new TraceFormatError(this.file, `line ${lineNo}`, `${reason}: ${quoteLine(text)}`);
    this.malformedCount++;
    if (this.firstMalformed.length < MAX_FIRST_MALFORMED) this.firstMalformed.push({ line: lineNo, text: clip(text), reason });
  }

  private time(sec: number): number {
    if (!Number.isFinite(sec)) return NaN;
    if (Number.isNaN(this.t0)) this.t0 = sec;
    const ns = Math.round((sec - this.t0) * 1e9);
    return Number.isFinite(ns) ? Math.max(0, ns) : NaN;
  }

  private opTime(t: number): { t?: number } {
    return Number.isFinite(t) ? { t } : {};
  }

  private proc(pid: number, t: number): Proc {
    let p = this.procs.get(pid);
    if (p === undefined) {
      // Running before tracing began (or its fork was filtered out): an empty process, forked from pid 0
      // (nobody in the trace), so that no process the recording never had appears in the replay.
      p = newProc();
      this.push({ op: 'fork', pid: 0, child: pid, ...this.opTime(t) });
      this.stats.adopted++;
      this.procs.set(pid, p);
    }
    return p;
  }

  private mmPid(h: PerfHeader): number {
    return this.tidMm.get(h.tid) ?? h.pid ?? h.tid;
  }

  /** The pid whose mm the record belongs to, or null (counted as skipped) when the filters drop it. */
  private admit(h: PerfHeader): number | null {
    const pid = this.mmPid(h);
    if (this.keep(h, pid)) return pid;
    this.skip('filtered out');
    return null;
  }

  private keep(h: PerfHeader, pid: number): boolean {
    if (h.pid === undefined) this.tidOnly = true;
    this.seen.set(pid, (this.seen.get(pid) ?? 0) + 1);
    if (h.pid !== undefined && h.pid !== pid) this.seen.set(h.pid, (this.seen.get(h.pid) ?? 0) + 1);
    if (this.pidFilter && !this.pidFilter.has(pid) && !(h.pid !== undefined && this.pidFilter.has(h.pid))) return false;
    if (this.tidFilter && !this.tidFilter.has(h.tid)) return false;
    if (this.commFilter && !this.commFilter.has(h.comm)) return false;
    return true;
  }

  // ---- deferral ------------------------------------------------------------------------------

  private defer(d: Deferred): void {
    let list = this.deferred.get(d.tid);
    if (list === undefined) this.deferred.set(d.tid, (list = []));
    list.push(d);
    this.proc(d.pid, d.t).deferredTids.add(d.tid);
    if (list.length >= DEFER_MAX) this.flushTid(d.tid);
  }

  /** Apply the held-back events of `tid` (to process `pidOverride` when a vfork child has just exec'd). */
  private flushTid(tid: number, pidOverride?: number): void {
    const list = this.deferred.get(tid);
    if (list === undefined) return;
    this.deferred.delete(tid);
    for (const d of list) {
      this.procs.get(d.pid)?.deferredTids.delete(tid);
      const pid = pidOverride ?? d.pid;
      if (d.k === 'mmap2') this.applyMmap2(pid, d.tid, d.t, d.rec);
      else this.access(pid, d.tid, d.t, d.addr, d.write ? REC_WRITE : REC_READ, ACC_KERNEL);
    }
  }

  private flushProc(pid: number, exceptTid = -1): void {
    const p = this.procs.get(pid);
    if (p === undefined) return;
    for (const tid of [...p.deferredTids]) if (tid !== exceptTid) this.flushTid(tid);
  }

  finish(): void {
    for (const tid of [...this.deferred.keys()]) this.flushTid(tid);
    for (const [tid, f] of this.inflight) {
      void tid;
      this.skip(`sys_enter_${f.name} without sys_exit (trace ended)`);
    }
    this.inflight.clear();
  }

  // ---- accesses ------------------------------------------------------------------------------

  private access(pid: number, tid: number, t: number, addr: number, kind: number, flags: number): void {
    const p = this.proc(pid, t);
    const page = pageDown(addr);
    const v = p.vmas.find(page);
    if (v === undefined) {
      // A mapping the trace never showed: anonymous private, right before its first use, widened to
      // reach a synthesised neighbour over a small hole (synth.ts).
      const prot = PROT_R | PROT_W | ((flags & ACC_IFETCH) !== 0 ? PROT_X : 0);
      for (const [lo, hi] of synthRanges(p.vmas, page, page + 1)) {
        this.push({
          op: 'mmap',
          pid,
          tid,
          addr: lo * PAGE,
          len: (hi - lo) * PAGE,
          prot: protOf(prot),
          flags: ['private', 'anonymous', 'fixed'],
          backing: { kind: 'anon' },
          offset: 0,
          result: lo * PAGE,
          ...this.opTime(t),
        });
        p.vmas.add(lo, hi, prot, true);
        this.stats.synthesized++;
        this.stats.synthPages += hi - lo;
      }
    } else if (kind === REC_WRITE && (v.prot & PROT_W) === 0) {
      this.stats.writesToReadOnly++;
    }
    this.pushAccess(kind, pid, tid, t, addr, flags);
  }

  // ---- lines ---------------------------------------------------------------------------------

  line(text: string, lineNo: number): void {
    this.lines++;
    if (text.length === 0 || /^\s*$/.test(text) || text.startsWith('#')) return;
    // Call-chain lines under a sample (perf script with -g): an address and a symbol, indented.
    if (/^\s+[0-9a-fA-F]{6,16}\s/.test(text) && !/:\s/.test(text.slice(0, 40))) {
      this.skip('call-chain line');
      return;
    }
    const h = parseHeader(text);
    if (h === null) {
      this.malformed(lineNo, text, 'expected a perf script line: [comm] tid or pid/tid, [cpu], [time:], event:, fields');
      return;
    }
    const badId = badValue({ pid: h.pid, tid: h.tid }, ['pid', 'tid']);
    if (badId !== null) {
      this.malformed(lineNo, text, badId);
      return;
    }
    const ev = h.event;
    if (ev.startsWith('PERF_RECORD_')) return this.record(h, text, lineNo);
    const colon = ev.indexOf(':');
    if (colon < 0 || ev.includes('/')) return this.sample(h, text, lineNo);
    const sys = ev.slice(0, colon);
    const name = ev.slice(colon + 1);
    switch (sys) {
      case 'exceptions':
        if (name === 'page_fault_user' || name === 'page_fault_kernel') return this.fault(h, name === 'page_fault_kernel', text, lineNo);
        break;
      case 'syscalls':
        return this.syscall(h, name, text, lineNo);
      case 'task':
        if (name === 'task_newtask') return this.newtask(h, text, lineNo);
        break;
      case 'sched':
        if (name === 'sched_process_fork') return this.schedFork(h, text, lineNo);
        if (name === 'sched_process_exec') return this.exec(h, text, lineNo);
        if (name === 'sched_process_exit') return this.exit(h, text, lineNo);
        break;
    }
    this.skip(`event ${ev}`);
  }

  private fault(h: PerfHeader, kernel: boolean, text: string, lineNo: number): void {
    const f = kvFields(h.rest);
    const addrText = f.get('address');
    const ec = parseNum(f.get('error_code'));
    if (addrText === undefined || Number.isNaN(ec)) {
      this.malformed(lineNo, text, 'expected address=0x... ip=... error_code=0x...');
      return;
    }
    const addr = parseNum(addrText);
    if (Number.isNaN(addr)) {
      // %ps printed a kernel symbol: a fault on a kernel address.
      if (kernel) this.skip('page_fault_kernel on a kernel address');
      else this.malformed(lineNo, text, 'expected address=0x<hex>');
      return;
    }
    const pid = this.admit(h);
    if (pid === null) return;
    if (!isTraceUint(addr) || addr >= USER_TOP) {
      this.skip(kernel ? 'page_fault_kernel on a kernel address' : 'page_fault_user on a non-user address');
      return;
    }
    const t = this.time(h.time);
    const write = (ec & PF_WRITE) !== 0;
    if (kernel) {
      this.stats.kernelFaults++;
      this.defer({ k: 'kfault', pid, tid: h.tid, t, addr, write });
      return;
    }
    this.flushTid(h.tid);
    this.stats.userFaults++;
    this.access(pid, h.tid, t, addr, write ? REC_WRITE : REC_READ, (ec & PF_INSTR) !== 0 ? ACC_IFETCH : 0);
  }

  private sample(h: PerfHeader, text: string, lineNo: number): void {
    const s = parseSampleAddr(h.event, h.rest);
    if (s === null) {
      if (h.rest.trim().length === 0) this.malformed(lineNo, text, `expected the fields of event ${h.event}`);
      else this.skip(`${h.event} sample without an addr field (record with -d, print with -F +addr)`);
      return;
    }
    const pid = this.admit(h);
    if (pid === null) return;
    if (s.addr >= USER_TOP || s.addr === 0) {
      this.skip(`${h.event} sample on a kernel or null address`);
      return;
    }
    this.flushTid(h.tid);
    this.stats.samples++;
    if (!s.known) this.noRw.set(h.event, (this.noRw.get(h.event) ?? 0) + 1);
    const flags = Number.isFinite(s.ip) && s.ip >= USER_TOP ? ACC_KERNEL : 0;
    this.access(pid, h.tid, this.time(h.time), s.addr, s.store ? REC_WRITE : REC_READ, flags);
  }

  // ---- syscalls ------------------------------------------------------------------------------

  /** A syscalls:sys_enter_* or sys_exit_* line: the enter is remembered per tid, the exit of a modelled call emits its ops. */
  private syscall(h: PerfHeader, name: string, text: string, lineNo: number): void {
    const enter = name.startsWith('sys_enter_');
    const exit = name.startsWith('sys_exit_');
    const call = name.slice(enter ? 10 : 9);
    const pid = this.admit(h);
    if (pid === null) return;
    this.flushTid(h.tid);
    if ((!enter && !exit) || !isMmCall(call)) {
      this.skip(`syscall ${call} (not modelled)`);
      return;
    }
    if (enter) this.sysEnter(h, call, text, lineNo);
    else this.sysExit(h, pid, call, text, lineNo);
  }

  private sysEnter(h: PerfHeader, call: MmCall, text: string, lineNo: number): void {
    const f = colonFields(h.rest);
    const need = ENTER_FIELDS[call];
    if (!need.every((k) => f.has(k))) {
      this.malformed(lineNo, text, `expected sys_enter_${call} fields ${need.map((k) => `${k}: 0x...`).join(', ')}`);
      return;
    }
    const prev = this.inflight.get(h.tid);
    if (prev !== undefined) this.skip(`sys_enter_${prev.name} without sys_exit`);
    this.stats.enters[call] = (this.stats.enters[call] ?? 0) + 1;
    this.inflight.set(h.tid, { name: call, f, line: lineNo });
  }

  /** The exit of the tid's call in flight: a failed call is counted, a successful one goes to its decoder (perf-syscalls.ts). */
  private sysExit(h: PerfHeader, pid: number, call: MmCall, text: string, lineNo: number): void {
    const ret = exitValue(h.rest);
    if (Number.isNaN(ret)) {
      this.malformed(lineNo, text, `expected sys_exit_${call} return value 0x...`);
      return;
    }
    const fl = this.inflight.get(h.tid);
    if (fl === undefined || fl.name !== call) {
      this.skip(`sys_exit_${call} without sys_enter`);
      return;
    }
    this.inflight.delete(h.tid);
    const t = this.time(h.time);
    if (call !== 'brk' && ret < 0) {
      this.stats.failed[call] = (this.stats.failed[call] ?? 0) + 1;
      this.skip(`failed ${call}`);
      return;
    }
    // The call succeeded: its arguments and result become the op and must be trace integers.
    const bad = badValue({ ...opArgs(call, fl.f), result: returnsAddress(call) ? ret : undefined });
    if (bad !== null) {
      this.malformed(lineNo, text, `sys_exit_${call} of the sys_enter_${call} at line ${fl.line}: ${bad}`);
      return;
    }
    const p = this.proc(pid, t);
    this.flushProc(pid);
    this.stats.fromSyscalls[call] = (this.stats.fromSyscalls[call] ?? 0) + 1;
    EXIT_DECODERS[call]({
      p,
      base: { pid, tid: h.tid, ...this.opTime(t) },
      arg: (k) => parseNum(fl.f.get(k)),
      ret,
      mmapName: fl.mmapName,
      push: (op) => this.push(op),
      skip: (reason) => this.skip(reason),
    });
  }

  // ---- mappings from PERF_RECORD_MMAP2 ---------------------------------------------------------

  private record(h: PerfHeader, text: string, lineNo: number): void {
    const ev = h.event;
    if (ev === 'PERF_RECORD_MMAP2' || ev === 'PERF_RECORD_MMAP') {
      const rec = parseMmapRecord(h.rest);
      if (rec === null) {
        this.malformed(lineNo, text, `expected ${ev} pid/tid: [0xaddr(0xlen) @ 0xoffset ...]: perms name`);
        return;
      }
      if (rec.pid < 0 || rec.addr >= USER_TOP || rec.len === 0) {
        this.skip(`${ev} of a kernel mapping`);
        return;
      }
      // A user mapping ends inside user space: an end beyond it is a corrupt length.
      const bad =
        badValue({ pid: rec.pid, tid: rec.tid, len: rec.len, offset: backingOfName(rec.name).kind === 'anon' ? undefined : rec.offset }, [
          'pid',
          'tid',
        ]) ?? (rec.addr + rec.len > USER_TOP ? `len 0x${rec.len.toString(16)}: the mapping would end beyond user space` : null);
      if (bad !== null) {
        this.malformed(lineNo, text, `${ev}: ${bad}`);
        return;
      }
      const pid = this.admit({ ...h, pid: rec.pid, tid: rec.tid });
      if (pid === null) return;
      const fl = this.inflight.get(rec.tid);
      if (fl !== undefined) {
        // The traced syscall's exit will say it: only remember the file name for an mmap.
        if (fl.name === 'mmap' && rec.name.startsWith('/')) fl.mmapName = rec.name;
        this.skip(`${ev} inside a traced syscall`);
        return;
      }
      this.defer({ k: 'mmap2', pid, tid: rec.tid, t: this.time(h.time), rec });
      return;
    }
    if (ev === 'PERF_RECORD_FORK' || ev === 'PERF_RECORD_EXIT') {
      const r = parseTaskRecord(h.rest);
      if (r === null || !isTraceId(r.pid) || !isTraceId(r.tid) || !isTraceId(r.ppid) || !isTraceId(r.ptid)) {
        this.malformed(lineNo, text, `expected ${ev}(pid:tid):(ppid:ptid)`);
        return;
      }
      const fork = ev === 'PERF_RECORD_FORK';
      const pid = this.admit({ ...h, pid: fork ? r.ppid : r.pid, tid: fork ? r.ptid : r.tid });
      if (pid === null) return;
      if (fork) {
        if (this.created.has(r.tid)) return this.skip('PERF_RECORD_FORK (already seen as task_newtask)');
        const thread = r.pid === r.ppid;
        return this.spawn(pid, r.ptid, r.tid, thread, false, this.time(h.time));
      }
      return this.taskExit(pid, r.tid, r.pid === r.tid ? true : undefined, this.time(h.time));
    }
    this.skip(ev);
  }

  private applyMmap2(pid: number, tid: number, t: number, rec: Mmap2Record): void {
    const p = this.proc(pid, t);
    const prot = permsProt(rec.perms);
    const shared = rec.perms.length >= 4 && rec.perms[3] === 's';
    const backing = backingOfName(rec.name);
    const s = pageDown(rec.addr);
    const e = pageUp(rec.addr + rec.len);
    let did = false;
    for (const [gs, ge] of p.vmas.gaps(s, e)) {
      const flags: MmapFlag[] = [shared ? 'shared' : 'private'];
      if (backing.kind === 'anon') flags.push('anonymous');
      flags.push('fixed');
      const offset = backing.kind === 'anon' ? 0 : Math.max(0, rec.offset) + (gs - s) * PAGE;
      this.push({
        op: 'mmap',
        pid,
        tid,
        addr: gs * PAGE,
        len: (ge - gs) * PAGE,
        prot: protOf(prot),
        flags,
        backing,
        offset,
        result: gs * PAGE,
        ...this.opTime(t),
      });
      p.vmas.add(gs, ge, prot);
      this.stats.mmap2Mmaps++;
      did = true;
    }
    for (const part of p.vmas.covered(s, e)) {
      if (part.prot === prot) continue;
      this.push({ op: 'mprotect', pid, tid, addr: part.start * PAGE, len: (part.end - part.start) * PAGE, prot: protOf(prot), ...this.opTime(t) });
      p.vmas.protect(part.start, part.end, prot);
      this.stats.mmap2Mprotects++;
      did = true;
    }
    if (!did) this.skip('PERF_RECORD_MMAP2 of a range already mapped');
  }

  // ---- processes -----------------------------------------------------------------------------

  /**
   * What every task event starts with: its `key=value` fields, read and checked by `read` (null: the
   * line is malformed, `expected` says what it should hold), then the pid of the mm it belongs to.
   * Null when the event ends here (counted as malformed, or skipped by the filters).
   */
  private taskEvent<T>(
    h: PerfHeader,
    text: string,
    lineNo: number,
    expected: string,
    read: (f: Map<string, string>) => T | null,
  ): [pid: number, fields: T] | null {
    const fields = read(kvFields(h.rest));
    if (fields === null) {
      this.malformed(lineNo, text, expected);
      return null;
    }
    const pid = this.admit(h);
    return pid === null ? null : [pid, fields];
  }

  private newtask(h: PerfHeader, text: string, lineNo: number): void {
    const ev = this.taskEvent(h, text, lineNo, 'expected pid=N comm=... clone_flags=<hex>', (f) => {
      const child = parseNum(f.get('pid'));
      const flags = parseNum(f.get('clone_flags'), true);
      return isTraceId(child) && !Number.isNaN(flags) ? { child, flags } : null;
    });
    if (ev === null) return;
    const [pid, { child, flags }] = ev;
    this.flushTid(h.tid);
    if (this.created.has(child)) return this.skip('task_newtask (already seen)');
    this.spawn(pid, h.tid, child, (flags & CLONE_VM) !== 0, (flags & CLONE_VM) !== 0 && (flags & CLONE_THREAD) === 0, this.time(h.time));
  }

  private schedFork(h: PerfHeader, text: string, lineNo: number): void {
    const ev = this.taskEvent(h, text, lineNo, 'expected comm=... pid=N child_comm=... child_pid=N', (f) => {
      const child = parseNum(f.get('child_pid'));
      return isTraceId(child) ? child : null;
    });
    if (ev === null) return;
    const [pid, child] = ev;
    this.flushTid(h.tid);
    if (this.created.has(child)) return this.skip('sched_process_fork (already seen as task_newtask)');
    // Without task_newtask the clone flags are unknown: a fork (threads need task:task_newtask).
    this.spawn(pid, h.tid, child, false, false, this.time(h.time));
  }

  private spawn(pid: number, tid: number, child: number, sharesMm: boolean, vfork: boolean, t: number): void {
    this.created.add(child);
    if (sharesMm) {
      this.tidMm.set(child, pid);
      if (vfork) this.vforkChild.add(child);
      this.stats.threads++;
      this.skip('thread or vfork child (CLONE_VM): shares the mm');
      return;
    }
    const p = this.proc(pid, t);
    this.flushProc(pid);
    this.push({ op: 'fork', pid, tid, child, ...this.opTime(t) });
    const c = newProc();
    c.vmas = p.vmas.clone();
    c.brkKnown = p.brkKnown;
    c.brkStart = p.brkStart;
    c.brkCur = p.brkCur;
    this.procs.set(child, c);
    this.tidMm.delete(child);
  }

  private exec(h: PerfHeader, text: string, lineNo: number): void {
    const ev = this.taskEvent(h, text, lineNo, 'expected filename=... pid=N old_pid=N', (f) => {
      const newPid = parseNum(f.get('pid'));
      const oldPid = parseNum(f.get('old_pid'));
      return isTraceId(newPid) && (Number.isNaN(oldPid) || isTraceId(oldPid)) ? { newPid, oldPid } : null;
    });
    if (ev === null) return;
    let [pid] = ev;
    const { newPid, oldPid } = ev[1];
    const t = this.time(h.time);
    const tid = h.tid;
    let vfork = false;
    if (this.vforkChild.has(tid)) {
      // A vfork child leaves its parent's mm: its own, new process from here on.
      this.procs.get(pid)?.deferredTids.delete(tid);
      this.vforkChild.delete(tid);
      this.tidMm.delete(tid);
      pid = tid;
      vfork = true;
    } else if (!Number.isNaN(oldPid) && oldPid !== newPid) {
      // A non-leader thread exec'd: it takes over the leader's pid.
      this.tidMm.delete(oldPid);
    }
    const p = this.proc(pid, t);
    this.flushProc(pid, tid);
    if (p.vmas.size > 0) {
      this.push({ op: 'munmap', pid, tid, addr: 0, len: TASK_SIZE, ...this.opTime(t) });
      p.vmas.clear();
      this.stats.execUnmaps++;
    }
    // The held-back MMAP2 records and kernel faults of this thread are the new image's.
    this.flushTid(tid, vfork ? pid : undefined);
    const op: Extract<TraceOp, { op: 'exec' }> = { op: 'exec', pid, tid, ...this.opTime(t) };
    this.push(op);
    p.pendingExec = op;
    p.brkKnown = false;
    p.brkStart = p.brkCur = 0;
  }

  private exit(h: PerfHeader, text: string, lineNo: number): void {
    const ev = this.taskEvent(h, text, lineNo, 'expected comm=... pid=N prio=N [group_dead=true|false]', (f) => {
      const tid = parseNum(f.get('pid'));
      const gd = f.get('group_dead');
      return isTraceId(tid) ? { tid, groupDead: gd === undefined ? undefined : gd === 'true' } : null;
    });
    if (ev === null) return;
    const [pid, { tid, groupDead }] = ev;
    this.taskExit(pid, tid, groupDead, this.time(h.time));
  }

  private taskExit(pid: number, tid: number, groupDead: boolean | undefined, t: number): void {
    this.flushTid(tid);
    const vfork = this.vforkChild.has(tid);
    this.vforkChild.delete(tid);
    const dies = !vfork && (groupDead ?? tid === pid);
    if (this.tidMm.get(tid) !== undefined) this.tidMm.delete(tid);
    if (!dies) {
      this.skip('thread exit');
      return;
    }
    const p = this.procs.get(pid);
    if (p === undefined) {
      this.skip('exit of a process not in the trace');
      return;
    }
    this.flushProc(pid);
    this.push({ op: 'exit', pid, tid, ...this.opTime(t) });
    this.procs.delete(pid);
    this.created.delete(pid);
    for (const [k, v] of this.tidMm) if (v === pid) this.tidMm.delete(k);
  }

  // ---- summary -------------------------------------------------------------------------------

  summary(): ImportSummary {
    const st = this.stats;
    const notes: string[] = [
      'A page-fault trace shows first touches and protection faults, not every store: once a page is mapped ' +
        'writable and dirty, later stores to it raise no fault and are absent. Each write in the imported trace is ' +
        'real, but pages rewritten without a fault are missing, so per-interval dirty sets (and the ground truth ' +
        'the replay computes from them) are lower bounds; the trackers are compared on the stores that were seen.',
    ];
    if (st.kernelFaults > 0) {
      notes.push(
        `${st.kernelFaults} kernel-mode faults on user addresses (copy_to_user, clear_user, put_user) imported as kernel accesses (ACC_KERNEL).`,
      );
    }
    if (st.samples > 0) notes.push(`${st.samples} samples with a data address imported (a load unless the event or data_src says store).`);
    for (const [ev, n] of this.noRw) {
      notes.push(
        `${n} ${ev} samples have an address but no read/write bit (a software page-fault event says only that some ` +
          "access faulted there): they are imported as loads, so the trace has no stores. Every interval's written set (GT_w) is " +
          'empty and no tracker can be right or wrong about a write: what it does tell is the footprint (pages first touched per ' +
          'interval), fault counts and what the trackers report without any write (their false positives, e.g. soft-dirty on new ' +
          'or merged VMAs). To compare trackers on writes, record exceptions:page_fault_user and exceptions:page_fault_kernel ' +
          '(error_code bit 1 is the write bit; traces/real/record-perf.sh).',
      );
    }
    if (st.synthesized > 0) {
      notes.push(
        `${st.synthesized} anonymous rw mappings (${st.synthPages} pages) synthesised for accesses outside every recorded ` +
          `mapping, each right before its first access and widened over holes of at most ${SYNTH_GAP_PAGES} pages to the synthesised ` +
          'mapping next to it, so that a touched region becomes one VMA (mappings from before tracing began: record with perf record -d ' +
          'and print with --show-mmap-events to get them). Each appears in the interval of its first access, as a new or merged VMA: ' +
          'soft-dirty reports such VMAs whole (causes new-vma-softdirty, vma-merge-softdirty).',
      );
    }
    if (this.tidOnly && st.adopted > 1 && st.threads === 0) {
      notes.push(
        `${st.adopted} processes appeared without their fork and the input has no pid column: threads may have been taken ` +
          'for processes with address spaces of their own (print with perf script -F +pid, or record task:task_newtask).',
      );
    }
    if (st.mmap2Mmaps + st.mmap2Mprotects > 0) {
      notes.push(`${st.mmap2Mmaps} mmaps and ${st.mmap2Mprotects} mprotects from PERF_RECORD_MMAP2 records (exec and pre-existing mappings).`);
    }
    if ((this.ops.mmap ?? 0) > 0 && (st.fromSyscalls.mmap ?? 0) > 0) {
      notes.push(
        'File-backed mmaps from sys_enter_mmap are named fd<N>@<pid> (perf does not record the path) unless a PERF_RECORD_MMAP2 inside the call gave the file name.',
      );
    }
    if (st.adopted > 0)
      notes.push(`${st.adopted} processes whose fork is not in the trace were created empty (fork from pid 0, a parent outside the trace).`);
    if (st.execUnmaps > 0) notes.push(`${st.execUnmaps} execs replaced an address space (munmap of the whole user range before the new image).`);
    if (st.writesToReadOnly > 0) notes.push(`${st.writesToReadOnly} writes hit a mapping recorded read-only: the replay counts them as SIGSEGV.`);
    return {
      importer: 'perf',
      input: this.file,
      lines: this.lines,
      records: this.b.position,
      reads: this.reads,
      writes: this.writes,
      ops: { ...this.ops },
      pages: this.pageCounter.count,
      skipped: { ...this.skipped },
      malformed: this.malformedCount,
      firstMalformed: [...this.firstMalformed],
      notes,
      processes: Object.fromEntries([...this.seen].map(([pid, n]) => [String(pid), n])),
    };
  }
}

function newProc(): Proc {
  return { vmas: new RangeSet(), deferredTids: new Set(), pendingExec: null, brkKnown: false, brkStart: 0, brkCur: 0 };
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
