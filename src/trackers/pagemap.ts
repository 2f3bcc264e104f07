/**
 * Reading /proc/PID/pagemap (fs/proc/task_mmu.c:pagemap_read; docs/kernel-rules.md §2.10).
 *
 * Each page's 64-bit entry is represented by a small bit set (PMB_*) holding bits 55, 56, 57, 58,
 * 61, 62 and 63; bits 0–54 (the PFN or swap type/offset) always read 0 — the view of an opener
 * without CAP_SYS_ADMIN (pm->show_pfn false), which is what a tracker needs. pagemapEntry() turns a
 * bit set into the kernel's u64 value.
 *
 * Per-page rules (kernel functions in brackets):
 *   - no VMA: 0 [pagemap_pte_hole, vma == NULL part];
 *   - hole in a VMA (no page table), VM_PFNMAP VMA: VM_SOFTDIRTY ? 55 : 0, never 57 [pagemap_pte_hole];
 *   - present PTE: 63; 55 if SD; 57 if UW; for a normal page (not the zero page, vm_normal_page):
 *     61 if not anon, 56 if mapped exactly once [pte_to_pagemap_entry];
 *   - swap-format PTE (swap, migration, markers): 62; 55 if swap-SD; 57 if swap-UW or a uffd-wp
 *     marker; 58 for a guard marker (v6.15, profile.guardMarkers); 61 for a migration entry of a
 *     non-anon page [pte_to_pagemap_entry];
 *   - huge PMD: 63 (or 62 for a migration entry), the PMD's 55 and 57, 61 when the folio is not anon
 *     (the huge zero page is not: it reads present+file, probe D16/M6), 56 per subpage when mapped
 *     exactly once [pagemap_pmd_range];
 *   - hugetlb: 55 only from VM_SOFTDIRTY; present → 63, 57 if UW, 61 if not anon, 56 if mapped once;
 *     non-present → only 57 when swap-UW or a uffd-wp marker (no 62) [pagemap_hugetlb_range];
 *   - always OR 55 when the VMA has VM_SOFTDIRTY.
 */
import type { Leaf } from '../mm/leaf.js';
import type { Mm } from '../mm/mm.js';
import { hex } from '../mm/hex.js';
import { GUARD, KIND_MASK, MIGRATION, NONE, PAGE_MASK, PG_ANON, PG_ZERO, PMD_TABLE, PRESENT, SD, UW, isPresent } from '../mm/pte.js';
import { isHugeEntry } from '../mm/thp.js';
import { PTRS_PER_PTE, TASK_SIZE_PAGES } from '../mm/uapi.js';
import { vmaSoftDirtyFlag } from '../mm/predicates.js';
import { VM_PFNMAP, type Vma } from '../mm/vma.js';
import { CTR } from '../mm/counters.js';

/* The pagemap bits as a small bit set (one byte per page). */
/** bit 55 PM_SOFT_DIRTY */
export const PMB_SOFT_DIRTY = 1 << 0;
/** bit 56 PM_MMAP_EXCLUSIVE */
export const PMB_EXCLUSIVE = 1 << 1;
/** bit 57 PM_UFFD_WP */
export const PMB_UFFD_WP = 1 << 2;
/** bit 58 PM_GUARD_REGION */
export const PMB_GUARD = 1 << 3;
/** bit 61 PM_FILE */
export const PMB_FILE = 1 << 4;
/** bit 62 PM_SWAP */
export const PMB_SWAP = 1 << 5;
/** bit 63 PM_PRESENT */
export const PMB_PRESENT = 1 << 6;

/** PMB_* bit → pagemap bit number. */
export const PMB_BIT_NUMBERS: readonly [number, number][] = [
  [PMB_SOFT_DIRTY, 55],
  [PMB_EXCLUSIVE, 56],
  [PMB_UFFD_WP, 57],
  [PMB_GUARD, 58],
  [PMB_FILE, 61],
  [PMB_SWAP, 62],
  [PMB_PRESENT, 63],
];

/** Names as the probe fixture spells them. */
export const PMB_NAMES: readonly [number, string][] = [
  [PMB_SOFT_DIRTY, 'soft_dirty'],
  [PMB_EXCLUSIVE, 'exclusive'],
  [PMB_UFFD_WP, 'uffd_wp'],
  [PMB_GUARD, 'guard'],
  [PMB_FILE, 'file'],
  [PMB_SWAP, 'swap'],
  [PMB_PRESENT, 'present'],
];

/** The u64 pagemap entry of a bit set (PFN field 0). Not for hot paths. */
export function pagemapEntry(bits: number): bigint {
  let v = 0n;
  for (const [b, n] of PMB_BIT_NUMBERS) if (bits & b) v |= 1n << BigInt(n);
  return v;
}

/** The bit set of a u64 pagemap entry (PFN bits ignored). */
export function pagemapBitsOf(entry: bigint): number {
  let bits = 0;
  for (const [b, n] of PMB_BIT_NUMBERS) if ((entry >> BigInt(n)) & 1n) bits |= b;
  return bits;
}

export function describePagemapBits(bits: number): string[] {
  return PMB_NAMES.filter(([b]) => bits & b).map(([, n]) => n);
}

/** A run of consecutive pages with identical pagemap bits. */
export type PagemapEmit = (vpn: number, count: number, bits: number) => void;

/** Coalesces per-page results into runs before handing them to the caller. */
class RunCoalescer {
  private vpn = 0;
  private count = 0;
  private bits = -1;
  constructor(private readonly emit: PagemapEmit) {}

  push(vpn: number, count: number, bits: number): void {
    if (count <= 0) return;
    if (bits === this.bits && this.vpn + this.count === vpn) {
      this.count += count;
      return;
    }
    if (this.count > 0) this.emit(this.vpn, this.count, this.bits);
    this.vpn = vpn;
    this.count = count;
    this.bits = bits;
  }

  finish(): void {
    if (this.count > 0) this.emit(this.vpn, this.count, this.bits);
    this.count = 0;
    this.bits = -1;
  }
}

/** pte_to_pagemap_entry for one PTE (without the VM_SOFTDIRTY term). */
function pteBits(mm: Mm, e: number, pfn: number): number {
  const kind = e & KIND_MASK;
  if (kind === NONE) return 0;
  if (kind === PRESENT) {
    let b = PMB_PRESENT;
    if (e & SD) b |= PMB_SOFT_DIRTY;
    if (e & UW) b |= PMB_UFFD_WP;
    const page = e & PAGE_MASK;
    if (page !== PG_ZERO) {
      // vm_normal_page: a real folio (the 4 KiB zero page has none: no 61, no 56 — probe M6).
      if (page !== PG_ANON) b |= PMB_FILE;
      if (mm.sys.frames.mapcount[pfn] === 1) b |= PMB_EXCLUSIVE;
    }
    return b;
  }
  // is_swap_pte: swap, migration and every marker.
  let b = PMB_SWAP;
  if (e & SD) b |= PMB_SOFT_DIRTY;
  // pte_swp_uffd_wp || pte_marker_entry_uffd_wp: both are UW in the encoding.
  if (e & UW) b |= PMB_UFFD_WP;
  if (e & GUARD && mm.sys.profile.guardMarkers) b |= PMB_GUARD;
  // is_pfn_swap_entry (migration): the page is known; PM_FILE when it is not anon.
  if (e & MIGRATION && (e & PAGE_MASK) !== PG_ANON) b |= PMB_FILE;
  return b;
}

/** pagemap_pmd_range for a huge entry: bits shared by all subpages (56 is per subpage). */
function hugePmdBits(pmd: number): number {
  const kind = pmd & KIND_MASK;
  let b = 0;
  if (kind === PRESENT) b = PMB_PRESENT;
  else if (kind !== NONE) b = PMB_SWAP;
  else return 0;
  if (pmd & SD) b |= PMB_SOFT_DIRTY;
  if (pmd & UW) b |= PMB_UFFD_WP;
  // pmd_page / pfn_swap_entry_to_page: the huge zero folio is not anon either (61, probe D16).
  if ((pmd & PAGE_MASK) !== PG_ANON) b |= PMB_FILE;
  return b;
}

/** pagemap_hugetlb_range for one hugetlb entry (without the VM_SOFTDIRTY term). */
function hugetlbBits(mm: Mm, e: number, pfn: number): number {
  if (e & PMD_TABLE) return 0;
  const kind = e & KIND_MASK;
  if (kind === PRESENT) {
    let b = PMB_PRESENT;
    if ((e & PAGE_MASK) !== PG_ANON) b |= PMB_FILE;
    if (mm.sys.frames.mapcount[pfn] === 1) b |= PMB_EXCLUSIVE;
    if (e & UW) b |= PMB_UFFD_WP;
    return b;
  }
  // pte_swp_uffd_wp_any: swap-UW or a uffd-wp marker; nothing else (no PM_SWAP here).
  if (kind !== NONE && e & UW) return PMB_UFFD_WP;
  return 0;
}

/** Pages [s, e) of `vma` (non-hugetlb), leaf by leaf; leaf-less slots are one run. */
function vmaRange(mm: Mm, vma: Vma, s: number, e: number, out: RunCoalescer): void {
  const vmaBits = vmaSoftDirtyFlag(mm, vma) ? PMB_SOFT_DIRTY : 0;
  if (vma.flags & VM_PFNMAP) {
    // walk_page_test: a VM_PFNMAP VMA goes to ->pte_hole.
    out.push(s, e - s, vmaBits);
    return;
  }
  if (vma.isHugetlb) {
    for (let slot = Math.floor(s / PTRS_PER_PTE); slot * PTRS_PER_PTE < e; slot++) {
      const lo = Math.max(s, slot * PTRS_PER_PTE);
      const hi = Math.min(e, (slot + 1) * PTRS_PER_PTE);
      const leaf = mm.leafAt(slot);
      const bits = leaf === undefined ? 0 : hugetlbBits(mm, leaf.pmd, leaf.pmdPfn);
      out.push(lo, hi - lo, bits | vmaBits);
    }
    return;
  }
  const frames = mm.sys.frames;
  let pos = s;
  for (const leaf of mm.leavesIn(s, e)) {
    const lo = Math.max(s, leaf.base);
    const hi = Math.min(e, leaf.base + PTRS_PER_PTE);
    if (pos < lo) out.push(pos, lo - pos, vmaBits); // holes before this leaf
    pos = hi;
    const pmd = leaf.pmd;
    if (pmd === 0) {
      out.push(lo, hi - lo, vmaBits);
      continue;
    }
    if (isHugeEntry(pmd)) {
      const b = hugePmdBits(pmd) | vmaBits;
      if (!isPresent(pmd) || (pmd & PAGE_MASK) === PG_ZERO) {
        // No per-subpage exclusivity (migration entry; the huge zero folio has no mapcount).
        out.push(lo, hi - lo, b);
        continue;
      }
      const base = leaf.pmdPfn;
      for (let v = lo; v < hi; v++) {
        out.push(v, 1, frames.mapcount[base + (v - leaf.base)] === 1 ? b | PMB_EXCLUSIVE : b);
      }
      continue;
    }
    leafPtes(mm, leaf, lo - leaf.base, hi - leaf.base, vmaBits, out);
  }
  if (pos < e) out.push(pos, e - pos, vmaBits);
}

function leafPtes(mm: Mm, leaf: Leaf, from: number, to: number, vmaBits: number, out: RunCoalescer): void {
  const pte = leaf.pte;
  const pfn = leaf.pfn;
  const base = leaf.base;
  let runStart = from;
  let runBits = -1;
  for (let i = from; i < to; i++) {
    const b = pteBits(mm, pte[i]!, pfn[i]!) | vmaBits;
    if (b !== runBits) {
      if (i > runStart) out.push(base + runStart, i - runStart, runBits);
      runStart = i;
      runBits = b;
    }
  }
  if (to > runStart) out.push(base + runStart, to - runStart, runBits);
}

/**
 * The pagemap bits of pages [startVpn, endVpn) as runs of identical bits, in address order, with
 * no allocation per page (the lane driver's whole-VMA read). Pure: counts nothing, records nothing.
 */
export function pagemapRange(mm: Mm, startVpn: number, endVpn: number, emit: PagemapEmit): void {
  if (endVpn <= startVpn) return;
  const out = new RunCoalescer(emit);
  let pos = startVpn;
  for (const vma of mm.vmas.intersecting(startVpn, endVpn)) {
    const s = Math.max(startVpn, vma.start);
    const e = Math.min(endVpn, vma.end);
    if (pos < s) out.push(pos, s - pos, 0);
    vmaRange(mm, vma, s, e, out);
    pos = e;
  }
  if (pos < endVpn) out.push(pos, endVpn - pos, 0);
  out.finish();
}

/** The pagemap bits of one page. */
export function pagemapBits(mm: Mm, vpn: number): number {
  let bits = 0;
  pagemapRange(mm, vpn, vpn + 1, (_v, _n, b) => (bits = b));
  return bits;
}

/** Runs [start, end) pages with their bits, for tests and reports. */
export function pagemapRuns(mm: Mm, startVpn: number, endVpn: number): { start: number; end: number; bits: number }[] {
  const runs: { start: number; end: number; bits: number }[] = [];
  pagemapRange(mm, startVpn, endVpn, (vpn, n, bits) => runs.push({ start: vpn, end: vpn + n, bits }));
  return runs;
}

export interface PagemapReadResult {
  /** Bytes read (8 per entry), or -1. */
  ret: number;
  errno: string | null;
  /** First page read (offset / 8). */
  vpn: number;
  /** Entries returned (ret / 8). */
  entries: number;
}

/**
 * pread(pagemap_fd, buf, count, offset) → pagemap_read: offset and count must be multiples of 8
 * (EINVAL); the read stops at TASK_SIZE (entries beyond it are not returned); count 0 reads 0.
 * The entries go to `sink` as runs in address order (never one value per page: a read may cover the
 * whole address space). Counts pagemap_read_calls / pagemap_read_entries and records the call.
 */
export function pagemapRead(mm: Mm, offset: number, count: number, sink: PagemapEmit): PagemapReadResult {
  const sys = mm.sys;
  const args = `offset=${hex(offset)}, count=${count}`;
  sys.count(CTR.pagemap_read_calls);
  const svpfn = Math.floor(offset / 8);
  // !mmget_not_zero(mm): an exited process reads 0 bytes, before any argument check.
  if (mm.exited) {
    sys.result(mm.pid, 'pagemap_read', args, 0, null);
    return { ret: 0, errno: null, vpn: svpfn, entries: 0 };
  }
  if (offset % 8 !== 0 || count % 8 !== 0 || offset < 0 || count < 0) {
    return { ret: sys.result(mm.pid, 'pagemap_read', args, -1, 'EINVAL'), errno: 'EINVAL', vpn: svpfn, entries: 0 };
  }
  let n = 0;
  if (count > 0) {
    // end_vaddr = min(start + count/8 pages, task_size); a start beyond task_size reads nothing.
    const end = Math.min(svpfn + count / 8, TASK_SIZE_PAGES);
    n = Math.max(0, end - svpfn);
  }
  if (n > 0) pagemapRange(mm, svpfn, svpfn + n, sink);
  sys.count(CTR.pagemap_read_entries, n);
  sys.result(mm.pid, 'pagemap_read', args, n * 8, null);
  return { ret: n * 8, errno: null, vpn: svpfn, entries: n };
}
