/**
 * The start every generated trace shares (docs/kernel-rules.md §3, common setup): the mmap that
 * creates the main mapping (anonymous, private, read-write, MAP_FIXED at the base), an optional
 * warm-up pass that writes every page once so that trackers start from populated memory, then a
 * whole-process `reset` that arms tracking. Also the thread-id cycler, and the whole workload loop
 * of the kinds that differ only in where each access goes (simpleWorkload: seq, uniform).
 */
import { PAGE_SIZE } from '../../mm/uapi.js';
import { REC_READ, REC_WRITE, type Prot, type TraceChunk } from '../types.js';
import { Emitter, type OpInput } from './emit.js';
import { GEN_PID, type ResolvedGenOptions } from './options.js';
import { Rng } from './rng.js';

export const PROT_RW: Prot = { read: true, write: true, exec: false };
export const PROT_R: Prot = { read: true, write: false, exec: false };

/** mmap(base, len, RW, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED). */
export function anonMmap(pid: number, addr: number, len: number, prot: Prot = PROT_RW): OpInput {
  return { op: 'mmap', pid, addr, len, prot: { ...prot }, flags: ['private', 'anonymous', 'fixed'], backing: { kind: 'anon' }, offset: 0 };
}

/**
 * Emit the prelude: `before` ops (e.g. exec), the main mmap, the warm-up writes (one per page, at
 * offset 0, by the main thread), then the reset.
 */
export function* prelude(e: Emitter, o: ResolvedGenOptions, mainTid: number, before: OpInput[] = []): Generator<TraceChunk> {
  for (const op of before) if (e.op(op)) yield* e.drain();
  if (e.op(anonMmap(GEN_PID, o.base, o.pages * PAGE_SIZE))) yield* e.drain();
  if (o.warmup) {
    const size = o.accessSize;
    for (let p = 0; p < o.pages; p++) {
      if (e.access(REC_WRITE, GEN_PID, mainTid, o.base + p * PAGE_SIZE, size)) yield* e.drain();
    }
  }
  if (e.op({ op: 'reset', pid: GEN_PID, addr: 0, len: 0 })) yield* e.drain();
}

/**
 * Thread ids for the workload: the pid itself for one thread; otherwise pid * 1000 + k for
 * k = 0..threads-1, round-robin in bursts of `burst` accesses.
 */
export class TidCycler {
  private k = 0;
  private left: number;

  constructor(
    private readonly pid: number,
    private readonly threads: number,
    private readonly burst = 16,
  ) {
    this.left = burst;
  }

  /** The tid of thread k. */
  tidOf(k: number): number {
    return this.threads === 1 ? this.pid : this.pid * 1000 + k;
  }

  /** The main thread's tid. */
  get main(): number {
    return this.tidOf(0);
  }

  next(): number {
    if (this.threads === 1) return this.pid;
    if (this.left === 0) {
      this.left = this.burst;
      this.k = this.k + 1 === this.threads ? 0 : this.k + 1;
    }
    this.left--;
    return this.pid * 1000 + this.k;
  }
}

/**
 * Picks the byte address of each workload access of a simple kind. `rng` is the trace's PRNG, already
 * used once for this access's read/write choice; `slots` is the number of aligned access-size
 * offsets in a page.
 */
export type PickAddr = (rng: Rng, slots: number) => number;

/**
 * A whole trace of a kind that differs only in its address choice (seq, uniform): the prelude, then
 * `o.accesses` workload accesses by the cycled threads, each a write with probability writeRatio
 * (one rng.float()) at the address `pick` gives, then the end of the trace.
 */
export function* simpleWorkload(o: ResolvedGenOptions, pick: PickAddr): Generator<TraceChunk> {
  const rng = new Rng(o.seed);
  const tids = new TidCycler(GEN_PID, o.threads);
  const e = new Emitter(o.nsPerAccess, GEN_PID, o.interval);
  yield* prelude(e, o, tids.main);
  const slots = Math.floor(PAGE_SIZE / o.accessSize);
  for (let i = 0; i < o.accesses; i++) {
    const kind = rng.float() < o.writeRatio ? REC_WRITE : REC_READ;
    const addr = pick(rng, slots);
    if (e.work(kind, GEN_PID, tids.next(), addr, o.accessSize)) yield* e.drain();
  }
  yield* e.finish();
}
