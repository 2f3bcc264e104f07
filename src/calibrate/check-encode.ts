/**
 * The binary stream `pteplay calibrate --check` hands to its real executor (tools/calibrate/check.c):
 * a trace's accesses and address-space operations, with the collects and re-arms `pteplay replay`
 * adds (src/run/collect-plan.ts, src/pipeline/inject-protocol.ts), as little-endian u64 words.
 *
 *   header: MAGIC, words that follow, window span (bytes)
 *   word:   op << 56 | arg, then the op's argument words; addresses are bytes from the window start
 *
 * The window is the trace's address range, its start rounded down to 1 GiB (so PMD and PUD alignment
 * is kept): the executor maps it at an address of its own. Only what the host can run for real is
 * accepted: one process, private anonymous mappings placed at a known address, munmap, mprotect,
 * madvise, mremap, user and kernel-mode accesses, and the tracker protocol; anything else is a data
 * error naming the record.
 */
import { lastValueFrom, from, tap } from 'rxjs';
import { TraceFormatError } from '../errors.js';
import { injectProtocol } from '../pipeline/inject-protocol.js';
import type { CollectPlan } from '../run/collect-plan.js';
import {
  adviceNumber,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
} from '../trace/linux-abi.js';
import { openTrace } from '../trace/reader.js';
import { ACC_KERNEL, REC_OP, REC_WRITE, type Prot, type TraceChunk, type TraceOp } from '../trace/types.js';

export const CHECK_MAGIC = 0x31304b4843505450n; // "PTPCHK01"
const PAGE = 4096;
const GIB = 1 << 30;
/** The executor maps the window at 16 TiB: a span up to 64 TiB stays inside a 47-bit address space. */
const MAX_SPAN = 2 ** 46;

export const OP = {
  read: 1,
  write: 2,
  kwrite: 3,
  kread: 4,
  mmap: 16,
  munmap: 17,
  mprotect: 18,
  madvise: 19,
  mremap: 20,
  reset: 32,
  collect: 33,
} as const;
export type CheckOpName = keyof typeof OP;

/** One decoded word and its arguments (addresses relative to the window). */
export interface CheckRecord {
  op: CheckOpName;
  arg: number;
  args: number[];
}

const ARGS: Record<CheckOpName, number> = {
  read: 0,
  write: 0,
  kwrite: 0,
  kread: 0,
  mmap: 2,
  munmap: 2,
  mprotect: 2,
  madvise: 2,
  mremap: 4,
  reset: 2,
  collect: 2,
};

const NO_ADDR = 2 ** 64 - 1;

const protBits = (p: Prot): number => (p.read ? 1 : 0) | (p.write ? 2 : 0) | (p.exec ? 4 : 0);

/** Growable array of u64 words kept as (lo, hi) u32 pairs. */
class Words {
  buf = new Uint32Array(1 << 16);
  n = 0;
  push(v: number, op = 0): void {
    if (this.n * 2 + 2 > this.buf.length) {
      const b = new Uint32Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    if (v === NO_ADDR) {
      this.buf[this.n * 2] = 0xffffffff;
      this.buf[this.n * 2 + 1] = 0xffffffff;
    } else {
      this.buf[this.n * 2] = v >>> 0;
      this.buf[this.n * 2 + 1] = (Math.floor(v / 2 ** 32) | (op << 24)) >>> 0;
    }
    this.n++;
  }
}

/** The trace's address window [lo, hi) in bytes (lo 1 GiB aligned, hi 2 MiB aligned). */
export interface Window {
  lo: number;
  hi: number;
}

/** Why the host cannot run `op` for real, or null when it can. */
export function unrunnable(op: TraceOp): string | null {
  if (op.pid > 1) return `pid ${op.pid}: the real run is one process (pid 1)`;
  switch (op.op) {
    case 'mmap':
      if (op.backing.kind !== 'anon' || !op.flags.includes('anonymous') || op.flags.includes('shared'))
        return 'not anonymous memory: the real run maps private anonymous memory only';
      if (op.flags.includes('hugetlb')) return 'hugetlb: not anonymous memory of the kind the real run maps';
      if (op.flags.includes('growsdown')) return 'MAP_GROWSDOWN is not run for real';
      if (!op.flags.includes('fixed') && !op.flags.includes('fixed_noreplace') && op.result === undefined)
        return 'an mmap without MAP_FIXED or a recorded result: the real run cannot place it where the simulator does';
      return null;
    case 'mremap':
      if (op.flags.includes('maymove') && !op.flags.includes('fixed') && op.result === undefined)
        return 'an mremap that may move without MREMAP_FIXED or a recorded result: the real run cannot place it where the simulator does';
      return null;
    case 'munmap':
    case 'mprotect':
    case 'madvise':
    case 'reset':
    case 'collect':
    case 'mark':
      return null;
    default:
      return `the host cannot run ${op.op} for real here (calibrate --check runs anonymous-memory traces: mmap, munmap, mprotect, madvise, mremap, accesses)`;
  }
}

/** One pass: the address window, and a data error at the first record the host cannot run. */
export async function checkWindow(trace: string): Promise<Window> {
  const t = await openTrace(trace);
  let lo = Infinity;
  let hi = -Infinity;
  const span = (a: number, len: number) => {
    lo = Math.min(lo, a);
    hi = Math.max(hi, a + Math.max(len, 1));
  };
  for await (const c of t.chunks) {
    let k = 0;
    for (let i = 0; i < c.n; i++) {
      const pos = c.pos0 + i;
      if (c.kind[i] !== REC_OP) {
        if (c.pid[i]! > 1) throw new TraceFormatError(trace, `record ${pos}`, `access of pid ${c.pid[i]}: the real run is one process (pid 1)`);
        span(c.addr[i]!, c.size[i]!);
        continue;
      }
      const op = c.ops[k++]!;
      const why = unrunnable(op);
      if (why !== null) throw new TraceFormatError(trace, `record ${pos}`, `calibrate --check: ${op.op}: ${why}`);
      if (op.op === 'mmap') span(op.result ?? op.addr, op.len);
      else if (op.op === 'mremap') {
        span(op.addr, op.oldLen);
        const to = op.result ?? op.newAddr;
        if (to !== undefined) span(to, op.newLen);
      }
    }
  }
  if (lo === Infinity) throw new TraceFormatError(trace, 'record 0', 'calibrate --check: the trace has no mapping and no access to run');
  const base = Math.floor(lo / GIB) * GIB;
  const end = Math.ceil(hi / (2 << 20)) * (2 << 20);
  if (end - base > MAX_SPAN)
    throw new TraceFormatError(
      trace,
      'record 0',
      `calibrate --check: the trace's addresses span ${end - base} bytes, more than the real run's window (${MAX_SPAN})`,
    );
  return { lo: base, hi: end };
}

export interface CheckStream {
  /** The stream (header included), as written to the executor's input file. */
  bytes: Uint8Array;
  /** Where the trace's address `lo` is in the window (0) and the window's span in bytes. */
  base: number;
  span: number;
  accesses: number;
  /** Injected and own collects. */
  collects: number;
}

/** Encode `trace` with the collects of `plan` (the replay's), for the real executor. */
export async function encodeCheckStream(trace: string, plan: CollectPlan, window?: Window): Promise<CheckStream> {
  const win = window ?? (await checkWindow(trace));
  const w = new Words();
  const rel = (a: number) => a - win.lo;
  let accesses = 0;
  let collects = 0;
  const encodeOp = (op: TraceOp) => {
    switch (op.op) {
      case 'mmap': {
        const placed = op.result !== undefined && !op.flags.includes('fixed') && !op.flags.includes('fixed_noreplace');
        const flags =
          MAP_PRIVATE |
          MAP_ANONYMOUS |
          (op.flags.includes('fixed') || placed ? MAP_FIXED : 0) |
          (op.flags.includes('fixed_noreplace') ? MAP_FIXED_NOREPLACE : 0) |
          (op.flags.includes('populate') ? MAP_POPULATE : 0) |
          (op.flags.includes('noreserve') ? MAP_NORESERVE : 0);
        w.push(protBits(op.prot) | (flags << 8), OP.mmap);
        w.push(rel(placed ? op.result! : op.addr));
        w.push(op.len);
        return;
      }
      case 'munmap':
        w.push(0, OP.munmap);
        w.push(rel(op.addr));
        w.push(op.len);
        return;
      case 'mprotect':
        w.push(protBits(op.prot), OP.mprotect);
        w.push(rel(op.addr));
        w.push(op.len);
        return;
      case 'madvise':
        w.push(adviceNumber(op.advice), OP.madvise);
        w.push(rel(op.addr));
        w.push(op.len);
        return;
      case 'mremap': {
        let flags = (op.flags.includes('maymove') ? MREMAP_MAYMOVE : 0) | (op.flags.includes('dontunmap') ? MREMAP_DONTUNMAP : 0);
        let to = op.flags.includes('fixed') ? op.newAddr : undefined;
        if (to !== undefined) flags |= MREMAP_FIXED;
        else if (op.result !== undefined && op.result !== op.addr) {
          flags |= MREMAP_FIXED | MREMAP_MAYMOVE;
          to = op.result;
        }
        w.push(flags, OP.mremap);
        w.push(rel(op.addr));
        w.push(op.oldLen);
        w.push(op.newLen);
        w.push(to === undefined ? NO_ADDR : rel(to));
        return;
      }
      case 'reset':
      case 'collect':
        if (op.op === 'collect') collects++;
        w.push(op.op === 'collect' && op.reset ? 1 : 0, OP[op.op]);
        w.push(op.len === 0 ? 0 : Math.max(0, rel(op.addr)));
        w.push(op.len);
        return;
      default:
        return; // mark (checkWindow refused the rest)
    }
  };
  const encodeChunk = (c: TraceChunk) => {
    let k = 0;
    for (let i = 0; i < c.n; i++) {
      if (c.kind[i] === REC_OP) {
        encodeOp(c.ops[k++]!);
        continue;
      }
      accesses++;
      const write = c.kind[i] === REC_WRITE;
      const op = c.flags[i]! & ACC_KERNEL ? (write ? OP.kwrite : OP.kread) : write ? OP.write : OP.read;
      const a = rel(c.addr[i]!);
      const last = Math.floor((a + Math.max(c.size[i]!, 1) - 1) / PAGE);
      for (let p = Math.floor(a / PAGE); p <= last; p++) w.push(p, op);
    }
  };
  const t = await openTrace(trace);
  await lastValueFrom(
    from(t.chunks).pipe(injectProtocol({ every: plan.interval, everyNs: plan.intervalUs * 1000, mode: plan.protocol }), tap(encodeChunk)),
    { defaultValue: null },
  );
  const span = win.hi - win.lo;
  const out = new Uint8Array(24 + w.n * 8);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, CHECK_MAGIC, true);
  dv.setBigUint64(8, BigInt(w.n), true);
  dv.setBigUint64(16, BigInt(span), true);
  out.set(new Uint8Array(w.buf.buffer, 0, w.n * 8), 24);
  return { bytes: out, base: win.lo, span, accesses, collects };
}

/** Decode a stream (tests, and a check of what the executor will run). */
export function decodeCheckStream(bytes: Uint8Array): { span: number; records: CheckRecord[] } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 24 || dv.getBigUint64(0, true) !== CHECK_MAGIC) throw new Error('not a check stream (bad magic)');
  const n = Number(dv.getBigUint64(8, true));
  const span = Number(dv.getBigUint64(16, true));
  if (bytes.byteLength !== 24 + n * 8) throw new Error(`check stream: ${n} words announced, ${(bytes.byteLength - 24) / 8} present`);
  const names = new Map<number, CheckOpName>(Object.entries(OP).map(([k, v]) => [v, k as CheckOpName]));
  const word = (i: number) => dv.getBigUint64(24 + i * 8, true);
  const records: CheckRecord[] = [];
  for (let i = 0; i < n; ) {
    const v = word(i++);
    const name = names.get(Number(v >> 56n));
    if (name === undefined) throw new Error(`check stream: unknown op ${v >> 56n} at word ${i - 1}`);
    const args: number[] = [];
    for (let k = 0; k < ARGS[name]; k++) {
      const a = word(i++);
      args.push(a === 2n ** 64n - 1n ? -1 : Number(a));
    }
    records.push({ op: name, arg: Number(v & (2n ** 56n - 1n)), args });
  }
  return { span, records };
}
