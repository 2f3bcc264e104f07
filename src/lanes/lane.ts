/**
 * A lane: one independent simulated system with one tracker configuration. It executes every record
 * of the trace in order (accesses through the MMU and fault path, ops as syscalls), runs the lane's
 * tracker protocol for `reset` / `collect`, simulates the sync uffd monitor, and emits PTE change
 * events, op results and collect results.
 */
import { Why } from '../mm/cause.js';
import { ACCESS_OK, accessPage } from '../mm/access.js';
import { FAULT_BLOCKED } from '../mm/fault.js';
import { PteEventSink } from '../mm/events.js';
import type { Mm } from '../mm/mm.js';
import { System, sysfsFrom, type UffdListener } from '../mm/system.js';
import { forkedUffdCtx } from '../mm/fork.js';
import {
  HPAGE_PMD_NR, PAGE_SIZE, TASK_SIZE_PAGES, UFFD_EVENT_FORK, UFFD_EVENT_PAGEFAULT,
} from '../mm/uapi.js';
import { uffdioWriteprotect } from '../trackers/userfaultfd.js';
import type { UffdCtx, UffdMsg } from '../trackers/uffd-ctx.js';
import { ACC_KERNEL, REC_OP, REC_WRITE, type SysfsSettings, type TraceChunk, type TraceOp } from '../trace/types.js';
import type { LaneConfig } from './config.js';
import { makeDriver } from './drivers/make.js';
import type { TrackerDriver } from './drivers/driver.js';
import { MONITOR_FD } from './drivers/uffd-monitor.js';
import { UffdSyncDriver } from './drivers/uffd-sync.js';
import { evaluate } from './evaluate.js';
import { executeOp } from './ops.js';
import { diffCounters, type CollectResult, type Keyframe, type OpResult, type PteChangeBatch, type UffdMsgRow, type VmaChangeRow } from './results.js';
import { captureKeyframe, finalPages, vmaDiff, vmaSnapshot, type FinalRun } from './history.js';
import { resetTruth } from './truth.js';

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
  private lastCollectCounters: Float64Array;
  private accessesSinceCollect = 0;
  private lastCollectTime = NaN;
  private lastKeyframeSeq = 0;
  /** The trace carries time (otherwise collect times and interval lengths are unknown: NaN). */
  private timed = false;
  private lastMm: Mm | undefined;
  private lastPid = -1;

  constructor(
    readonly id: number,
    readonly config: LaneConfig,
    sysfs: SysfsSettings | undefined,
    private readonly sinks: LaneSinks,
  ) {
    this.sys = new System(id, config.profile, sysfsFrom(sysfs, config.sysfs), new PteEventSink(id, sinks.onChanges ?? null));
    this.sys.uffdListener = this;
    this.sys.opSink = sinks.onOp ?? null;
    this.driver = makeDriver(config);
    this.lastCollectCounters = new Float64Array(this.sys.counters);
  }

  private mmOf(pid: number): Mm | undefined {
    if (pid !== this.lastPid) {
      this.lastMm = this.sys.mm(pid);
      this.lastPid = pid;
    }
    return this.lastMm;
  }

  /** Execute one chunk of the trace. */
  processChunk(c: TraceChunk): void {
    const sys = this.sys;
    let opIndex = 0;
    for (let i = 0; i < c.n; i++) {
      const pos = c.posCol !== undefined ? c.posCol[i]! : c.pos0 + i;
      sys.pos = pos;
      sys.sink.pos = pos;
      const t = c.time[i]!;
      // Without trace time, the record number stands in for the clock (ordering only).
      if (t === t) {
        sys.now = t;
        this.timed = true;
      } else sys.now = pos;
      sys.sink.time = t;
      if (this.blocked.length > 0) this.resolveDue(c.pid[i]!, c.tid[i]!);
      if (c.kind[i] === REC_OP) {
        this.op(c.ops[opIndex++]!);
        continue;
      }
      this.accessesSinceCollect++;
      const mm = this.mmOf(c.pid[i]!);
      if (mm === undefined) {
        sys.count('fault_sigsegv');
        continue;
      }
      const addr = c.addr[i]!;
      const first = Math.floor(addr / PAGE_SIZE);
      const last = Math.floor((addr + Math.max(c.size[i]!, 1) - 1) / PAGE_SIZE);
      this.access(mm, c.tid[i]!, first, last, c.kind[i] === REC_WRITE, (c.flags[i]! & ACC_KERNEL) !== 0);
    }
    sys.sink.flush();
    const every = this.sinks.keyframeEvery ?? 0;
    if (this.sinks.onKeyframe && every > 0 && sys.sink.nextSeq - this.lastKeyframeSeq >= every) {
      this.lastKeyframeSeq = sys.sink.nextSeq;
      this.sinks.onKeyframe(captureKeyframe(sys, this.id, sys.sink.nextSeq, sys.pos));
    }
  }

  private access(mm: Mm, tid: number, first: number, last: number, write: boolean, kernel: boolean): void {
    for (let vpn = first; vpn <= last; vpn++) {
      const r = accessPage(mm, vpn, write, kernel, tid);
      if (r === ACCESS_OK) continue;
      if (r === FAULT_BLOCKED) {
        const ctx = mm.vmas.find(vpn)!.uffd!;
        this.blocked.push({
          due: this.sys.now + this.config.monitorLatencyNs, ctx, pid: mm.pid, tid, vpn, last, write, kernel, t: this.sys.now,
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
      lane: this.id, pos: this.sys.pos, pid: ctx.pid, ctx: ctx.id, event: msg.event, flags: msg.flags, vpn: msg.vpn,
      vpn2: msg.vpn2, tid: msg.tid, time: this.timed ? msg.t : NaN,
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
    const ready = this.blocked.filter((b) => b.due <= now || (b.pid === pid && b.tid === tid));
    if (ready.length === 0) return;
    this.blocked = this.blocked.filter((b) => !ready.includes(b));
    for (const b of ready) this.resolve(b);
  }

  /**
   * The monitor's answer to one WP fault (uffd-common.c): read() the message, UFFDIO_WRITEPROTECT the
   * page with mode 0 (which also wakes the thread), then the thread retries its access.
   */
  private resolve(b: Blocked): void {
    const mm = this.sys.mms.get(b.pid);
    if (!mm) return;
    this.monitorUnprotect(b.ctx, b.vpn, Math.max(0, Math.min(b.due, this.sys.now) - b.t) || this.config.monitorLatencyNs);
    this.access(mm, b.tid, b.vpn, b.last, b.write, b.kernel);
  }

  /** read() + UFFDIO_WRITEPROTECT(mode 0) of one page by the monitor, with its costs; quiet in the op log. */
  private monitorUnprotect(ctx: UffdCtx, vpn: number, stallNs: number): void {
    const sys = this.sys;
    const owner = sys.mms.get(ctx.pid);
    if (!owner) return;
    sys.count('monitor_syscalls', 2);
    sys.count('ctx_switches', 2);
    sys.count('stall_ns', stallNs);
    const saved = sys.origin;
    sys.origin = 'driver';
    // A context created by fork (EVENT_FORK) has no fd of its own here: the monitor holds it as MONITOR_FD.
    const fd = owner.fds.get(MONITOR_FD) === ctx ? MONITOR_FD : ctx.fd;
    sys.quiet = true;
    // UFFDIO_WRITEPROTECT of a hugetlb range must cover whole huge pages (EINVAL otherwise).
    const pages = owner.vmas.find(vpn)?.isHugetlb ? HPAGE_PMD_NR : 1;
    const first = vpn - (vpn % pages);
    uffdioWriteprotect(owner, fd, first * PAGE_SIZE, pages * PAGE_SIZE, 0, Why.WRITE);
    sys.quiet = false;
    sys.origin = saved;
    ctx.queue.shift();
  }

  /** Resolve every blocked thread (before a collect reads the log, and at the end of the trace). */
  drainBlocked(): void {
    const all = this.blocked;
    this.blocked = [];
    for (const b of all) this.resolve(b);
  }

  private op(op: TraceOp): void {
    const before = this.sinks.onVmaChanges && op.op !== 'mark' ? vmaSnapshot(this.sys) : null;
    if (op.op === 'reset' || op.op === 'collect') this.protocol(op);
    else executeOp(this.sys, op);
    this.lastPid = -1;
    if (before !== null) {
      const rows = vmaDiff(this.id, this.sys.pos, before, vmaSnapshot(this.sys));
      if (rows.length > 0) this.sinks.onVmaChanges!(rows);
    }
  }

  /** The generic tracker protocol, over one process or (pid 0) every live process. */
  private protocol(op: Extract<TraceOp, { op: 'reset' | 'collect' }>): void {
    const start = op.len === 0 ? 0 : Math.floor(op.addr / PAGE_SIZE);
    const end = op.len === 0 ? TASK_SIZE_PAGES : Math.ceil((op.addr + op.len) / PAGE_SIZE);
    const mms = op.pid === 0 ? [...this.sys.mms.values()] : [this.sys.mm(op.pid)].filter((m): m is Mm => m !== undefined);
    const saved = this.sys.origin;
    this.sys.origin = 'driver';
    if (op.op === 'collect') this.drainBlocked();
    for (const mm of mms) {
      if (op.op === 'reset') {
        this.driver.reset(mm, start, end);
        resetTruth(mm, start, end);
      } else {
        this.collect(mm, start, end, op.reset, op.label ?? null);
      }
    }
    this.sys.origin = saved;
  }

  private collect(mm: Mm, start: number, end: number, reset: boolean, label: string | null): void {
    const reading = this.driver.collect(mm, start, end, false);
    const ev = evaluate(mm, start, end, reading.pages, this.config.tracker);
    if (reset) {
      this.driver.reset(mm, start, end);
      resetTruth(mm, start, end);
    }
    const now = this.sys.now;
    const cost = diffCounters(this.sys.counters, this.lastCollectCounters);
    this.lastCollectCounters = new Float64Array(this.sys.counters);
    const result: CollectResult = {
      lane: this.id, index: this.collectIndex++, pos: this.sys.pos, time: this.timed ? now : NaN, pid: mm.pid,
      startVpn: start, endVpn: Math.min(end, TASK_SIZE_PAGES), label, method: reading.method,
      intervalAccesses: this.accessesSinceCollect,
      intervalNs: !this.timed ? NaN : this.lastCollectTime === this.lastCollectTime ? now - this.lastCollectTime : now,
      errors: reading.errors, cost, ...ev,
    };
    this.accessesSinceCollect = 0;
    this.lastCollectTime = now;
    this.sinks.onCollect?.(result);
  }

  /** End of the trace: wake blocked threads and hand out the last events and the final state. */
  finish(): void {
    this.drainBlocked();
    this.sys.sink.flush();
    this.sinks.onFinalState?.(finalPages(this.sys));
  }
}
