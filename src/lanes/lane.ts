/**
 * A lane: one independent simulated system with one tracker configuration. It executes every record
 * of the trace in order (accesses through the MMU and fault path, ops as syscalls), runs the lane's
 * tracker protocol for `reset` / `collect`, simulates the sync uffd monitor, and emits PTE change
 * events, op results and collect results.
 */
import { performance } from 'node:perf_hooks';
import { Why } from '../mm/cause.js';
import { ACCESS_OK, accessPage } from '../mm/access.js';
import { FAULT_BLOCKED } from '../mm/fault-types.js';
import { PF_DATA } from '../mm/frames.js';
import { GT_W } from '../mm/leaf.js';
import { TLB_READ, TLB_WRITE } from '../mm/tlb.js';
import { A, D, KIND_MASK, PMD_TABLE, PRESENT, PROTNONE, W } from '../mm/pte.js';
import { PteEventSink } from '../mm/events.js';
import type { Mm } from '../mm/mm.js';
import { System, sysfsFrom, type UffdListener } from '../mm/system.js';
import { forkedUffdCtx } from '../mm/fork.js';
import { HPAGE_PMD_NR, PAGE_SIZE, PTRS_PER_PTE, TASK_SIZE_PAGES, UFFD_EVENT_FORK, UFFD_EVENT_PAGEFAULT } from '../mm/uapi.js';
import { uffdioWriteprotect } from '../trackers/userfaultfd.js';
import type { UffdCtx, UffdMsg } from '../mm/uffd-ctx.js';
import { ACC_KERNEL, REC_OP, REC_WRITE, type SysfsSettings, type TraceChunk, type TraceOp } from '../trace/types.js';
import type { LaneConfig } from './config.js';
import { makeDriver } from './drivers/make.js';
import type { TrackerDriver } from './drivers/driver.js';
import { MONITOR_FD } from './drivers/uffd-monitor.js';
import { UffdSyncDriver } from './drivers/uffd-sync.js';
import { evaluate } from './evaluate.js';
import { executeOp } from './ops.js';
import { watchOtherConsumer } from './other-consumers.js';
import type { CollectResult, Keyframe, PagemapAnswer, UffdMsgRow, VmaChangeRow } from './results.js';
import { CTR, diffCounters, type Counters } from '../mm/counters.js';
import type { PteChangeBatch } from '../mm/events.js';
import type { OpResult } from '../mm/system.js';
import { captureKeyframe, finalPages, vmaChanges, type FinalRun } from './history.js';
import { addOpTime, type OpTimes } from './op-times.js';
import { PageRuns } from './page-runs.js';
import { resetTruth } from './truth.js';

/** A present, accessible PTE that a load passes without any change (A already set). */
const FAST_READ_MASK = KIND_MASK | PROTNONE | A;
const FAST_READ = PRESENT | A;
/** ... and that a store passes without any change (writable, A and D already set). */
const FAST_WRITE_MASK = FAST_READ_MASK | W | D;
const FAST_WRITE = FAST_READ | W | D;

/** A thread blocked in handle_userfault until the monitor un-protects its page. */
interface Blocked {
  due: number;
  ctx: UffdCtx;
  pid: number;
  tid: number;
  vpn: number;
  last: number;
  write: boolean;
  kernel: boolean;
  t: number;
}

export interface LaneSinks {
  onChanges?: (b: PteChangeBatch) => void;
  onOp?: (r: OpResult) => void;
  onCollect?: (c: CollectResult) => void;
  onVmaChanges?: (rows: VmaChangeRow[]) => void;
  onUffdMsg?: (m: UffdMsgRow) => void;
  /** What a pagemap_read / pagemap_scan record of the trace returned (entries or regions). */
  onPagemap?: (a: PagemapAnswer) => void;
  /** Keyframes of the page tables, at chunk ends, at least `keyframeEvery` change rows apart. */
  onKeyframe?: (k: Keyframe) => void;
  keyframeEvery?: number;
  /** The page tables at the end of the run (final_page). */
  onFinalState?: (runs: FinalRun[]) => void;
}

export class Lane implements UffdListener {
  readonly sys: System;
  readonly driver: TrackerDriver;
  private blocked: Blocked[] = [];
  private collectIndex = 0;
  /** Each process's counters and accesses at its last collect (a new process starts from zero). */
  private readonly lastCollect = new WeakMap<Mm, { counters: Counters; accesses: number }>();
  private lastCollectTime = NaN;
  private lastKeyframeSeq = 0;
  /** The trace carries time (otherwise collect times and interval lengths are unknown: NaN). */
  private timed = false;
  private lastMm: Mm | undefined;
  private lastPid = -1;
  /** VMA states the VMA history compared so far (before and after each op): its cost, which tests bound. */
  vmaStatesCompared = 0;
  /** Time spent on the trace's op records so far, per op kind (op-times.ts). */
  readonly opTimes: OpTimes = {};

  constructor(
    readonly id: number,
    readonly config: LaneConfig,
    sysfs: SysfsSettings | undefined,
    private readonly sinks: LaneSinks,
    /** Use the TLB fast path (off: every access through the full model; for tests that prove it changes nothing). */
    private readonly tlb = true,
  ) {
    this.sys = new System(id, config.profile, sysfsFrom(sysfs, config.sysfs), new PteEventSink(id, sinks.onChanges ?? null));
    this.sys.uffdListener = this;
    this.sys.opSink = sinks.onOp ?? null;
    this.driver = makeDriver(config);
  }

  private mmOf(pid: number): Mm | undefined {
    if (pid !== this.lastPid) {
      this.lastMm = this.sys.mm(pid);
      this.lastPid = pid;
    }
    return this.lastMm;
  }

  /**
   * Execute one chunk of the trace. Most accesses hit a page whose entry already lets them through
   * with nothing to change (A, and for a store W, D and the write truth already set): the TLB (or a
   * table walk that fills it) says so, and the access is only counted. Everything else (a fault, a
   * first store since the reset, a hardware A/D update, an access that spans pages, a blocked thread
   * to wake, an op) goes through the full model with the record's position and time. `runs` are the
   * chunk's page runs (PageRuns.compute(c)), shared by the lanes of a thread.
   */
  processChunk(c: TraceChunk, runs: PageRuns = new PageRuns().compute(c)): void {
    const sys = this.sys;
    const n = c.n;
    const kinds = c.kind;
    let opIndex = 0;
    let fastAfterSlow = false;
    for (let i = 0; i < n; ) {
      // A blocked thread is woken at the record it is due by (or at its own next record), with the
      // clock at that record; once none is left, the record may take the hit path like any other.
      let resolved = false;
      if (this.blocked.length > 0) {
        this.advanceClock(c, i);
        this.resolveDue(c.pid[i]!, c.tid[i]!);
        resolved = true;
      }
      if (this.tlb && this.blocked.length === 0) {
        const j = this.hitRun(c, runs, i);
        if (j > i) {
          fastAfterSlow = true;
          i = j;
          continue;
        }
      }
      fastAfterSlow = false;
      this.slowRecord(c, i, kinds[i] === REC_OP ? c.ops[opIndex++]! : null, resolved);
      i++;
    }
    if (fastAfterSlow) this.advanceClock(c, n - 1);
    sys.sink.flush();
    const every = this.sinks.keyframeEvery ?? 0;
    if (this.sinks.onKeyframe && every > 0 && sys.sink.nextSeq - this.lastKeyframeSeq >= every) {
      this.lastKeyframeSeq = sys.sink.nextSeq;
      this.sinks.onKeyframe(captureKeyframe(sys, this.id, sys.sink.nextSeq, sys.pos));
    }
  }

  /**
   * The hit path: records `from`.. of `c` that are TLB hits (or table walks that fill the TLB), up to
   * the first record that needs the full model (an op, an access that spans pages or has something to
   * change). Hits change nothing but the access count (and whether the trace is timed), so a whole run
   * of accesses to one page costs one lookup: loads and stores pass if the page lets stores through,
   * else the loads up to the run's first store. Returns the index of the first record not executed.
   */
  private hitRun(c: TraceChunk, runs: PageRuns, from: number): number {
    const { end, vpn: vpns, nextWrite, nextTimed } = runs;
    const pids = c.pid;
    const n = c.n;
    let pid = -1;
    let mm: Mm | undefined;
    let hits = 0;
    let timed = this.timed;
    let i = from;
    while (i < n) {
      const stop = end[i]!;
      if (stop === i) break;
      if (pids[i] !== pid) {
        if (mm !== undefined) mm.accesses += hits;
        hits = 0;
        pid = pids[i]!;
        mm = this.mmOf(pid);
        if (mm === undefined) break;
      }
      const vpn = vpns[i]!;
      let perm = mm!.tlb.lookup(vpn);
      if (perm === 0) perm = this.tlbFill(mm!, vpn, TLB_READ);
      // A page that lets only loads through passes the run's loads up to its first store.
      if (perm === TLB_READ && nextWrite[i] === i) perm = this.tlbFill(mm!, vpn, TLB_WRITE);
      if (perm === 0) break;
      const to = perm === TLB_WRITE ? stop : nextWrite[i]!;
      if (!timed && nextTimed[i]! < to) timed = true;
      hits += to - i;
      i = to;
    }
    if (mm !== undefined) mm.accesses += hits;
    this.timed = timed;
    return i;
  }

  /**
   * TLB miss: walk the table as the hardware would and, if the entry lets the access through with
   * nothing to change (A, and for a store W, D, the write truth and the frame's data mark already
   * set), cache that in the TLB and return the permission cached (TLB_READ or TLB_WRITE); 0 otherwise.
   */
  private tlbFill(mm: Mm, vpn: number, need: number): number {
    const slot = Math.floor(vpn / PTRS_PER_PTE);
    const leaf = mm.leafAt(slot);
    if (leaf === undefined || leaf.pmd !== PMD_TABLE) return 0;
    const k = vpn - slot * PTRS_PER_PTE;
    // The leaf remembers what the last check found, until something invalidates it.
    const known = mm.tlb.leafPerm(leaf, k);
    if (known === TLB_WRITE || known === need) {
      mm.tlb.fill(vpn, known);
      return known;
    }
    const e = leaf.pte[k]!;
    if ((e & FAST_READ_MASK) !== FAST_READ) return 0;
    const writable = (e & FAST_WRITE_MASK) === FAST_WRITE && (leaf.gt[k]! & GT_W) !== 0 && (this.sys.frames.flags[leaf.pfn[k]!]! & PF_DATA) !== 0;
    if (need === TLB_WRITE && !writable) return 0;
    const perm = writable ? TLB_WRITE : TLB_READ;
    mm.tlb.fill(vpn, perm);
    mm.tlb.leafFill(leaf, k, perm);
    return perm;
  }

  /** The lane's clock and position: record `i` of `c` is the one being executed. */
  private advanceClock(c: TraceChunk, i: number): void {
    const sys = this.sys;
    const pos = c.posCol !== undefined ? c.posCol[i]! : c.pos0 + i;
    sys.pos = pos;
    sys.sink.pos = pos;
    const t = c.time[i]!;
    // Without trace time, the record number stands in for the clock (ordering only).
    if (!Number.isNaN(t)) {
      sys.now = t;
      this.timed = true;
    } else sys.now = pos;
    sys.sink.time = t;
  }

  /**
   * Record `i` of `c` through the full model: an op, or an access with its faults. `resolved`: the
   * clock is at the record and the blocked threads due were woken already (processChunk).
   */
  private slowRecord(c: TraceChunk, i: number, op: TraceOp | null, resolved: boolean): void {
    const sys = this.sys;
    if (!resolved) {
      this.advanceClock(c, i);
      if (this.blocked.length > 0) this.resolveDue(c.pid[i]!, c.tid[i]!);
    }
    if (op !== null) {
      sys.charge(sys.mm(op.pid));
      this.op(op);
      return;
    }
    const mm = this.mmOf(c.pid[i]!);
    sys.charge(mm);
    if (mm === undefined) {
      sys.count(CTR.fault_sigsegv);
      return;
    }
    mm.accesses++;
    const addr = c.addr[i]!;
    const first = Math.floor(addr / PAGE_SIZE);
    const last = Math.floor((addr + Math.max(c.size[i]!, 1) - 1) / PAGE_SIZE);
    this.access(mm, c.tid[i]!, first, last, c.kind[i] === REC_WRITE, (c.flags[i]! & ACC_KERNEL) !== 0);
  }

  private access(mm: Mm, tid: number, first: number, last: number, write: boolean, kernel: boolean): void {
    for (let vpn = first; vpn <= last; vpn++) {
      const r = accessPage(mm, vpn, write, kernel, tid);
      if (r === ACCESS_OK) {
        // The page's table is in cache now: let the next access to it take the fast path.
        if (this.tlb) this.tlbFill(mm, vpn, write ? TLB_WRITE : TLB_READ);
        continue;
      }
      if (r === FAULT_BLOCKED) {
        const ctx = mm.vmas.find(vpn)!.uffd!;
        this.blocked.push({
          due: this.sys.now + this.config.monitorLatencyNs,
          ctx,
          pid: mm.pid,
          tid,
          vpn,
          last,
          write,
          kernel,
          t: this.sys.now,
        });
      }
      return; // SIGSEGV / SIGBUS / EFAULT: the access does not happen; a blocked one resumes later
    }
  }

  /**
   * UffdListener: a message was queued. The sync driver logs WP faults on its own context. A
   * UFFD_EVENT_FORK on the monitor's context is read at once (fork waits for that): read() installs
   * the child's new context as a fd of the monitor (fs/userfaultfd.c:resolve_userfault_fork), which
   * the model keeps as the child's MONITOR_FD, so the child is tracked from then on (D12).
   */
  onMessage(ctx: UffdCtx, msg: UffdMsg): void {
    this.sinks.onUffdMsg?.({
      lane: this.id,
      pos: this.sys.pos,
      pid: ctx.pid,
      ctx: ctx.id,
      event: msg.event,
      flags: msg.flags,
      vpn: msg.vpn,
      vpn2: msg.vpn2,
      pages: msg.pages,
      tid: msg.tid,
      time: this.timed ? msg.t : NaN,
    });
    const monitors = this.sys.mms.get(ctx.pid)?.fds.get(MONITOR_FD) === ctx;
    if (msg.event === UFFD_EVENT_PAGEFAULT && monitors && this.driver instanceof UffdSyncDriver) {
      // A hugetlb fault reports the huge page: the monitor logs (and later un-protects) all of it.
      const pages = this.sys.mms.get(ctx.pid)?.vmas.find(msg.vpn)?.isHugetlb ? HPAGE_PMD_NR : 1;
      for (let k = 0; k < pages; k++) this.driver.record(ctx.pid, msg.vpn + k);
    } else if (msg.event === UFFD_EVENT_FORK && monitors) {
      const nctx = forkedUffdCtx(this.sys, msg.vpn);
      const child = this.sys.mms.get(msg.vpn2);
      if (nctx !== undefined && child !== undefined) child.fds.set(MONITOR_FD, nctx);
      const i = ctx.queue.indexOf(msg);
      if (i >= 0) ctx.queue.splice(i, 1);
    }
  }

  /** UffdListener: a kernel-mode fault blocks its syscall until the monitor answers, so it answers now. */
  resolveKernelFault(mm: Mm, vpn: number): void {
    const ctx = mm.vmas.find(vpn)?.uffd;
    if (ctx) this.monitorUnprotect(ctx, vpn, this.config.monitorLatencyNs);
  }

  /** Wake threads whose monitor round trip is over, and any thread that is about to run again. */
  private resolveDue(pid: number, tid: number): void {
    const now = this.sys.now;
    const blocked = this.blocked;
    if (blocked.length === 1) {
      // The common case (one thread, its WP fault): no array, no closure.
      const b = blocked[0]!;
      if (b.due > now && (b.pid !== pid || b.tid !== tid)) return;
      blocked.length = 0;
      this.resolve(b);
      if (this.blockedThread(pid, tid)) this.resolveDue(pid, tid);
      return;
    }
    // In place: this runs before every record while a thread is blocked (every sync WP fault).
    let ready: Blocked[] | null = null;
    let kept = 0;
    for (const b of blocked) {
      if (b.due <= now || (b.pid === pid && b.tid === tid)) (ready ??= []).push(b);
      else blocked[kept++] = b;
    }
    if (ready === null) return;
    blocked.length = kept;
    for (const b of ready) this.resolve(b);
    // The thread about to run must not be waiting any more: a store that spans pages may have
    // blocked again on its next page (the monitor answers that fault too before the thread goes on).
    if (this.blockedThread(pid, tid)) this.resolveDue(pid, tid);
  }

  private blockedThread(pid: number, tid: number): boolean {
    for (const b of this.blocked) if (b.pid === pid && b.tid === tid) return true;
    return false;
  }

  /**
   * The monitor's answer to one WP fault (uffd-common.c): read() the message, UFFDIO_WRITEPROTECT the
   * page with mode 0 (which also wakes the thread), then the thread retries its access.
   */
  private resolve(b: Blocked): void {
    const mm = this.sys.mms.get(b.pid);
    if (!mm) return;
    this.sys.charge(mm);
    const unprotected = this.monitorUnprotect(b.ctx, b.vpn, Math.max(0, Math.min(b.due, this.sys.now) - b.t) || this.config.monitorLatencyNs);
    // A thread whose context can no longer answer (no process holds a fd of it) sleeps on; one whose
    // VMA left the context meanwhile was woken by the unregister (wake_userfault) and retries.
    if (unprotected || mm.vmas.find(b.vpn)?.uffd !== b.ctx) this.access(mm, b.tid, b.vpn, b.last, b.write, b.kernel);
  }

  /**
   * read() + UFFDIO_WRITEPROTECT(mode 0) of one page by the monitor, with its costs; quiet in the op
   * log. False when the page could not be un-protected (no fd reaches the context, or the ioctl failed).
   */
  private monitorUnprotect(ctx: UffdCtx, vpn: number, stallNs: number): boolean {
    const sys = this.sys;
    const owner = sys.mms.get(ctx.pid);
    if (!owner) return false;
    sys.count(CTR.monitor_syscalls, 2);
    sys.count(CTR.ctx_switches, 2);
    sys.count(CTR.stall_ns, stallNs);
    ctx.queue.shift();
    // Through the owner's own fd (at every WP fault: no handle object), else any fd that reaches the context.
    let mm = owner;
    let fd = MONITOR_FD;
    if (owner.fds.get(MONITOR_FD) !== ctx) {
      const handle = this.ctxHandle(ctx);
      if (handle === null) return false;
      mm = handle.mm;
      fd = handle.fd;
    }
    const saved = sys.origin;
    sys.origin = 'driver';
    sys.quiet = true;
    // UFFDIO_WRITEPROTECT of a hugetlb range must cover whole huge pages (EINVAL otherwise).
    const pages = owner.vmas.find(vpn)?.isHugetlb ? HPAGE_PMD_NR : 1;
    const first = vpn - (vpn % pages);
    const r = uffdioWriteprotect(mm, fd, first * PAGE_SIZE, pages * PAGE_SIZE, 0, Why.WRITE);
    sys.quiet = false;
    sys.origin = saved;
    return r === 0;
  }

  /**
   * A process and fd through which the monitor reaches `ctx` (the ioctl acts on the context's own mm
   * whoever calls it): the owner's fd — MONITOR_FD for a context created by fork (EVENT_FORK) — else
   * any process's, since fork copies fds and the uffd stays open in a child after the parent closed it.
   */
  private ctxHandle(ctx: UffdCtx): { mm: Mm; fd: number } | null {
    const owner = this.sys.mms.get(ctx.pid);
    if (owner?.fds.get(MONITOR_FD) === ctx) return { mm: owner, fd: MONITOR_FD };
    for (const mm of owner ? [owner, ...this.sys.mms.values()] : this.sys.mms.values()) {
      for (const [fd, c] of mm.fds) if (c === ctx) return { mm, fd };
    }
    return null;
  }

  /**
   * Resolve every blocked thread (before the protocol reads or re-arms, and at the end of the trace),
   * until none is left: a store that spans pages may block again on its next page.
   */
  drainBlocked(): void {
    while (this.blocked.length > 0) {
      const all = this.blocked;
      this.blocked = [];
      for (const b of all) this.resolve(b);
    }
  }

  private op(op: TraceOp): void {
    const t0 = performance.now();
    this.runOp(op);
    addOpTime(this.opTimes, op.op, (performance.now() - t0) * 1e6);
  }

  private runOp(op: TraceOp): void {
    const log = this.sinks.onVmaChanges && op.op !== 'mark' ? this.sys.vmaLog : null;
    log?.begin();
    if (op.op === 'reset' || op.op === 'collect') this.protocol(op);
    else {
      const otherConsumer = watchOtherConsumer(this.sys, op);
      const answer = executeOp(this.sys, op);
      if (answer !== null) this.sinks.onPagemap?.(answer);
      otherConsumer?.();
      // Syscalls edit tables, truth and frames directly, not only through setPte: flush every TLB.
      // (The tracker protocol changes entries through setPte and truth through resetTruth only.)
      for (const mm of this.sys.mms.values()) mm.tlb.flush();
    }
    this.lastPid = -1;
    if (log !== null) {
      log.end();
      const { rows, visited } = vmaChanges(this.id, this.sys.pos, log);
      this.vmaStatesCompared += visited;
      if (rows.length > 0) this.sinks.onVmaChanges!(rows);
    }
  }

  /**
   * The generic tracker protocol, over one process or (pid 0) every live process of the trace. A
   * collect gives one row per process, each with that process's own interval counters; the interval
   * length in time is the same for all of them (since the previous collect op).
   */
  private protocol(op: Extract<TraceOp, { op: 'reset' | 'collect' }>): void {
    const start = op.len === 0 ? 0 : Math.floor(op.addr / PAGE_SIZE);
    const end = op.len === 0 ? TASK_SIZE_PAGES : Math.ceil((op.addr + op.len) / PAGE_SIZE);
    const mms = op.pid === 0 ? [...this.sys.mms.values()] : [this.sys.mm(op.pid)].filter((m): m is Mm => m !== undefined);
    const saved = this.sys.origin;
    this.sys.origin = 'driver';
    // A monitor answers the faults it has read before it reads or re-arms: a store waiting across a
    // re-arm would be un-protected after it and go through unseen, its message logged in the old interval.
    this.drainBlocked();
    const now = this.sys.now;
    const intervalNs = !this.timed ? NaN : !Number.isNaN(this.lastCollectTime) ? now - this.lastCollectTime : now;
    for (const mm of mms) {
      this.sys.charge(mm);
      if (op.op === 'reset') {
        this.driver.reset(mm, start, end);
        resetTruth(mm, start, end);
      } else {
        this.collect(mm, start, end, op.reset, op.label ?? null, intervalNs);
      }
    }
    if (op.op === 'collect') this.lastCollectTime = now;
    this.sys.origin = saved;
  }

  private collect(mm: Mm, start: number, end: number, reset: boolean, label: string | null, intervalNs: number): void {
    const reading = this.driver.collect(mm, start, end, false);
    const ev = evaluate(mm, start, end, reading.pages, this.config.tracker);
    if (reset) {
      this.driver.reset(mm, start, end);
      resetTruth(mm, start, end);
    }
    const last = this.lastCollect.get(mm);
    const result: CollectResult = {
      lane: this.id,
      index: this.collectIndex++,
      pos: this.sys.pos,
      time: this.timed ? this.sys.now : NaN,
      pid: mm.pid,
      startVpn: start,
      endVpn: Math.min(end, TASK_SIZE_PAGES),
      label,
      method: reading.method,
      intervalAccesses: mm.accesses - (last?.accesses ?? 0),
      intervalNs,
      errors: reading.errors,
      cost: last === undefined ? new Float64Array(mm.counters) : diffCounters(mm.counters, last.counters),
      ...ev,
    };
    this.lastCollect.set(mm, { counters: new Float64Array(mm.counters), accesses: mm.accesses });
    this.sinks.onCollect?.(result);
  }

  /** End of the trace: wake blocked threads and hand out the last events and the final state. */
  finish(): void {
    this.drainBlocked();
    this.sys.sink.flush();
    this.sinks.onFinalState?.(finalPages(this.sys));
  }
}
