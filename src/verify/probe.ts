/**
 * `pteplay verify --probe`: which kernel profile and which switches describe the kernel this
 * process runs on, asked of the kernel itself (tools/kreplay) rather than assumed from its release.
 *
 * What is probed, and how:
 *   - release: `uname -r` (os.release()); the nearest profile is the newest one not newer than it;
 *   - the zero page at fault time and on a THP split: {@link hostKernelOpts} (pagemap after a read
 *     fault, and after a split of a THP with one written subpage);
 *   - soft-dirty compiled in (CONFIG_MEM_SOFT_DIRTY): /proc/config.gz (or /boot/config-RELEASE)
 *     when readable, else pagemap bit 55 after a store into a new mapping (VM_SOFTDIRTY makes it 1
 *     whenever soft-dirty exists);
 *   - userfaultfd permitted, UFFD_FEATURE_WP_ASYNC and UFFD_FEATURE_WP_UNPOPULATED: UFFDIO_API with
 *     the one feature (userfaultfd_api() refuses unknown features with EINVAL);
 *   - PAGEMAP_SCAN and its category mask: pagemap_scan_get_args() refuses any category bit outside
 *     PM_SCAN_CATEGORIES with EINVAL, so each bit is tried alone as the return mask (PAGE_IS_GUARD,
 *     0x100, exists from v6.15: profile switch guardMarkers);
 *   - THP (sysfs transparent_hugepage/enabled, use_zero_page), a swap device (/proc/swaps) and the
 *     hugetlb pages reserved (vm.nr_hugepages; not simulated: the simulator always has them).
 *
 * The result is a table and the `--kernel … --kernel-opt … --thp … --swap …` arguments that make
 * `pteplay replay` simulate this kernel: switches that differ from the chosen profile, spelled as
 * the kernel spells them.
 */
import { readFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { PROFILES, resolveProfile, type KernelProfile } from '../kernel/profile.js';
import type { Sysfs } from '../mm/system.js';
import { hostConfig, hostKernelOpts, machineSysfs, runKernel, softDirtyFromConfig } from './kreplay.js';

/** PAGE_IS_GUARD (v6.15). */
const PAGE_IS_GUARD = 0x100;
/** Category bits tried one by one (PM_SCAN_CATEGORIES is 0x1ff in 6.18; more would be a newer kernel). */
const SCAN_BITS_TRIED = 16;
const UFFD_FEATURE_WP_UNPOPULATED = 0x2000;
const UFFD_FEATURE_WP_ASYNC = 0x8000;

/** What the kernel answered; null where it could not be asked (userfaultfd not permitted, THP off). */
export interface HostProbe {
  release: string;
  /** The profile whose release is nearest below this kernel's. */
  profile: string;
  zeroPage: boolean;
  splitUnusedToZeroPage: boolean | null;
  softDirty: boolean;
  /** Where the soft-dirty answer comes from: the kernel config, or pagemap bit 55 after a store. */
  softDirtySource: 'config' | 'pagemap';
  /** A THP split keeps a stored-to subpage's dirty (soft-dirty) bit through its migration entry (null: THP off or no soft-dirty). */
  migrationEntryDirty: boolean | null;
  userfaultfd: boolean;
  wpAsync: boolean | null;
  wpUnpopulated: boolean | null;
  pagemapScan: boolean;
  /** The category bits PAGEMAP_SCAN accepts (0 without PAGEMAP_SCAN). */
  scanCategories: number;
  sysfs: Sysfs;
  /** vm.nr_hugepages: hugetlb pages reserved (0: a MAP_HUGETLB mmap fails with ENOMEM). */
  hugetlbPages: number;
}

/** A profile name as a version ([6, 18] for "6.18", [6, 18, 0] for "6.18.0"); null for a name that is not one. */
function profileVersion(name: string): number[] | null {
  return /^\d+(\.\d+)+$/.test(name) ? name.split('.').map(Number) : null;
}

/**
 * The profile that describes `release` best: the newest profile of the same or an older major.minor;
 * among profiles of one major.minor, the stable one ("6.18") unless the release is exactly the
 * point-zero one ("6.18.0"). The oldest profile for a kernel older than every profile.
 */
export function nearestProfile(release: string): string {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  const named = Object.keys(PROFILES)
    .map((n) => [n, profileVersion(n)] as const)
    .filter((x): x is [string, number[]] => x[1] !== null);
  const key = (v: readonly number[]) => v[0]! * 1000 + v[1]!;
  named.sort((a, b) => key(a[1]) - key(b[1]) || a[1].length - b[1].length);
  if (!m) return named[named.length - 1]![0];
  const rel = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  const fits = named.filter(([, v]) => key(v) <= key(rel));
  if (fits.length === 0) return named[0]![0];
  const best = key(fits[fits.length - 1]![1]);
  const same = fits.filter(([, v]) => key(v) === best);
  return (same.find(([, v]) => v.length === 3 && v[2] === rel[2]) ?? same.find(([, v]) => v.length === 2) ?? same[0]!)[0];
}

/** Ask this machine's kernel (kreplay must be usable: x86-64 Linux and a working build). */
export function probeHost(): HostProbe {
  const release = osRelease();
  const sysfs = machineSysfs();
  const opts = hostKernelOpts();
  const tries = Array.from({ length: SCAN_BITS_TRIED }, (_, b) => `pagemap_scan 0 1p 0 0 0 0 0x${(1 << b).toString(16)} 0 0`);
  const [uffd, scan] = runKernel([
    ['userfaultfd 3 0', `uffdio_api 3 0xaa ${UFFD_FEATURE_WP_ASYNC}`, 'userfaultfd 4 0', `uffdio_api 4 0xaa ${UFFD_FEATURE_WP_UNPOPULATED}`],
    ['pagemap_scan 0 1p 0 0 0 0 0 0 0', ...tries],
  ]);
  const userfaultfd = uffd?.[0] === 'ok 3';
  const pagemapScan = scan?.[0]?.startsWith('ok ') ?? false;
  let scanCategories = 0;
  if (pagemapScan)
    tries.forEach((_, b) => {
      if (scan![b + 1]?.startsWith('ok ')) scanCategories |= 1 << b;
    });
  const softDirty = !opts.includes('soft_dirty=off');
  return {
    release,
    profile: nearestProfile(release),
    zeroPage: !opts.includes('zero_page=off'),
    splitUnusedToZeroPage: sysfs.thp === 'never' ? null : !opts.includes('split_unused_to_zero_page=off'),
    softDirty,
    softDirtySource: softDirtyFromConfig(hostConfig()) === undefined ? 'pagemap' : 'config',
    migrationEntryDirty: sysfs.thp === 'never' || !softDirty ? null : !opts.includes('migration_entry_dirty=off'),
    userfaultfd,
    wpAsync: userfaultfd ? uffd![1] === 'ok 0' : null,
    wpUnpopulated: userfaultfd ? uffd![3] === 'ok 0' : null,
    pagemapScan,
    scanCategories,
    sysfs,
    hugetlbPages: readNumber('/proc/sys/vm/nr_hugepages'),
  };
}

function readNumber(path: string): number {
  try {
    return Number(readFileSync(path, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** `wpAsync` → `wp_async`: the spelling `--kernel-opt` shows users. */
const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The probed value of each profile switch the probe answers (null: not answered). */
function probedSwitches(p: HostProbe): Record<string, boolean | null> {
  return {
    zeroPage: p.zeroPage,
    splitUnusedToZeroPage: p.splitUnusedToZeroPage,
    softDirty: p.softDirty,
    migrationEntryDirty: p.migrationEntryDirty,
    wpAsync: p.wpAsync,
    wpUnpopulated: p.wpUnpopulated,
    pagemapScan: p.pagemapScan,
    guardMarkers: p.pagemapScan ? (p.scanCategories & PAGE_IS_GUARD) !== 0 : null,
  };
}

export interface ProbedOptions {
  /** `key=on|off` for every probed switch that differs from the profile and that the profile has. */
  kernelOpts: string[];
  /** Probed switches this build's profiles do not have (they cannot be simulated: listed, not passed). */
  unmodelled: string[];
}

/** The `--kernel-opt` values that make `profile` describe the probed kernel. */
export function probedKernelOpts(p: HostProbe, profile: string): ProbedOptions {
  const base: KernelProfile = resolveProfile(profile);
  const kernelOpts: string[] = [];
  const unmodelled: string[] = [];
  for (const [key, value] of Object.entries(probedSwitches(p))) {
    if (value === null) continue;
    const opt = `${snake(key)}=${value ? 'on' : 'off'}`;
    if (!(key in base)) {
      if (!value) unmodelled.push(opt);
    } else if ((base as unknown as Record<string, boolean>)[key] !== value) kernelOpts.push(opt);
  }
  return { kernelOpts, unmodelled };
}

/** The arguments of `pteplay replay` that simulate this machine (kernel, switches, THP, swap). */
export function replayArgs(p: HostProbe, profile = p.profile): string[] {
  const { kernelOpts } = probedKernelOpts(p, profile);
  return ['--kernel', profile, ...kernelOpts.flatMap((o) => ['--kernel-opt', o]), '--thp', p.sysfs.thp, '--swap', p.sysfs.swap ? 'on' : 'off'];
}

const yn = (v: boolean | null, on = 'yes', off = 'no'): string => (v === null ? 'unknown' : v ? on : off);

/** The probe as rows of a two-column table: what, answer (with how it was found). */
export function probeTable(p: HostProbe): [string, string][] {
  const { unmodelled } = probedKernelOpts(p, p.profile);
  const cats = p.pagemapScan
    ? `0x${p.scanCategories.toString(16)}${p.scanCategories & PAGE_IS_GUARD ? ' (PAGE_IS_GUARD: yes)' : ' (no PAGE_IS_GUARD)'}`
    : '-';
  return [
    ['release', p.release],
    ['nearest profile', p.profile],
    ['zero page on read fault', yn(p.zeroPage, 'yes', 'no (zero_page=off: a read allocates a fresh page)')],
    ['zero page for unused THP subpages on split', yn(p.splitUnusedToZeroPage)],
    [
      'soft-dirty compiled in',
      `${yn(p.softDirty)} (${p.softDirtySource === 'config' ? 'CONFIG_MEM_SOFT_DIRTY' : 'pagemap bit 55 after a store'})` +
        (unmodelled.includes('soft_dirty=off') ? '; this build cannot simulate it compiled out' : ''),
    ],
    ['THP split keeps a stored subpage dirty (migration entry A/D bits)', p.migrationEntryDirty === null ? '-' : yn(p.migrationEntryDirty)],
    ['userfaultfd permitted', p.userfaultfd ? 'yes' : 'no (sysctl vm.unprivileged_userfaultfd=1, or run as root)'],
    ['UFFD_FEATURE_WP_ASYNC', yn(p.wpAsync)],
    ['UFFD_FEATURE_WP_UNPOPULATED', yn(p.wpUnpopulated)],
    ['PAGEMAP_SCAN', yn(p.pagemapScan)],
    ['PAGEMAP_SCAN categories accepted', cats],
    ['THP enabled', `${p.sysfs.thp} (use_zero_page ${p.sysfs.thpZeroPage ? 1 : 0})`],
    [
      'hugetlb pages reserved',
      p.hugetlbPages > 0
        ? String(p.hugetlbPages)
        : '0 (vm.nr_hugepages: a MAP_HUGETLB mmap fails with ENOMEM; the simulator always has hugetlb pages)',
    ],
    ['swap device', p.sysfs.swap ? 'yes' : 'no (swap off: MADV_PAGEOUT and reclaim keep anonymous pages resident)'],
  ];
}
