/**
 * `churn`: a mixed workload that also changes the address space every `opEvery` accesses, with an
 * episode drawn from a weighted menu (churn/menu.ts) designed to produce each divergence of
 * docs/kernel-rules.md §3 that involves an address-space operation. A model of the live mappings
 * (churn/space.ts) keeps every access on mapped memory whose protection allows it.
 */
import { UsageError } from '../../errors.js';
import { MMAP_MIN_ADDR, PAGE_SIZE } from '../../mm/uapi.js';
import { REC_READ, REC_WRITE, type TraceChunk } from '../types.js';
import { Churn } from './churn/episodes.js';
import { CHURN_OPS, DEFAULT_WEIGHTS, type ChurnOp, type ChurnWeights } from './churn/menu.js';
import { AddressSpace } from './churn/space.js';
import { Emitter, type OpInput } from './emit.js';
import { GEN_PID, requireInt, resolveGenOptions, type GenOptions, type ResolvedGenOptions } from './options.js';
import { prelude, TidCycler } from './prelude.js';
import { Rng } from './rng.js';

export interface ChurnOptions extends GenOptions {
  /** Accesses between two address-space episodes (default 1000). */
  opEvery?: number;
  /** Enabled menu items and their weights (default: all, with DEFAULT_WEIGHTS). */
  ops?: ChurnWeights;
}

export const DEFAULT_OP_EVERY = 1000;
/** The usual x86-64 start of the heap of a non-PIE binary region; used when --base is above it. */
const HEAP_START = 0x555555560000;
const HEAP_GAP = 0x40000000;

/** Where the brk heap starts for a given base: the usual place, or 1 GiB below a low base. */
export function churnHeapStart(base: number): number {
  return base >= HEAP_START + 2 * HEAP_GAP ? HEAP_START : base - HEAP_GAP;
}

export function genChurn(opts: ChurnOptions): Iterable<TraceChunk> {
  const o = resolveGenOptions(opts);
  const opEvery = requireInt('--op-every', opts.opEvery ?? DEFAULT_OP_EVERY, 1);
  const weights = opts.ops ?? DEFAULT_WEIGHTS;
  for (const [name, w] of Object.entries(weights)) {
    if (!(CHURN_OPS as readonly string[]).includes(name)) throw new UsageError(`option --ops: unknown item "${name}"`);
    if (!(typeof w === 'number' && w > 0 && Number.isFinite(w))) throw new UsageError(`option --ops: weight of ${name} must be > 0, got ${w}`);
  }
  if (weights.brk !== undefined && churnHeapStart(o.base) < MMAP_MIN_ADDR) {
    throw new UsageError(
      `option --base: the brk heap needs 1 GiB below --base; use --base ≥ 0x${(HEAP_GAP + MMAP_MIN_ADDR).toString(16)} or drop brk from --ops`,
    );
  }
  return run(o, opEvery, weights);
}

function* run(o: ResolvedGenOptions, opEvery: number, weights: ChurnWeights): Generator<TraceChunk> {
  const rng = new Rng(o.seed);
  const tids = new TidCycler(GEN_PID, o.threads);
  const e = new Emitter(o.nsPerAccess, GEN_PID, o.interval);
  const mainLen = o.pages * PAGE_SIZE;
  const space = new AddressSpace(o.base + mainLen);
  space.map({ start: o.base, end: o.base + mainLen, kind: 'anon', writable: true, fileOffset: 0, alloc: 0 });
  const heapStart = churnHeapStart(o.base);
  const churn = new Churn(rng, space, o, tids.main, heapStart);

  const items = CHURN_OPS.filter((n) => weights[n] !== undefined);
  const cum: number[] = [];
  let total = 0;
  for (const n of items) cum.push((total += weights[n]!));
  const draw = (): ChurnOp => {
    const x = rng.float() * total;
    let i = 0;
    while (cum[i]! <= x) i++;
    return items[i]!;
  };

  const before: OpInput[] = weights.brk !== undefined ? [{ op: 'exec', pid: GEN_PID, brkStart: heapStart }] : [];
  yield* prelude(e, o, tids.main, before);

  const { accessSize, writeRatio } = o;
  const picker = churn.picker;
  let done = 0;
  let sinceOp = 0;
  while (done < o.accesses) {
    const step = churn.shift();
    if (step !== undefined) {
      if ('op' in step) {
        if (e.op(step.op)) yield* e.drain();
      } else {
        done++;
        sinceOp++;
        if (e.work(step.kind, step.pid, step.tid, step.addr, step.size, step.flags)) yield* e.drain();
      }
      continue;
    }
    if (items.length !== 0 && sinceOp >= opEvery) {
      sinceOp = 0;
      churn.run(draw());
      continue;
    }
    let kind = rng.float() < writeRatio ? REC_WRITE : REC_READ;
    let addr = picker.pick(rng, kind === REC_WRITE);
    if (addr < 0) {
      kind = REC_READ;
      addr = picker.pick(rng, false);
      if (addr < 0) throw new Error('churn: no mapped memory left to access (internal error)');
    }
    done++;
    sinceOp++;
    if (e.work(kind, GEN_PID, tids.next(), addr, accessSize)) yield* e.drain();
  }
  // Ops still queued (e.g. a child's exit) are emitted; their queued accesses are beyond the budget.
  for (let step = churn.shift(); step !== undefined; step = churn.shift()) {
    if ('op' in step && e.op(step.op)) yield* e.drain();
  }
  yield* e.finish();
}
