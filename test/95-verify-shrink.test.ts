/**
 * The pieces of `pteplay verify` that need no kernel: the delta-debugging shrinker, the relocation
 * of a trace's memory into kreplay's reservation, the nearest profile of a release and the
 * `--kernel-opt` values a probe turns into.
 */
import { describe, expect, it } from 'vitest';
import { ddmin, isPureObservation, shrinkDivergence } from '../src/verify/shrink.js';
import { Relocation } from '../src/verify/relocate.js';
import { KREPLAY_BASE } from '../src/verify/kreplay.js';
import { nearestProfile, probedKernelOpts, replayArgs, type HostProbe } from '../src/verify/probe.js';

/** A batch test from a per-candidate predicate, counting candidates and batches. */
function batchOf<T>(fails: (xs: T[]) => boolean) {
  const seen = { batches: 0, candidates: 0 };
  const test = async (cands: T[][]) => {
    seen.batches++;
    seen.candidates += cands.length;
    return cands.findIndex(fails);
  };
  return { test, seen };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('ddmin', () => {
  it('finds the two items that together make the test fail, in their order', async () => {
    const { test } = batchOf<number>((xs) => xs.includes(13) && xs.includes(71));
    const r = await ddmin(range(100), test);
    expect(r.items).toEqual([13, 71]);
  });

  it('keeps an order-dependent failure (a before b) and is 1-minimal', async () => {
    // Fails when some 5 comes before some 2 and a 9 is present.
    const fails = (xs: number[]) => xs.includes(9) && xs.indexOf(5) >= 0 && xs.lastIndexOf(2) > xs.indexOf(5);
    const items = [1, 2, 5, 3, 9, 4, 2, 7, 5, 8];
    const { test } = batchOf(fails);
    const r = await ddmin(items, test);
    expect(fails(r.items)).toBe(true);
    expect(r.items.length).toBe(3);
    for (let i = 0; i < r.items.length; i++) expect(fails(r.items.filter((_, j) => j !== i))).toBe(false);
  });

  it('tries the empty list last, and keeps one item when the empty list passes', async () => {
    expect((await ddmin([1, 2, 3], batchOf<number>(() => true).test)).items).toEqual([]);
    expect((await ddmin([1, 2, 3], batchOf<number>((xs) => xs.includes(2)).test)).items).toEqual([2]);
  });

  it('needs few batches: one round per granularity, not one per candidate', async () => {
    const { test, seen } = batchOf<number>((xs) => xs.includes(500));
    const r = await ddmin(range(1000), test);
    expect(r.items).toEqual([500]);
    expect(seen.batches).toBeLessThanOrEqual(12); // halving: log2(1000) ≈ 10 rounds, then the empty list
    expect(r.batches).toBe(seen.batches);
  });
});

describe('shrinkDivergence', () => {
  /** "Diverges" when the list ends with the observation and holds the two ops that cause it in order. */
  const cause = ['mmap 1024p 4p rw private|anonymous|fixed', 'read 1025p'];
  const diverges = (list: string[]) => {
    const i = list.indexOf(cause[0]!);
    return list[list.length - 1] === 'pagemap 1024p 4' && i >= 0 && list.indexOf(cause[1]!, i) > i;
  };

  it('drops what follows the divergent command, the pure observations and the unrelated ops, in few kreplay batches', async () => {
    const cmds = [
      'mmap 2048p 1p rw private|anonymous|fixed',
      'maps',
      cause[0]!,
      'write 2048p',
      'pagemap 2048p 1',
      'messages',
      'pagemap_scan 1024p 1028p 0 0 0 0 0x7f 16 0',
      'madvise 2048p 1p dontneed',
      cause[1]!,
      'maps',
      'pagemap 1024p 4',
      'write 1024p',
      'maps',
    ];
    const lists: string[][] = [];
    let batches = 0;
    const r = await shrinkDivergence(cmds, 10, async (ls) => {
      batches++;
      lists.push(...ls);
      return ls.map(diverges);
    });
    expect(r.commands).toEqual([...cause, 'pagemap 1024p 4']);
    expect(r.batches).toBe(batches);
    expect(batches).toBeLessThan(12);
    // Every list tried ends with the divergent command: the same observation must still differ.
    expect(lists.every((l) => l[l.length - 1] === 'pagemap 1024p 4')).toBe(true);
  });

  it('keeps state-changing observations when the divergence needs them (messages drains, WP_MATCHING arms)', async () => {
    const scan = 'pagemap_scan 1024p 1028p 1 0 2 0 2 16 0';
    const cmds = ['mmap 1024p 4p rw private|anonymous|fixed', 'maps', scan, 'pagemap 1024p 4', 'write 1024p', 'pagemap 1024p 4'];
    const r = await shrinkDivergence(cmds, 5, async (ls) => ls.map((l) => l.includes(scan) && l[l.length - 1] === 'pagemap 1024p 4'));
    expect(r.commands).toEqual([scan, 'pagemap 1024p 4']);
    expect(isPureObservation(scan)).toBe(false);
    expect(isPureObservation('messages')).toBe(false);
    expect(isPureObservation('pagemap_scan 1024p 1028p 2 0 2 0 2 16 0')).toBe(true);
  });
});

describe('Relocation', () => {
  const MiB = 1 << 20;
  it('packs the 2 MiB slots a trace uses into the reservation, keeping offsets in a slot, clusters apart', () => {
    const a = 0x7f0000000000 + 0x3000;
    const b = 0x555500000000 + MiB + 0x5000;
    const r = Relocation.of([
      [a, a + 4 * MiB],
      [b, b + 0x1000],
    ]);
    // b's cluster is lower in the address space: it comes first.
    expect(r.to(b)).toBe(KREPLAY_BASE + MiB + 0x5000);
    expect(r.to(a)).toBe(KREPLAY_BASE + 4 * MiB + 0x3000); // one slot for b, one free slot
    expect((r.to(a) - r.to(b)) % (2 * MiB)).not.toBe(0);
    expect(r.to(a) % (2 * MiB)).toBe(a % (2 * MiB));
    expect(r.back(r.to(a))).toBe(a);
    expect(r.back(r.to(b + 0x1000))).toBe(b + 0x1000);
    expect(r.windows()).toEqual([
      [0, 512],
      [512 * 2, 512 * 3],
    ]);
  });

  it('refuses a trace whose memory does not fit in 64 MiB, saying how much it needs', () => {
    expect(() => Relocation.of([[0x10000000, 0x10000000 + 70 * MiB]])).toThrow(/needs 70 MiB in 1 region.*64 MiB reservation/);
    expect(() => Relocation.of(Array.from({ length: 17 }, (_, i) => [i * 1024 * MiB, i * 1024 * MiB + 4096] as const))).toThrow(
      /needs 66 MiB in 17 regions?/,
    );
  });
});

describe('nearestProfile and the probed --kernel-opt values', () => {
  it('picks the newest profile not newer than the release, the stable one within a version', () => {
    expect(nearestProfile('6.18.44-fc-v1272')).toBe('6.18');
    expect(nearestProfile('6.18.0-rc3')).toBe('6.18.0');
    expect(nearestProfile('6.12.101+deb12-amd64')).toMatch(/^6\.(1|12)$/);
    expect(nearestProfile('6.1.0-31-amd64')).toBe('6.1');
    expect(nearestProfile('5.15.0')).toBe('6.1');
    expect(nearestProfile('6.19.2')).toBe('6.19');
  });

  const host: HostProbe = {
    release: '6.18.44',
    profile: '6.18',
    zeroPage: false,
    splitUnusedToZeroPage: true,
    softDirty: false,
    softDirtySource: 'config',
    migrationEntryDirty: null,
    userfaultfd: true,
    wpAsync: true,
    wpUnpopulated: true,
    pagemapScan: true,
    scanCategories: 0xff,
    sysfs: { thp: 'always', thpZeroPage: true, swap: false },
    hugetlbPages: 0,
  };

  it('names the switches that differ from the profile, as the kernel spells them, and the replay arguments', () => {
    const o = probedKernelOpts(host, '6.18');
    expect(o.kernelOpts).toContain('zero_page=off');
    expect(o.kernelOpts).toContain('guard_markers=off'); // 0xff: no PAGE_IS_GUARD, as in 6.12
    expect(o.kernelOpts).not.toContain('wp_async=on'); // the profile has it already
    expect(replayArgs(host)).toEqual(['--kernel', '6.18', ...o.kernelOpts.flatMap((k) => ['--kernel-opt', k]), '--thp', 'always', '--swap', 'off']);
    // Against 6.1 the features this kernel has are switched on.
    expect(probedKernelOpts(host, '6.1').kernelOpts).toEqual(expect.arrayContaining(['wp_async=on', 'wp_unpopulated=on', 'pagemap_scan=on']));
  });

  it('soft_dirty=off is passed when the profile has the switch, else listed as not simulated', () => {
    const o = probedKernelOpts(host, '6.18');
    expect([...o.kernelOpts, ...o.unmodelled]).toContain('soft_dirty=off');
    expect(probedKernelOpts({ ...host, softDirty: true }, '6.18').unmodelled).toEqual([]);
  });
});
