import type { KernelProfile } from '../kernel/profile.js';
import { newCounters, type Counters, CTR } from './counters.js';
import type { SysfsSettings } from '../trace/types.js';
import type { PteEventSink } from './events.js';
import { PageFrames } from './frames.js';
import { Mm } from './mm.js';
import { MemObject } from './object.js';
import { VmaChangeLog } from './vma-log.js';
import type { UffdCtx, UffdMsg } from './uffd-ctx.js';

/** /sys/kernel/mm settings the simulator honours. */
export interface Sysfs {
  thp: 'always' | 'madvise' | 'never';
  thpZeroPage: boolean;
  /** A swap device exists (anon MADV_PAGEOUT swaps out; without it anon pages stay). */
  swap: boolean;
}

export const DEFAULT_SYSFS: Sysfs = { thp: 'madvise', thpZeroPage: true, swap: true };

export function sysfsFrom(s: SysfsSettings | undefined, base: Sysfs = DEFAULT_SYSFS): Sysfs {
  return { thp: s?.thp ?? base.thp, thpZeroPage: s?.thpZeroPage ?? base.thpZeroPage, swap: base.swap };
}

/** Someone who receives uffd messages as they are queued (the lane's simulated monitor). */
export interface UffdListener {
  onMessage(ctx: UffdCtx, msg: UffdMsg): void;
  /**
   * A sync uffd-wp fault taken by a kernel-mode GUP (populate, pin) blocks the syscall until the
   * monitor un-protects the page: the monitor answers at once (with its costs). Without one the
   * call ends with EINTR.
   */
  resolveKernelFault?(mm: Mm, vpn: number): void;
}

/**
 * One simulated machine: the processes, their page frames and page caches, the kernel profile, and
 * the lane's outputs (PTE change events, op results, cost counters).
 */
export class System {
  readonly frames = new PageFrames();
  readonly mms = new Map<number, Mm>();
  readonly objects = new Map<string, MemObject>();
  readonly counters: Counters = newCounters();
  /** The VMA changes of the op being executed, recorded where the VMA trees change (on while the lane keeps them). */
  readonly vmaLog = new VmaChangeLog();
  /** Where count() also adds: the counters of the process being charged (see charge()). */
  private charged: Counters = newCounters();
  /** Counts made outside any process (an op on a process that does not exist). */
  private readonly unattributed: Counters = this.charged;
  /** Trace position and time of the record being executed. */
  pos = 0;
  now = 0;
  private nextObjectId = 1;
  private nextAnonVma = 1;
  private nextUffdId = 1;
  /** Receives uffd messages (set by the lane). */
  uffdListener: UffdListener | null = null;
  /** Receives op results (set by the lane). */
  opSink: ((r: OpResult) => void) | null = null;
  /** Origin stamped on op results: the trace itself, or the lane's tracker driver. */
  origin: 'trace' | 'driver' = 'trace';
  /**
   * Count syscalls but do not record them one by one: set while the simulated sync monitor resolves
   * a fault (one UFFDIO_WRITEPROTECT per written page would swamp the op log; the counters keep them).
   */
  quiet = false;

  constructor(
    readonly lane: number,
    readonly profile: KernelProfile,
    readonly sysfs: Sysfs,
    readonly sink: PteEventSink,
  ) {}

  /** Add `n` to counter `index` (a CTR.* constant), for the lane and for the process being charged. */
  count(index: number, n = 1): void {
    this.counters[index]! += n;
    this.charged[index]! += n;
  }

  /**
   * Charge what is counted from now on to `mm` as well (the process whose access, op or tracker call
   * runs): a collect's interval counters are those of the process it reads.
   */
  charge(mm: Mm | undefined): void {
    this.charged = mm?.counters ?? this.unattributed;
  }

  /** The process `pid`; pid 1 exists from the start, others come from fork (from pid 0: doSpawn). */
  mm(pid: number): Mm | undefined {
    let mm = this.mms.get(pid);
    if (mm === undefined && pid === 1 && !this.mms.has(1)) {
      mm = new Mm(this, 1);
      this.mms.set(1, mm);
    }
    return mm;
  }

  createMm(pid: number): Mm {
    const mm = new Mm(this, pid);
    this.mms.set(pid, mm);
    return mm;
  }

  object(kind: 'file' | 'shmem', name: string): MemObject {
    const key = `${kind}:${name}`;
    let o = this.objects.get(key);
    if (!o) {
      o = new MemObject(this.nextObjectId++, kind, name);
      this.objects.set(key, o);
    }
    return o;
  }

  /** A fresh shmem object of `pages` pages for a MAP_SHARED|MAP_ANONYMOUS mapping (shmem_zero_setup). */
  anonShmem(pages: number): MemObject {
    const o = new MemObject(this.nextObjectId++, 'shmem', `anon_shmem#${this.nextObjectId}`);
    o.sizePages = pages;
    return o;
  }

  newAnonVma(): number {
    return this.nextAnonVma++;
  }

  newUffdId(): number {
    return this.nextUffdId++;
  }

  /** Record the outcome of a syscall (errno name or null; for PAGEMAP_SCAN the walk_end written back, in pages). */
  result(pid: number, call: string, args: string | (() => string), ret: number, errno: string | null, walkEnd?: number): number {
    this.count(CTR.syscalls);
    if (errno !== null) this.count(CTR.errors);
    if (this.opSink !== null && (!this.quiet || errno !== null)) {
      this.opSink({
        lane: this.lane,
        pos: this.pos,
        pid,
        origin: this.origin,
        call,
        args: typeof args === 'string' ? args : args(),
        ret,
        errno,
        walkEnd,
      });
    }
    return errno === null ? ret : -1;
  }
}

/** The outcome of one op of the trace (or one syscall a lane's tracker driver issued). */
export interface OpResult {
  lane: number;
  /** Trace position of the op (for driver calls: of the protocol op that caused them). */
  pos: number;
  pid: number;
  /** 'trace' for ops in the trace, 'driver' for calls the lane's tracker protocol made. */
  origin: 'trace' | 'driver';
  /** Syscall name as the user knows it: mmap, clear_refs, UFFDIO_WRITEPROTECT, PAGEMAP_SCAN, ... */
  call: string;
  /** Arguments as a short text (for people; the trace has the exact values). */
  args: string;
  /** Return value (address, count of regions, 0) or -1 on error. */
  ret: number;
  /** errno name on failure (EINVAL, ...), null on success. */
  errno: string | null;
  /** PAGEMAP_SCAN: arg.walk_end as the kernel wrote it back, in pages; absent for other calls and when not written. */
  walkEnd?: number;
}
