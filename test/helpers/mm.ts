/**
 * Shared setup for the 30-mm-* and 40-trackers-* tests: a real simulated system, mappings and accesses by page number,
 * entry and bookkeeping readers, and the tracker set-ups (clear_refs, uffd-wp) through the real calls.
 */
import { expect } from 'vitest';
import { resolveProfile } from '../../src/kernel/profile.js';
import { COUNTER_INDEX, type CounterName } from '../../src/mm/counters.js';
import { resetTruth } from '../../src/lanes/truth.js';
import { ACCESS_OK, accessPage } from '../../src/mm/access.js';
import { PteEventSink } from '../../src/mm/events.js';
import type { Leaf } from '../../src/mm/leaf.js';
import type { Mm } from '../../src/mm/mm.js';
import { doMmap } from '../../src/mm/mmap.js';
import { PMD_TABLE } from '../../src/mm/pte.js';
import { DEFAULT_SYSFS, System, type Sysfs } from '../../src/mm/system.js';
import {
  PAGE_SIZE,
  TASK_SIZE_PAGES,
  UFFD_API,
  UFFD_FEATURE_WP_ASYNC,
  UFFD_FEATURE_WP_UNPOPULATED,
  UFFDIO_REGISTER_MODE_WP,
  UFFDIO_WRITEPROTECT_MODE_WP,
} from '../../src/mm/uapi.js';
import type { Vma } from '../../src/mm/vma.js';
import { clearRefs as clearRefsWrite } from '../../src/trackers/clear-refs.js';
import type { UffdCtx } from '../../src/mm/uffd-ctx.js';
import { uffdioApi, uffdioRegister, uffdioWriteprotect, uffdUserfaultfd } from '../../src/trackers/userfaultfd.js';
import type { Backing, MmapFlag, Prot } from '../../src/trace/types.js';

export const PG = PAGE_SIZE;
/** A 2 MiB-aligned test address (page number). */
export const BV = 0x7f0000000000 / PG;

export function setup(profile = '6.18', sysfs: Partial<Sysfs> = {}, kernelOpts: string[] = []): { sys: System; mm: Mm } {
  const sys = new System(0, resolveProfile(profile, kernelOpts), { ...DEFAULT_SYSFS, ...sysfs }, new PteEventSink(0, null));
  return { sys, mm: sys.mm(1)! };
}

export interface MapOpts {
  shared?: boolean;
  backing?: Backing;
  prot?: Prot;
  offset?: number;
  populate?: boolean;
  hugetlb?: boolean;
}

/** mmap `pages` pages at page `vpn` (MAP_FIXED), rw, private anonymous unless told otherwise; returns the VMA. */
export function map(mm: Mm, vpn: number, pages: number, o: MapOpts = {}): Vma {
  const flags: MmapFlag[] = [o.shared ? 'shared' : 'private', 'fixed'];
  if (!o.backing || o.backing.kind === 'anon') flags.push('anonymous');
  if (o.populate) flags.push('populate');
  if (o.hugetlb) flags.push('hugetlb');
  const r = doMmap(mm, {
    op: 'mmap',
    pid: mm.pid,
    addr: vpn * PG,
    len: pages * PG,
    prot: o.prot ?? { read: true, write: true, exec: false },
    flags,
    backing: o.backing ?? { kind: 'anon' },
    offset: o.offset ?? 0,
  });
  expect(r).toBe(vpn * PG);
  return mm.vmas.find(vpn)!;
}

/** The entry mapping page `vpn`: its PTE, or the huge PMD, or 0 for a hole. */
export function entry(mm: Mm, vpn: number): number {
  const l = mm.leafOf(vpn);
  if (l === undefined || l.pmd === 0) return 0;
  return l.pmd === PMD_TABLE ? l.pte[vpn - l.base]! : l.pmd;
}
export function leafOf(mm: Mm, vpn: number): { leaf: Leaf; i: number } {
  const leaf = mm.leafOf(vpn)!;
  return { leaf, i: vpn - leaf.base };
}
export const gt = (mm: Mm, vpn: number): number => {
  const l = mm.leafOf(vpn);
  return l ? l.gt[vpn - l.base]! : 0;
};
export const sdWhy = (mm: Mm, vpn: number): number => mm.leafOf(vpn)!.sdWhy[vpn - mm.leafOf(vpn)!.base]!;
export const uwWhy = (mm: Mm, vpn: number): number => mm.leafOf(vpn)!.uwWhy[vpn - mm.leafOf(vpn)!.base]!;
export const cWhy = (mm: Mm, vpn: number): number => mm.leafOf(vpn)!.cWhy[vpn - mm.leafOf(vpn)!.base]!;
export const has = (e: number, bits: number): boolean => (e & bits) === bits;

/** A user store / load on page `vpn`; returns the access result (ACCESS_OK, FAULT_*). */
export const tryStore = (mm: Mm, vpn: number): number => accessPage(mm, vpn, true, false, mm.pid);
export const tryLoad = (mm: Mm, vpn: number): number => accessPage(mm, vpn, false, false, mm.pid);
/** A user store / load on page `vpn` that must succeed. */
export function store(mm: Mm, vpn: number): void {
  expect(tryStore(mm, vpn)).toBe(ACCESS_OK);
}
export function load(mm: Mm, vpn: number): void {
  expect(tryLoad(mm, vpn)).toBe(ACCESS_OK);
}

/** write "4" to /proc/PID/clear_refs (fs/proc/task_mmu.c:clear_refs_write), then restart the ground truth. */
export function clearRefs(mm: Mm): void {
  expect(clearRefsWrite(mm, '4')).toBe(1);
  resetTruth(mm, 0, TASK_SIZE_PAGES);
}

/**
 * userfaultfd + UFFDIO_API(features) + UFFDIO_REGISTER(MODE_WP) over the whole VMA +
 * UFFDIO_WRITEPROTECT(MODE_WP) over [from, to) (default: the VMA), then restart the ground truth.
 */
export function armUffd(mm: Mm, vma: Vma, features: number, opts: { userModeOnly?: boolean; from?: number; to?: number } = {}): UffdCtx {
  const fd = 10 + mm.fds.size;
  const from = opts.from ?? vma.start;
  const to = opts.to ?? vma.end;
  expect(uffdUserfaultfd(mm, fd, opts.userModeOnly ? ['user_mode_only'] : [])).toBe(fd);
  expect(uffdioApi(mm, fd, UFFD_API, features)).toBe(0);
  expect(uffdioRegister(mm, fd, vma.start * PG, (vma.end - vma.start) * PG, UFFDIO_REGISTER_MODE_WP)).toBe(0);
  expect(uffdioWriteprotect(mm, fd, from * PG, (to - from) * PG, UFFDIO_WRITEPROTECT_MODE_WP)).toBe(0);
  resetTruth(mm, 0, TASK_SIZE_PAGES);
  return mm.fds.get(fd)!;
}
export const ASYNC = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;

/** The fault counters' values. */
export function faults(sys: System): Record<string, number> {
  const names = ['fault_missing', 'fault_cow', 'fault_wp_reuse', 'fault_uffd_sync', 'fault_uffd_async', 'fault_marker'];
  return Object.fromEntries(names.map((n) => [n, sys.counters[COUNTER_INDEX[n as CounterName]]!]));
}
