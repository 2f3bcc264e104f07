/**
 * Import a valgrind lackey log (`valgrind --tool=lackey --trace-mem=yes [--trace-syscalls=yes]`),
 * streaming: memory and the work per line stay bounded whatever the size of the log, and a `.gz` log
 * is read transparently (source.ts looks at the gzip magic, not the name).
 *
 * What becomes what:
 * - `I  addr,size` → a read with ACC_IFETCH; ` L addr,size` → a read; ` S addr,size` → a write.
 * - ` M addr,size` (modify: a load and a store by one instruction) → ONE write. On x86 a
 *   read-modify-write instruction that faults does so once, as a write (the error code has the write
 *   bit), so the kernel never sees the load on its own; the dirty outcome is that of the store (A and D
 *   set, the page written). A read then a write would invent a read fault (a zero-page mapping, then a
 *   CoW or write-protect fault) that the real program never took.
 * - An access that crosses a page boundary keeps its size; the replay touches every page it spans.
 * - Addresses are hex, sizes decimal. The record's pid is always 1 (the recorded process is the
 *   trace's implicit first process); lackey's memory lines carry no thread, so every record has tid 1.
 * - `SYSCALL[pid,tid](nr) ...` lines (see lackey-syscall.ts), in program order: successful mmap, munmap,
 *   mprotect, mremap, madvise and brk become ops (the mmap and mremap addresses from the Success
 *   value, so the replay places mappings where the recorded kernel did). A call's op is emitted when
 *   its result is printed (the second line of an [async] pair). Failed calls are dropped and counted.
 *   An mremap that moved its mapping is written with MREMAP_FIXED (and MAYMOVE) to the recorded
 *   address: the replay would otherwise be free to grow in place where the recording moved.
 *   The first brk that queries the break (brk(0), which glibc and ld.so always start with) also emits
 *   an `exec` op carrying the heap start, so that later brk calls grow the heap where they really did.
 *   open/openat/memfd_create/close/dup results are followed so that a file mapping's backing is named
 *   by its path (e.g. two mappings of libc.so.6 share one page cache object).
 *   read() and pread64() results add the store the kernel made into the user buffer (copy_to_user),
 *   as a kernel-mode write of the returned byte count: lackey itself sees user-mode accesses only.
 * - Everything else (valgrind's `==pid==`, `--pid--` and `**pid**` messages, other syscalls, blank
 *   lines) is skipped and counted by reason; a line that is none of these is malformed.
 *
 * Mappings the log does not show are synthesised, lazily, so that every access lands in a VMA:
 * the importer keeps its own map of the address space (mapped page ranges, each marked "from a
 * syscall" or "synthesised"). When an access (or a kernel write, or the range of a successful
 * mprotect/madvise/mremap, which proves the range was mapped) touches a page outside every range,
 * it emits, just before that record, `mmap(MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, rwx)` over the
 * unmapped pages, widened to reach a synthesised range below or above when the hole between them is
 * at most SYNTH_GAP_PAGES pages (so that one touched region becomes one VMA, not one per page).
 * Without SYSCALL lines every mapping is synthesised this way; with them, only what valgrind's
 * loader mapped before the program's first instruction (the executable, ld.so, the stack).
 * A synthesised range is withdrawn (an munmap op) where a recorded mremap or brk later grows into it.
 * Synthesised mappings are anonymous: file-backed text and data read as zero-fill pages; the dirty
 * outcome of the accesses is the same.
 */
import { adviceOf, mmapFlagsOf, mremapFlagsOf, protOf } from '../linux-abi.js';
import { basename } from 'node:path';
import { TraceFormatError } from '../../errors.js';
import { ChunkBuilder } from '../chunk.js';
import { openByteSource } from '../source.js';
import { ACC_IFETCH, ACC_KERNEL, REC_READ, REC_WRITE, type Backing, type TraceChunk, type TraceHeader, type TraceOp } from '../types.js';
import { AddressSpace, FROM_SYNTH, FROM_SYSCALL, PageSet } from './lackey-space.js';
import { asInt32, numericArgs, parseArrow, parseSyscallLine, stringArg, type SyscallLine } from './lackey-syscall.js';
import { importLines } from './input.js';
import { quoteLine } from './quote.js';
import { SYNTH_GAP_PAGES, synthRanges } from './synth.js';
import type { ImportedTrace, ImportOptions, ImportSummary } from './types.js';
import { badValue } from './values.js';

const PAGE = 4096;
/** 2^47: the end of x86-64 user space (4-level paging). Lackey never shows higher addresses but for vsyscall. */
const USER_END = 0x800000000000;
/** How many malformed lines the summary keeps. */
export const FIRST_MALFORMED = 10;
const PID = 1;
const RWX = { read: true, write: true, exec: true };

type AccessKind = 0 | 1 | 2 | 3; // I L S M

/** The state of one import: parses lines, emits records into chunks, counts. */
class LackeyImporter {
  readonly b = new ChunkBuilder();
  readonly ready: TraceChunk[] = [];
  readonly space = new AddressSpace();
  readonly pages = new PageSet();
  readonly s: ImportSummary;
  /** Lines by access kind: I, L, S, M. */
  readonly kinds = [0, 0, 0, 0];
  kernelWrites = 0;
  syscallLines = 0;
  synthMmaps = 0;
  synthPages = 0;
  inferredMmaps = 0;
  withdrawn = 0;
  pinnedMremaps = 0;
  runPid: number | null = null;
  otherPids = new Set<number>();
  /** Banner and SYSCALL lines per pid; memory lines (which carry no pid) are the run's. */
  readonly pidLines = new Map<number, number>();
  memLines = 0;
  filtered = false;
  /** First half of [async] calls, by valgrind thread. */
  readonly pendingAsync = new Map<number, SyscallLine>();
  /** A call whose result is on the next ` --> ` line. */
  open: SyscallLine | null = null;
  brkStart: number | null = null;
  brk = 0;
  /** fd → path (or memfd name) from open/openat/memfd_create results. */
  readonly fds = new Map<number, string>();

  constructor(
    readonly file: string,
    readonly opts: ImportOptions,
  ) {
    this.s = {
      importer: 'lackey',
      input: file,
      lines: 0,
      records: 0,
      reads: 0,
      writes: 0,
      ops: {},
      pages: 0,
      skipped: {},
      malformed: 0,
      firstMalformed: [],
      notes: [],
      processes: {},
    };
  }

  skip(reason: string): void {
    this.s.skipped[reason] = (this.s.skipped[reason] ?? 0) + 1;
  }

  bad(no: number, text: string, reason: string): void {
    if (this.opts.strict) throw new TraceFormatError(this.file, `line ${no}`, `${reason}: ${quoteLine(text)}`);
    this.s.malformed++;
    if (this.s.firstMalformed.length < FIRST_MALFORMED) this.s.firstMalformed.push({ line: no, text: text.slice(0, 200), reason });
  }

  private flush(): void {
    if (this.b.full) this.ready.push(this.b.take());
  }

  op(op: TraceOp): void {
    this.b.pushOp(op);
    this.s.ops[op.op] = (this.s.ops[op.op] ?? 0) + 1;
    this.flush();
  }

  access(kind: number, addr: number, size: number, flags: number): void {
    const first = Math.floor(addr / PAGE);
    const last = Math.floor((addr + Math.max(size, 1) - 1) / PAGE);
    if (!this.space.covers(first, last)) this.synthesise(first, last + 1);
    for (let p = first; p <= last; p++) this.pages.add(p);
    this.b.pushAccess(kind, PID, PID, NaN, addr, size, flags);
    if (kind === REC_WRITE) this.s.writes++;
    else this.s.reads++;
    this.flush();
  }

  /** Map every unmapped page of [start, end), widening to nearby synthesised ranges. */
  synthesise(start: number, end: number): void {
    for (const [lo, hi] of synthRanges(this.space, start, end)) {
      this.mapSynth(lo, hi);
      this.synthMmaps++;
    }
  }

  private mapSynth(lo: number, hi: number): void {
    this.op({
      op: 'mmap',
      pid: PID,
      addr: lo * PAGE,
      len: (hi - lo) * PAGE,
      prot: { ...RWX },
      flags: ['private', 'anonymous', 'fixed'],
      backing: { kind: 'anon' },
      offset: 0,
      result: lo * PAGE,
    });
    this.space.add(lo, hi, FROM_SYNTH);
    this.synthPages += hi - lo;
  }

  /** A successful call proves [start, end) was mapped: map what the importer does not know of (no widening). */
  ensureMapped(start: number, end: number): void {
    for (const [a, b] of this.space.gaps(start, end)) {
      this.mapSynth(a, b);
      this.inferredMmaps++;
    }
  }

  /** The recorded kernel mapped [start, end) afresh: withdraw synthesised ranges there (munmap ops). */
  withdrawSynth(start: number, end: number): void {
    for (const [a, b] of this.space.parts(start, end, FROM_SYNTH)) {
      this.op({ op: 'munmap', pid: PID, addr: a * PAGE, len: (b - a) * PAGE });
      this.space.remove(a, b);
      this.withdrawn++;
    }
  }

  /** One input line. */
  line(text: string, no: number): void {
    this.s.lines++;
    const c0 = text.charCodeAt(0);
    let kind = -1;
    if (c0 === 73 /* I */) {
      if (text.charCodeAt(1) === 32) kind = 0;
    } else if (c0 === 32 && text.charCodeAt(2) === 32) {
      const c1 = text.charCodeAt(1);
      kind = c1 === 76 /* L */ ? 1 : c1 === 83 /* S */ ? 2 : c1 === 77 /* M */ ? 3 : -1;
    }
    if (kind >= 0) {
      this.memLines++;
      this.memLine(text, no, kind as AccessKind);
      return;
    }
    if (c0 === 83 /* S */ && text.startsWith('SYSCALL[')) {
      this.syscallLine(text, no);
      return;
    }
    const banner = /^(?:==|--|\*\*)(?:[\d:.]+ )?(\d+)(?:==|--|\*\*)/.exec(text);
    if (banner) {
      if (c0 === 61 /* = */) this.seePid(Number(banner[1]));
      this.skip('valgrind message');
      return;
    }
    const t = text.trim();
    if (t === '') {
      this.skip('blank line');
      return;
    }
    if (t.startsWith('-->')) {
      this.resultLine(t, text, no);
      return;
    }
    this.bad(no, text, 'not a lackey line (expected "I  addr,size", " L/S/M addr,size", "SYSCALL[pid,tid](nr) ..." or a ==pid== message)');
  }

  private seePid(pid: number): void {
    this.pidLines.set(pid, (this.pidLines.get(pid) ?? 0) + 1);
    if (this.runPid === null) {
      this.runPid = pid;
      if (this.opts.pids && this.opts.pids.length > 0 && !this.opts.pids.includes(pid)) this.filtered = true;
    } else if (pid !== this.runPid) this.otherPids.add(pid);
  }

  private memLine(text: string, no: number, kind: AccessKind): void {
    const n = text.length;
    let i = 2;
    while (i < n && text.charCodeAt(i) === 32) i++;
    let addr = 0;
    let digits = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      addr = addr * 16 + d;
      digits++;
    }
    if (digits === 0 || digits > 16 || i >= n || text.charCodeAt(i) !== 44 /* , */) {
      this.bad(no, text, 'expected a hex address and ",size" after the access kind');
      return;
    }
    i++;
    let size = 0;
    let sd = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      size = size * 10 + (c - 48);
      sd++;
    }
    // Trailing blanks (and a CR) are tolerated.
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== 32 && c !== 13 && c !== 9) break;
    }
    if (sd === 0 || sd > 9 || i !== n || size === 0) {
      this.bad(no, text, 'expected a positive decimal size after the address');
      return;
    }
    if (this.filtered) {
      this.skip('filtered pid');
      return;
    }
    if (addr + size > USER_END) {
      this.skip('access above user space (vsyscall)');
      return;
    }
    this.kinds[kind]!++;
    if (kind === 0) this.access(REC_READ, addr, size, ACC_IFETCH);
    else this.access(kind === 1 ? REC_READ : REC_WRITE, addr, size, 0);
  }

  private syscallLine(text: string, no: number): void {
    this.syscallLines++;
    const sc = parseSyscallLine(text.trimEnd());
    if (typeof sc === 'string') {
      this.bad(no, text, sc);
      return;
    }
    this.seePid(sc.pid);
    if (this.filtered || sc.pid !== this.runPid) {
      this.skip(this.filtered ? 'filtered pid' : 'syscall of another process');
      return;
    }
    if (sc.completion) {
      const start = this.pendingAsync.get(sc.tid);
      if (start === undefined || start.nr !== sc.nr) {
        this.bad(no, text, `an [async] result without its call (no pending syscall ${sc.nr} in thread ${sc.tid})`);
        return;
      }
      this.pendingAsync.delete(sc.tid);
      start.ok = sc.ok;
      start.value = sc.value;
      start.state = 'done';
      this.call(start, no, text);
      return;
    }
    if (sc.state === 'async') {
      if (this.pendingAsync.has(sc.tid)) this.skip('syscall without result');
      this.pendingAsync.set(sc.tid, sc);
      return;
    }
    if (sc.state === 'open') {
      if (this.open) this.skip('syscall without result');
      this.open = sc;
      return;
    }
    this.call(sc, no, text);
  }

  /** A ` --> [pre-fail] Failure(0x26)` line: the result of the previous (open) syscall line. */
  private resultLine(t: string, text: string, no: number): void {
    const sc = this.open;
    if (sc === null) {
      this.bad(no, text, 'a syscall result without its SYSCALL line');
      return;
    }
    const r = parseArrow(t);
    if ('error' in r || 'async' in r) {
      this.bad(no, text, 'error' in r ? r.error : 'expected a syscall result');
      return;
    }
    this.open = null;
    sc.ok = r.ok;
    sc.value = r.value;
    this.call(sc, no, text);
  }

  /** A complete call: its op(s), or a skip reason. */
  private call(sc: SyscallLine, no: number, text: string): void {
    if (!sc.ok) {
      this.skip('failed syscall');
      return;
    }
    const badArgs = () => this.bad(no, text, `unexpected arguments for ${sc.name}: (${sc.args})`);
    /** A value the trace cannot hold (a corrupt line): malformed, nothing emitted. */
    const outOfRange = (fields: Record<string, number | undefined>): boolean => {
      const bad = badValue(fields);
      if (bad !== null) this.bad(no, text, `${sc.name}: ${bad}`);
      return bad !== null;
    };
    const v = sc.value;
    switch (sc.name) {
      case 'mmap':
      case 'mmap2': {
        const a = numericArgs(sc.args, 6);
        if (!a) return badArgs();
        const [addr, len, prot, flagBits, fdRaw, off] = a as [number, number, number, number, number, number];
        const offset = sc.name === 'mmap2' ? off * PAGE : off;
        if (outOfRange({ addr, len, offset, result: v })) return;
        const flags = mmapFlagsOf(flagBits);
        const fd = asInt32(fdRaw);
        let backing: Backing = { kind: 'anon' };
        if (!flags.includes('anonymous')) {
          const name = this.fds.get(fd) ?? `fd ${fd}`;
          backing = name.startsWith('memfd:') ? { kind: 'memfd', name } : { kind: 'file', name };
        }
        const pages = Math.ceil(len / PAGE);
        this.op({ op: 'mmap', pid: PID, addr, len, prot: protOf(prot), flags, backing, offset, result: v });
        this.space.add(v / PAGE, v / PAGE + pages, FROM_SYSCALL);
        return;
      }
      case 'munmap': {
        const a = numericArgs(sc.args, 2);
        if (!a) return badArgs();
        const [addr, len] = a as [number, number];
        if (outOfRange({ addr, len })) return;
        this.op({ op: 'munmap', pid: PID, addr, len });
        this.space.remove(Math.floor(addr / PAGE), Math.ceil((addr + len) / PAGE));
        return;
      }
      case 'mprotect': {
        const a = numericArgs(sc.args, 3);
        if (!a) return badArgs();
        const [addr, len, prot] = a as [number, number, number];
        if (outOfRange({ addr, len })) return;
        this.ensureMapped(Math.floor(addr / PAGE), Math.ceil((addr + len) / PAGE));
        this.op({ op: 'mprotect', pid: PID, addr, len, prot: protOf(prot) });
        return;
      }
      case 'madvise': {
        const a = numericArgs(sc.args, 3);
        if (!a) return badArgs();
        const [addr, len, adv] = a as [number, number, number];
        if (outOfRange({ addr, len })) return;
        const advice = adviceOf(adv);
        if ('unmodelled' in advice) {
          this.skip(`madvise(${advice.unmodelled}): not modelled`);
          return;
        }
        this.ensureMapped(Math.floor(addr / PAGE), Math.ceil((addr + len) / PAGE));
        this.op({ op: 'madvise', pid: PID, addr, len, advice: advice.advice });
        return;
      }
      case 'mremap': {
        const a = numericArgs(sc.args, 4, 5);
        if (!a) return badArgs();
        const [addr, oldLen, newLen, flagBits, newAddr] = a as [number, number, number, number, number | undefined];
        const flags = mremapFlagsOf(flagBits);
        // new_addr means something only with MREMAP_FIXED; otherwise it is whatever the register held.
        if (outOfRange({ addr, oldLen, newLen, newAddr: flags.includes('fixed') ? newAddr : undefined, result: v })) return;
        const oldStart = addr / PAGE;
        const oldPages = Math.ceil(oldLen / PAGE);
        const newPages = Math.ceil(newLen / PAGE);
        this.ensureMapped(oldStart, oldStart + oldPages);
        const dest = v / PAGE;
        if (dest === oldStart) {
          if (newPages > oldPages) this.withdrawSynth(oldStart + oldPages, oldStart + newPages);
        } else this.withdrawSynth(dest, dest + newPages);
        // A call that moved the mapping goes to the recorded address as MREMAP_FIXED: given only the
        // result as a hint, the replay would grow in place where the recorded kernel (or valgrind) moved.
        const pin = dest !== oldStart && !flags.includes('fixed');
        if (pin) this.pinnedMremaps++;
        const fixedTo = pin ? { newAddr: v } : newAddr !== undefined && flags.includes('fixed') ? { newAddr } : {};
        this.op({ op: 'mremap', pid: PID, addr, oldLen, newLen, flags: pin ? [...flags, 'fixed'] : flags, ...fixedTo, result: v });
        if (dest === oldStart) {
          if (newPages < oldPages) this.space.remove(oldStart + newPages, oldStart + oldPages);
          else this.space.add(oldStart + oldPages, oldStart + newPages, FROM_SYSCALL);
        } else {
          if (!flags.includes('dontunmap')) this.space.remove(oldStart, oldStart + oldPages);
          this.space.add(dest, dest + newPages, FROM_SYSCALL);
        }
        return;
      }
      case 'brk': {
        const a = numericArgs(sc.args, 1);
        if (!a) return badArgs();
        const addr = a[0]!;
        if (outOfRange({ addr, result: v })) return;
        if (this.brkStart === null) {
          // brk(0) answers the current break: at the first call, the heap start. After a first call that
          // moves the break, the start is unknown: take the answer, so that the replay's heap starts there.
          this.brkStart = v;
          this.brk = v;
          this.op({ op: 'exec', pid: PID, brkStart: v });
          if (addr !== 0 && v === addr) {
            this.s.notes.push(`the first brk call moved the break (to 0x${v.toString(16)}): the heap below it is synthesised where touched`);
            return;
          }
        }
        if (addr !== 0 && v !== addr) {
          this.skip('failed syscall');
          return;
        }
        this.op({ op: 'brk', pid: PID, addr });
        if (addr === 0) return;
        const oldEnd = Math.ceil(this.brk / PAGE);
        const newEnd = Math.ceil(addr / PAGE);
        if (newEnd > oldEnd) {
          this.withdrawSynth(oldEnd, newEnd);
          this.space.add(oldEnd, newEnd, FROM_SYSCALL);
        } else if (newEnd < oldEnd) this.space.remove(newEnd, oldEnd);
        this.brk = addr;
        return;
      }
      case 'read':
      case 'pread64': {
        const a = numericArgs(sc.args, sc.name === 'read' ? 3 : 4);
        if (!a) return badArgs();
        if (outOfRange({ buf: a[1], result: v })) return;
        if (v > 0xffffffff) return void this.bad(no, text, `${sc.name}: result ${v}: expected a byte count below 2^32`);
        if (v > 0) {
          this.kernelWrites++;
          this.access(REC_WRITE, a[1]!, v, ACC_KERNEL);
        } else this.skip('syscall not modelled');
        return;
      }
      case 'open':
      case 'openat':
      case 'memfd_create': {
        const path = stringArg(sc.args);
        if (path !== null) this.fds.set(v, sc.name === 'memfd_create' ? `memfd:${path}` : path);
        this.skip('syscall not modelled');
        return;
      }
      case 'close': {
        const a = numericArgs(sc.args, 1);
        if (a) this.fds.delete(asInt32(a[0]!));
        this.skip('syscall not modelled');
        return;
      }
      case 'dup':
      case 'dup2':
      case 'dup3': {
        const a = numericArgs(sc.args, 1, 2, 3);
        const from = a ? this.fds.get(asInt32(a[0]!)) : undefined;
        if (from !== undefined) this.fds.set(v, from);
        else this.fds.delete(v);
        this.skip('syscall not modelled');
        return;
      }
      default:
        this.skip('syscall not modelled');
    }
  }

  finish(): void {
    for (let k = 0; k < this.pendingAsync.size; k++) this.skip('syscall without result (log ended)');
    this.pendingAsync.clear();
    if (this.open) this.skip('syscall without result (log ended)');
    this.open = null;
    if (!this.b.empty) this.ready.push(this.b.take());
    const s = this.s;
    s.records = this.b.position;
    s.pages = this.pages.count;
    if (this.runPid !== null) this.pidLines.set(this.runPid, (this.pidLines.get(this.runPid) ?? 0) + this.memLines);
    s.processes = Object.fromEntries([...this.pidLines].map(([pid, n]) => [String(pid), n]));
    const [i, l, st, m] = this.kinds;
    const notes: string[] = [];
    notes.push(
      `lackey memory lines: I ${i}, L ${l}, S ${st}, M ${m} (each M written as one store: an x86 read-modify-write faults once, as a write)`,
    );
    if (this.runPid !== null)
      notes.push(`process ${this.runPid} of the recording is pid 1 in the trace; lackey memory lines carry no thread id, so every record has tid 1`);
    if (this.otherPids.size > 0)
      notes.push(
        `the log also shows process(es) ${[...this.otherPids].join(', ')} (--trace-children?): their syscalls were dropped, and memory lines, which carry no pid, were all attributed to ${this.runPid}`,
      );
    if ((this.opts.tids?.length ?? 0) > 0 || (this.opts.comms?.length ?? 0) > 0)
      notes.push('--tid and --comm do not apply to lackey logs (memory lines carry neither) and were ignored');
    if (this.syscallLines === 0) {
      notes.push(
        `no SYSCALL lines (recorded without --trace-syscalls=yes): every mapping is synthesised from the touched addresses: ${this.synthMmaps} private anonymous rwx mmaps (${this.synthPages} pages), each emitted just before the first access outside every mapping so far, covering the untouched pages and widened over holes of at most ${SYNTH_GAP_PAGES} pages to the nearest synthesised mapping; no munmap, mprotect, madvise or brk is known`,
      );
    } else if (this.synthMmaps + this.inferredMmaps > 0) {
      notes.push(
        `${this.synthMmaps} mappings synthesised for accesses outside every mapping the SYSCALL lines show (what valgrind's loader mapped before the first instruction: the executable, ld.so, the stack), ${this.inferredMmaps} more for ranges a successful mprotect/madvise/mremap proves were mapped; ${this.synthPages} pages in all, private anonymous rwx (file-backed text and data read as zero-fill pages)` +
          (this.withdrawn > 0 ? `; ${this.withdrawn} synthesised ranges withdrawn (munmap) where a recorded mremap or brk grew into them` : ''),
      );
    }
    if (this.pinnedMremaps > 0)
      notes.push(`${this.pinnedMremaps} mremap calls that moved their mapping are written with MREMAP_FIXED to the recorded address`);
    notes.push(
      this.syscallLines === 0
        ? 'lackey sees user-mode accesses only: stores the kernel makes into user buffers (read() filling a buffer, copy_to_user) are absent, so pages only the kernel wrote are missing from the ground truth'
        : `lackey sees user-mode accesses only: ${this.kernelWrites} kernel stores into user buffers were added from read()/pread64() results (kernel-mode writes); those of other calls (readv, recvmsg, stat buffers, ...) are absent`,
    );
    if (this.s.malformed > 0) notes.push(`${this.s.malformed} malformed lines skipped`);
    s.notes = [...s.notes, ...notes];
  }
}

/**
 * Open a lackey log for import. Fails at once (PteplayError) when the file cannot be opened; a
 * malformed line is a TraceFormatError with its line number while iterating `chunks` in strict mode,
 * and is counted in the summary otherwise. `onProgress` gets `totalBytes` 0 for a gzip log (its
 * decompressed size is unknown; `bytes` counts decompressed bytes).
 */
export async function importLackey(path: string, opts: ImportOptions = {}): Promise<ImportedTrace> {
  const src = await openByteSource(path);
  const imp = new LackeyImporter(path, opts);
  const header: TraceHeader = { pteplay: 'trace', version: 1, source: `valgrind lackey log ${basename(path)} (pteplay import lackey)` };
  const chunks = importLines(src, path, opts, {
    line: (text, n) => imp.line(text, n),
    finish: () => imp.finish(),
    drain: () => imp.ready.splice(0),
    records: () => imp.b.position,
    summary: () => imp.s,
  });
  return { header, chunks, summary: () => imp.s };
}
