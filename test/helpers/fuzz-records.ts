/**
 * fast-check arbitraries of valid trace records and headers: every record type of the vocabulary
 * (src/trace/types.ts), with values over the whole valid range (0 and 2^53-1 addresses, 2^32-1 sizes,
 * 2^31-1 pids, NaN and huge times), in the canonical form a reader hands out, so that writing them
 * and reading them back must give them back exactly.
 */
import fc from 'fast-check';
import { MMAP_FLAGS, MREMAP_FLAGS, UFFD_FLAGS } from '../../src/trace/json-record.js';
import { MADVISE_ADVICE } from '../../src/trace/types.js';
import type { Backing, Prot, TraceHeader, TraceOp, TraceRecord } from '../../src/trace/types.js';

/** A trace integer: mostly realistic, sometimes an edge. */
export const uintArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 2 ** 47 }), weight: 4 },
  fc.constantFrom(0, 1, 4095, 4096, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER),
  fc.maxSafeNat(),
);
const idArb = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 70000 }), weight: 4 }, fc.constantFrom(0, 1, 0x7fffffff));
const sizeArb = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 4096 }), weight: 4 },
  fc.constantFrom(1, 8, 0xffffffff),
  fc.integer({ min: 1, max: 0xffffffff }),
);
/** A time in ns: finite and non-negative (not -0: JSON writes it as 0). */
const timeArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 2 ** 53 }), weight: 3 },
  fc.double({ min: 0, max: 1e300, noNaN: true, noDefaultInfinity: true }).filter((t) => !Object.is(t, -0)),
);
const maskArb = fc.oneof(fc.nat({ max: 0xffff }), fc.constantFrom(0, 2 ** 31, 2 ** 32 - 1), fc.maxSafeNat());
const nameArb = fc.string({ minLength: 1, maxLength: 24, unit: 'grapheme' });
const protArb: fc.Arbitrary<Prot> = fc.record({ read: fc.boolean(), write: fc.boolean(), exec: fc.boolean() });
const fileBacking: fc.Arbitrary<Backing> = fc.oneof(
  fc.record({ kind: fc.constant('file' as const), name: nameArb }),
  fc.record({ kind: fc.constant('memfd' as const), name: nameArb }),
);
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** Drop the keys whose value is undefined (a reader never hands them out). */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const common = fc.record({ pid: idArb, tid: opt(idArb), t: opt(timeArb) });

const mmapArb = fc
  .record({
    addr: uintArb,
    len: uintArb,
    prot: protArb,
    flags: fc.subarray([...MMAP_FLAGS]),
    file: fileBacking,
    offset: uintArb,
    result: opt(uintArb),
  })
  .map(({ file, ...m }) => ({ op: 'mmap' as const, ...m, backing: m.flags.includes('anonymous') ? { kind: 'anon' as const } : file }));

const bodies: fc.Arbitrary<Record<string, unknown>>[] = [
  mmapArb,
  fc.record({ op: fc.constant('munmap'), addr: uintArb, len: uintArb }),
  fc.record({ op: fc.constant('mprotect'), addr: uintArb, len: uintArb, prot: protArb }),
  fc.record({
    op: fc.constant('mremap'),
    addr: uintArb,
    oldLen: uintArb,
    newLen: uintArb,
    flags: fc.subarray([...MREMAP_FLAGS]),
    newAddr: opt(uintArb),
    result: opt(uintArb),
  }),
  fc.record({ op: fc.constant('madvise'), addr: uintArb, len: uintArb, advice: fc.constantFrom(...MADVISE_ADVICE) }),
  fc.record({ op: fc.constant('brk'), addr: uintArb }),
  fc.record({ op: fc.constant('exec'), brkStart: opt(uintArb) }),
  fc.record({ op: fc.constant('fork'), child: idArb }),
  fc.record({ op: fc.constant('exit') }),
  fc.record({ op: fc.constant('clear_refs'), value: fc.oneof(fc.constantFrom('1', '2', '3', '4', '5', ' 4\n'), fc.string({ maxLength: 12 })) }),
  fc.record({ op: fc.constant('userfaultfd'), fd: idArb, flags: fc.subarray([...UFFD_FLAGS]) }),
  fc.record({ op: fc.constant('uffdio_api'), fd: idArb, api: uintArb, features: maskArb }),
  fc.record({ op: fc.constant('uffdio_register'), fd: idArb, start: uintArb, len: uintArb, mode: maskArb }),
  fc.record({ op: fc.constant('uffdio_unregister'), fd: idArb, start: uintArb, len: uintArb }),
  fc.record({ op: fc.constant('uffdio_writeprotect'), fd: idArb, start: uintArb, len: uintArb, mode: maskArb }),
  fc.record({ op: fc.constant('close'), fd: idArb }),
  fc.record({
    op: fc.constant('pagemap_scan'),
    start: uintArb,
    end: uintArb,
    flags: maskArb,
    categoryInverted: maskArb,
    categoryMask: maskArb,
    categoryAnyofMask: maskArb,
    returnMask: maskArb,
    vecLen: uintArb,
    maxPages: uintArb,
    size: opt(uintArb),
  }),
  fc.record({ op: fc.constant('pagemap_read'), offset: uintArb, count: uintArb }),
  fc.record({ op: fc.constant('pin'), addr: uintArb, len: uintArb, write: fc.boolean(), longterm: fc.boolean() }),
  fc.record({ op: fc.constant('unpin'), addr: uintArb, len: uintArb }),
  fc.record({ op: fc.constant('dma_write'), addr: uintArb, len: uintArb }),
  fc.record({ op: fc.constant('pwrite'), backing: fileBacking, offset: uintArb, len: uintArb }),
  fc.record({ op: fc.constant('reset'), addr: uintArb, len: uintArb }),
  fc.record({ op: fc.constant('collect'), addr: uintArb, len: uintArb, reset: fc.boolean(), label: opt(fc.string({ maxLength: 20 })) }),
  fc.record({ op: fc.constant('mark'), label: fc.string({ maxLength: 20 }) }),
];

export const opArb: fc.Arbitrary<TraceOp> = fc.tuple(fc.oneof(...bodies), common).map(([body, c]) => clean({ ...body, ...c }) as unknown as TraceOp);

export const accessArb: fc.Arbitrary<TraceRecord> = fc
  .record({
    op: fc.constantFrom('read' as const, 'write' as const),
    pid: idArb,
    tid: idArb,
    t: fc.oneof(fc.constant(NaN), timeArb),
    addr: uintArb,
    size: sizeArb,
    kernel: fc.boolean(),
    ifetch: fc.boolean(),
  })
  .map(({ ifetch, ...a }) => (ifetch ? { ...a, ifetch: true } : a));

/** Records: mostly accesses, as in real traces. */
export const recordArb: fc.Arbitrary<TraceRecord> = fc.oneof({ arbitrary: accessArb, weight: 2 }, opArb);

export const headerArb: fc.Arbitrary<TraceHeader> = fc
  .record({
    source: opt(fc.string({ maxLength: 40 })),
    sysfs: opt(
      fc
        .record({ thp: opt(fc.constantFrom('always' as const, 'madvise' as const, 'never' as const)), thpZeroPage: opt(fc.boolean()) })
        .map((s) => clean(s)),
    ),
  })
  .map((h) => clean({ pteplay: 'trace' as const, version: 1 as const, ...h }));
