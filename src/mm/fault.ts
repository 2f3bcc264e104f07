/**
 * The page-fault path (mm/memory.c:handle_mm_fault and friends), docs/kernel-rules.md §2.1.
 * Each handler updates the entry and returns a FAULT_* outcome; the access loop (access.ts)
 * retries the access until the hardware would let it through, counting one fault per pass.
 */
import { handleUserfault } from './handle-userfault.js';
import { hugetlbFault } from './hugetlb.js';
import { Path, Why } from './cause.js';
import { PF_ANON, PF_DIRTY, PF_SWAPPED, ZERO_PFN } from './frames.js';
import type { Mm } from './mm.js';
import { NO_WHY, clearPte, flushTlbRange, installPte, pteAlloc, setPmd, setPte } from './pgtable.js';
import { pteNeedsSoftDirtyWp, thpAllowed, userfaultfdPteWp, userfaultfdWp, userfaultfdWpAsync, vmPageProtWritable } from './predicates.js';
import {
  A,
  D,
  EXCL,
  GUARD,
  KIND_MASK,
  MARKER,
  NONE,
  PG_ANON,
  PG_FILE,
  PG_SHMEM,
  PG_ZERO,
  PAGE_MASK,
  PRESENT,
  SD,
  SWAP,
  UW,
  W,
  pteMkUffdWp,
} from './pte.js';
import { isHugeEntry, splitHugePmd } from './thp.js';
import { HPAGE_PMD_NR, PTRS_PER_PTE } from './uapi.js';
import { VM_MAYSHARE, VM_SHARED, VM_UFFD_MINOR, VM_UFFD_WP, VM_WRITE, findMergeableAnonVma, type Vma } from './vma.js';
import { CTR } from './counters.js';
import { FAULT_DONE, FAULT_SIGBUS, FAULT_SIGSEGV, type VmFault } from './fault-types.js';

/** anon_vma_prepare(): reuse a neighbour's anon_vma (find_mergeable_anon_vma) or allocate one. */
export function anonVmaPrepare(mm: Mm, vma: Vma): void {
  if (vma.anonVma !== 0) return;
  const reuse = findMergeableAnonVma(mm.vmas, vma);
  vma.anonVma = reuse !== 0 ? reuse : mm.sys.newAnonVma();
}

const pageKindOf = (vma: Vma): number => (vma.obj === null ? PG_ANON : vma.obj.kind === 'file' ? PG_FILE : PG_SHMEM);

/** mm/memory.c:handle_mm_fault → __handle_mm_fault → handle_pte_fault: one fault. */
export function handleMmFault(f: VmFault): number {
  const { mm, leaf } = f;
  if (f.vma.isHugetlb) return hugetlbFault(f);
  if (leaf.pmd === 0) {
    if (thpAllowed(f.vma, leaf.index, mm.sys.sysfs)) return doHugePmdAnonymousPage(f);
    pteAlloc(mm, leaf, f.vma.isAnon ? Path.DO_ANONYMOUS_PAGE : Path.DO_FAULT);
  } else if (isHugeEntry(leaf.pmd)) {
    if (f.write && (leaf.pmd & W) === 0) return wpHugePmd(f);
    mm.sys.count(CTR.fault_spurious);
    return FAULT_DONE;
  }
  const e = leaf.pte[f.i]!;
  switch (e & KIND_MASK) {
    case NONE:
      mm.sys.count(CTR.fault_missing);
      return f.vma.isAnon ? doAnonymousPage(f, false, Path.DO_ANONYMOUS_PAGE) : doFault(f, false, Path.DO_FAULT);
    case MARKER:
      return handlePteMarker(f);
    case SWAP:
      return doSwapPage(f);
    default:
      if (f.write && (e & W) === 0) return doWpPage(f);
      // Write fault on a writable PTE: an arch without hardware dirty bits; pte_mkdirty sets SD.
      mm.sys.count(CTR.fault_spurious);
      setPte(mm, leaf, f.i, e | A | (f.write ? D | SD : 0), Path.HW_ACCESS, Why.WRITE);
      return FAULT_DONE;
  }
}

/**
 * mm/memory.c:do_anonymous_page. A read maps the shared zero page read-only (unless
 * mm_forbids_zeropage: profile.zeroPage off); a write, or a read where the zero page is forbidden,
 * allocates an exclusive page mapped maybe_mkwrite(pte_mkdirty()) (W, D, SD where VM_WRITE: a read
 * then leaves the page soft-dirty and writable without a store). A uffd-wp marker origin adds UW
 * (and pte_mkuffd_wp clears W again), so a write on a marker faults once more into do_wp_page.
 */
export function doAnonymousPage(f: VmFault, origUw: boolean, path: number): number {
  const { mm, vma, leaf, i } = f;
  if (!f.write && mm.sys.profile.zeroPage) {
    let entry = PRESENT | PG_ZERO | A;
    if (origUw) entry = pteMkUffdWp(entry);
    installPte(mm, leaf, i, entry, ZERO_PFN, path, NO_WHY);
    // A zero page mapped without UW in a WP-registered VMA: its CoW will send no message (D10).
    if (!origUw && userfaultfdWp(vma)) leaf.uwWhy[i] = Why.ZERO_PAGE;
    return FAULT_DONE;
  }
  anonVmaPrepare(f.mm, f.vma);
  const pfn = mm.sys.frames.alloc(PF_ANON | PF_DIRTY);
  let entry = PRESENT | PG_ANON | A | EXCL;
  if (vma.flags & VM_WRITE) entry |= W | D | SD;
  if (origUw) entry = pteMkUffdWp(entry);
  const why = f.write ? Why.WRITE : Why.READ_ALLOC;
  installPte(mm, leaf, i, entry, pfn, path, why);
  // A read-allocated page mapped writable without UW in a WP-registered VMA: no store to it faults.
  if (!f.write && !origUw && userfaultfdWp(vma)) leaf.uwWhy[i] = why;
  return FAULT_DONE;
}

/**
 * mm/memory.c:do_fault → do_read_fault / do_cow_fault / do_shared_fault, through finish_fault and
 * set_pte_range. A read fault first maps the cached pages around it (do_fault_around). A page at or
 * beyond i_size: ->fault (shmem_fault, filemap_fault) returns VM_FAULT_SIGBUS.
 */
export function doFault(f: VmFault, origUw: boolean, path: number): number {
  const { mm, vma, leaf, i } = f;
  const frames = mm.sys.frames;
  const obj = vma.obj!;
  if (vma.pgoffOf(f.vpn) >= obj.sizePages) {
    if (!f.write) faultAround(f, path);
    return FAULT_SIGBUS;
  }
  const cachePfn = obj.getPage(frames, vma.pgoffOf(f.vpn));
  let entry: number;
  let pfn = cachePfn;
  if (!f.write) {
    entry = readFaultEntry(f.mm, vma, cachePfn);
    faultAround(f, path);
  } else if ((vma.flags & VM_SHARED) === 0) {
    // do_cow_fault: a private anon copy of the page cache page.
    anonVmaPrepare(f.mm, f.vma);
    pfn = frames.alloc(PF_ANON | PF_DIRTY);
    entry = PRESENT | PG_ANON | A | EXCL | W | D | SD;
  } else {
    // do_shared_fault: ->page_mkwrite, then a dirty writable PTE.
    frames.flags[cachePfn]! |= PF_DIRTY;
    entry = PRESENT | A | W | D | SD | pageKindOf(vma);
  }
  if (origUw) entry = pteMkUffdWp(entry);
  installPte(mm, leaf, i, entry, pfn, path, f.write ? Why.WRITE : vma.sdWhy);
  return FAULT_DONE;
}

/** The PTE a read fault maps for page cache page `pfn` (mk_pte with vm_page_prot). */
function readFaultEntry(mm: Mm, vma: Vma, pfn: number): number {
  let entry = PRESENT | A | pageKindOf(vma);
  if (vmPageProtWritable(mm, vma)) {
    entry |= W;
    if (mm.sys.frames.flags[pfn]! & PF_DIRTY) entry |= D | SD;
  }
  return entry;
}

/** fault_around_bytes (64 KiB) in pages. */
const FAULT_AROUND_PAGES = 16;

/**
 * do_read_fault → do_fault_around → filemap_map_pages: the page cache pages already present in
 * the fault_around_pages-aligned window around the fault (clamped to the VMA and the page table)
 * are mapped too, wherever the PTE is none. Skipped in VMAs registered for uffd WP or MINOR
 * (should_fault_around → uffd_disable_fault_around). kreplay-checked on 6.18.
 */
function faultAround(f: VmFault, path: number): void {
  const { mm, vma, leaf, i } = f;
  if (vma.flags & (VM_UFFD_WP | VM_UFFD_MINOR)) return;
  const obj = vma.obj!;
  const vmaOff = f.vpn - vma.start;
  const from = Math.max(i - (i % FAULT_AROUND_PAGES), i - Math.min(i, vmaOff));
  const to = Math.min(from + FAULT_AROUND_PAGES, PTRS_PER_PTE, i + (vma.end - vma.start) - vmaOff) - 1;
  for (let j = from; j <= to; j++) {
    if (j === i || leaf.pte[j] !== NONE) continue;
    const pfn = obj.pages.get(vma.pgoffOf(leaf.base + j));
    if (pfn === undefined) continue;
    installPte(mm, leaf, j, readFaultEntry(mm, vma, pfn), pfn, path, vma.sdWhy);
  }
}

/** mm/memory.c:handle_pte_marker → pte_marker_handle_uffd_wp. */
function handlePteMarker(f: VmFault): number {
  const { mm, vma, leaf, i } = f;
  const e = leaf.pte[i]!;
  mm.sys.count(CTR.fault_marker);
  if (e & GUARD) return FAULT_SIGSEGV;
  if ((e & UW) === 0) return FAULT_SIGBUS; // poison marker
  if (!userfaultfdWp(vma)) {
    // A stale marker in a VMA that is no longer WP-registered: clear it and retry.
    setPte(mm, leaf, i, NONE, Path.HANDLE_PTE_MARKER, vma.uffdWhy);
    return FAULT_DONE;
  }
  return vma.isAnon ? doAnonymousPage(f, true, Path.HANDLE_PTE_MARKER) : doFault(f, true, Path.HANDLE_PTE_MARKER);
}

/** mm/memory.c:do_swap_page: SD and UW come back from the swap entry (§2.1.7). */
function doSwapPage(f: VmFault): number {
  const { mm, vma, leaf, i } = f;
  const e = leaf.pte[i]!;
  const pfn = leaf.pfn[i]!;
  const frames = mm.sys.frames;
  mm.sys.count(CTR.fault_swapin);
  let entry = PRESENT | PG_ANON | A | (e & SD);
  if (e & UW) entry = pteMkUffdWp(entry);
  const exclusive = (e & EXCL) !== 0 || frames.refs[pfn] === 1;
  if (exclusive) {
    entry |= EXCL;
    if (vma.flags & VM_WRITE && !userfaultfdPteWp(vma, entry) && !pteNeedsSoftDirtyWp(mm, vma, entry)) {
      entry |= W;
      if (f.write) entry |= D | SD;
    }
  }
  frames.flags[pfn]! &= ~PF_SWAPPED;
  frames.map(pfn);
  setPte(mm, leaf, i, entry, Path.DO_SWAP_PAGE, Why.WRITE);
  return FAULT_DONE;
}

/**
 * mm/memory.c:do_wp_page, in the kernel's order (§2.1.6): uffd-wp first (sync: handle_userfault;
 * async: clear UW in place with no flush), then reuse or copy.
 */
export function doWpPage(f: VmFault): number {
  const { mm, vma, leaf, i } = f;
  let e = leaf.pte[i]!;
  let counted = false;
  if (userfaultfdPteWp(vma, e)) {
    if (!userfaultfdWpAsync(vma)) return handleUserfault(f);
    e &= ~UW;
    setPte(mm, leaf, i, e, Path.DO_WP_PAGE_UFFD_ASYNC, Why.WRITE);
    mm.sys.count(CTR.fault_uffd_async);
    counted = true;
  }
  if (userfaultfdWp(vma) && mm.tlbFlushPending > 0) flushTlbRange(mm, 1);
  if ((e & PAGE_MASK) === PG_ZERO) return wpPageCopy(f, e, counted);
  if (vma.flags & (VM_SHARED | VM_MAYSHARE)) {
    // wp_page_shared: ->page_mkwrite, then wp_page_reuse.
    if (!counted) mm.sys.count(CTR.fault_shared_mkwrite);
    mm.sys.frames.flags[leaf.pfn[i]!]! |= PF_DIRTY;
    setPte(mm, leaf, i, e | A | D | SD | (vma.flags & VM_WRITE ? W : 0), Path.WP_PAGE_REUSE, Why.WRITE);
    return FAULT_DONE;
  }
  if ((e & PAGE_MASK) === PG_ANON && ((e & EXCL) !== 0 || wpCanReuseAnonFolio(mm, leaf.pfn[i]!))) {
    if (!counted) mm.sys.count(CTR.fault_wp_reuse);
    setPte(mm, leaf, i, e | A | D | SD | EXCL | (vma.flags & VM_WRITE ? W : 0), Path.WP_PAGE_REUSE, Why.WRITE);
    return FAULT_DONE;
  }
  return wpPageCopy(f, e, counted);
}

/** mm/memory.c:wp_can_reuse_anon_folio: a small folio nobody else references. */
function wpCanReuseAnonFolio(mm: Mm, pfn: number): boolean {
  const frames = mm.sys.frames;
  return !frames.isLarge(pfn) && frames.refs[pfn] === 1 && frames.mapcount[pfn] === 1;
}

/** mm/memory.c:wp_page_copy (write): a fresh exclusive anon page, W D SD, UW dropped. */
function wpPageCopy(f: VmFault, old: number, counted: boolean): number {
  const { mm, vma, leaf, i } = f;
  if (!counted) mm.sys.count(CTR.fault_cow);
  anonVmaPrepare(mm, vma);
  const pfn = mm.sys.frames.alloc(PF_ANON | PF_DIRTY);
  clearPte(mm, leaf, i, old, Path.WP_PAGE_COPY, NO_WHY);
  installPte(mm, leaf, i, PRESENT | PG_ANON | A | D | SD | EXCL | (vma.flags & VM_WRITE ? W : 0), pfn, Path.WP_PAGE_COPY, Why.WRITE);
  // The old translation is replaced: ptep_clear_flush.
  flushTlbRange(mm, 1);
  return FAULT_DONE;
}

/**
 * mm/huge_memory.c:do_huge_pmd_anonymous_page: vmf_anon_prepare first (even for the huge zero page),
 * then a read maps the huge zero page (use_zero_page, and !mm_forbids_zeropage); a write (or a read
 * without it) allocates a THP mapped maybe_pmd_mkwrite(pmd_mkdirty()), so all 512 subpages read
 * soft-dirty at once.
 */
function doHugePmdAnonymousPage(f: VmFault): number {
  const { mm, leaf } = f;
  const sys = mm.sys;
  sys.count(CTR.fault_missing);
  anonVmaPrepare(mm, f.vma);
  if (!f.write && sys.sysfs.thpZeroPage && sys.profile.zeroPage) {
    leaf.pmdPfn = ZERO_PFN;
    setPmd(mm, leaf, PRESENT | PG_ZERO | A, Path.DO_HUGE_PMD_ANONYMOUS_PAGE, NO_WHY);
    return FAULT_DONE;
  }
  return allocThp(f, Path.DO_HUGE_PMD_ANONYMOUS_PAGE);
}

/** Allocate an exclusive anon THP and map it maybe_pmd_mkwrite(pmd_mkdirty()): SD on all 512 subpages. */
function allocThp(f: VmFault, path: number): number {
  const { mm, vma, leaf } = f;
  const sys = mm.sys;
  anonVmaPrepare(f.mm, f.vma);
  sys.count(CTR.thp_fault_alloc);
  const base = sys.frames.allocLarge(HPAGE_PMD_NR, PF_ANON | PF_DIRTY);
  for (let k = 0; k < HPAGE_PMD_NR; k++) {
    sys.frames.get(base + k);
    sys.frames.map(base + k);
  }
  const wasZero = (leaf.pmd & PAGE_MASK) === PG_ZERO && leaf.pmd !== 0;
  leaf.pmdPfn = base;
  setPmd(mm, leaf, PRESENT | PG_ANON | A | D | SD | EXCL | (vma.flags & VM_WRITE ? W : 0), path, f.write ? Why.THP_GRANULARITY : Why.READ_ALLOC);
  if (wasZero) {
    sys.count(CTR.fault_cow);
    flushTlbRange(mm, HPAGE_PMD_NR);
  }
  if (f.write) leaf.sdWhy[f.i] = Why.WRITE;
  return FAULT_DONE;
}

/**
 * mm/memory.c:wp_huge_pmd and mm/huge_memory.c:do_huge_pmd_wp_page (§2.1.8). uffd-wp on the PMD:
 * async splits and falls back to the PTE level; sync raises the message without splitting. An
 * exclusive THP is reused whole (pmd_mkdirty: SD on 512 pages for one store); otherwise split.
 */
function wpHugePmd(f: VmFault): number {
  const { mm, vma, leaf } = f;
  const pmd = leaf.pmd;
  if (!vma.isAnon) {
    splitHugePmd(mm, leaf);
    return FAULT_DONE;
  }
  if (userfaultfdWp(vma) && (pmd & UW) !== 0) {
    if (!userfaultfdWpAsync(vma)) return handleUserfault(f);
    splitHugePmd(mm, leaf);
    return FAULT_DONE;
  }
  if ((pmd & PAGE_MASK) === PG_ZERO) {
    // do_huge_zero_wp_pmd (recent kernels): replace the huge zero page with a fresh THP.
    if (mm.sys.profile.hugeZeroWpAllocatesThp) return allocThp(f, Path.DO_HUGE_PMD_WP_PAGE);
    splitHugePmd(mm, leaf);
    return FAULT_DONE;
  }
  if ((pmd & EXCL) === 0) {
    splitHugePmd(mm, leaf);
    return FAULT_DONE;
  }
  mm.sys.count(CTR.fault_wp_reuse);
  const sdBefore = (pmd & SD) !== 0;
  setPmd(mm, leaf, pmd | A | D | SD | (vma.flags & VM_WRITE ? W : 0), Path.DO_HUGE_PMD_WP_PAGE, NO_WHY);
  if (!sdBefore) {
    leaf.sdWhy.fill(Why.THP_GRANULARITY);
    leaf.sdWhy[f.i] = Why.WRITE;
  }
  return FAULT_DONE;
}

export const slotOf = (vpn: number): number => Math.floor(vpn / PTRS_PER_PTE);
