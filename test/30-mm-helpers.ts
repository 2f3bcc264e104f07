/** Shared setup for MM tests: a real simulated system, mappings and accesses by page number. */
import { resolveProfile } from '../src/kernel/profile.js';
import { accessPage } from '../src/mm/access.js';
import { PteEventSink } from '../src/mm/events.js';
import type { Mm } from '../src/mm/mm.js';
import { doMmap } from '../src/mm/mmap.js';
import { DEFAULT_SYSFS, System, type Sysfs } from '../src/mm/system.js';
import { PAGE_SIZE } from '../src/mm/uapi.js';
import type { Backing, MmapFlag } from '../src/trace/types.js';

export function system(profile = '6.18', sysfs: Partial<Sysfs> = {}): { sys: System; mm: Mm } {
  const sys = new System(0, resolveProfile(profile), { ...DEFAULT_SYSFS, ...sysfs }, new PteEventSink(0, null));
  return { sys, mm: sys.mm(1)! };
}

/** mmap `pages` pages at page `vpn` (MAP_FIXED), rw, private anonymous unless told otherwise. */
export function map(mm: Mm, vpn: number, pages: number, flags: MmapFlag[] = ['private', 'anonymous'], backing: Backing = { kind: 'anon' }): number {
  return doMmap(mm, {
    op: 'mmap', pid: mm.pid, addr: vpn * PAGE_SIZE, len: pages * PAGE_SIZE, prot: { read: true, write: true, exec: false },
    flags: [...flags, 'fixed'], backing, offset: 0,
  });
}

export const store = (mm: Mm, vpn: number) => accessPage(mm, vpn, true, false, mm.pid);
export const load = (mm: Mm, vpn: number) => accessPage(mm, vpn, false, false, mm.pid);

/** The PTE of page `vpn` (0 when there is no table). */
export function pte(mm: Mm, vpn: number): number {
  const l = mm.leafOf(vpn);
  return l ? l.pte[vpn - l.base]! : 0;
}

/** A fault counter's value. */
export function faults(sys: System): Record<string, number> {
  const names = ['fault_missing', 'fault_cow', 'fault_wp_reuse', 'fault_uffd_sync', 'fault_uffd_async', 'fault_marker'];
  return Object.fromEntries(names.map((n) => [n, sys.counters[COUNTER_INDEX[n as CounterName]]!]));
}

import { COUNTER_INDEX, type CounterName } from '../src/lanes/results.js';
