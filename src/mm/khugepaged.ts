/**
 * MADV_COLLAPSE (mm/khugepaged.c:madvise_collapse, hpage_collapse_scan_pmd, collapse_huge_page;
 * docs/kernel-rules.md §2.18.2). The khugepaged thread itself is not modelled.
 */
import { Path, Why } from './cause.js';
import { CTR } from './counters.js';
import { PF_ANON, PF_DATA, PF_DIRTY } from './frames.js';
import type { Mm } from './mm.js';
import { NO_WHY, clearPte, flushTlbRange, setPmd } from './pgtable.js';
import {
  A,
  D,
  EXCL,
  GUARD,
  KIND_MASK,
  MARKER,
  MIGRATION,
  NONE,
  PAGE_MASK,
  PG_ANON,
  PG_ZERO,
  POISON,
  PRESENT,
  PROTNONE,
  SD,
  SWAP,
  UW,
  W,
  hasSoftDirty,
  isNone,
} from './pte.js';
import { isHugeEntry } from './thp.js';
import { HPAGE_PMD_NR, PTRS_PER_PTE } from './uapi.js';
import { VM_ACCESS, VM_HUGETLB, VM_NOHUGEPAGE, VM_PFNMAP, VM_UFFD_ALL, VM_WRITE, type Vma } from './vma.js';

const SCAN_SUCCEED = 'succeed';
/** The scan results madvise_collapse continues after (the rest stop the walk); errno per madvise_collapse_errno. */
const SCAN_ERRNO: Record<string, [continueScan: boolean, errno: string]> = {
  pmd_null: [true, 'EINVAL'],
  pte_non_present: [true, 'EINVAL'],
  pte_uffd_wp: [true, 'EINVAL'],
  page_ro: [true, 'EINVAL'],
  page_count: [true, 'EAGAIN'],
  exceed_none_pte: [false, 'EBUSY'],
};

/**
 * MADV_COLLAPSE → madvise_collapse (anon VMAs; file/shmem collapse is not modelled and fails with
 * EINVAL): thp_vma_allowable_order with forced collapse (sysfs ignored; VM_NOHUGEPAGE, hugetlb,
 * VM_PFNMAP, a VMA too small for an aligned 2 MiB range and one without anon_vma refused: EINVAL), then hpage_collapse_scan_pmd + collapse_huge_page for every 2 MiB slot
 * fully inside the range. A slot already PMD-mapped counts as done. Refusals continue with the next
 * slot and the call fails with madvise_collapse_errno of the last one: SCAN_PTE_UFFD_WP (a UW PTE or
 * uffd-wp marker / swap-UW entry), SCAN_PAGE_RO (no writable PTE: profile collapseNeedsWritable, up
 * to 6.17; 6.18 collapses read-only and PROT_NONE ranges too) and SCAN_PMD_NULL give EINVAL, a pinned page
 * (SCAN_PAGE_COUNT) EAGAIN; a none/zero PTE in a uffd-armed VMA (SCAN_EXCEED_NONE_PTE) stops with EBUSY.
 */
export function madviseCollapse(mm: Mm, v: Vma, lo: number, hi: number): string | null {
  if (!v.isAnon) return 'EINVAL';
  if (v.flags & (VM_NOHUGEPAGE | VM_HUGETLB | VM_PFNMAP)) return 'EINVAL';
  // __thp_vma_allowable_orders without TVA_IN_PF: the VMA must hold a whole aligned PMD range
  // (thp_vma_suitable_order at vm_end - HPAGE_PMD_SIZE), and a VMA without an anon_vma (never
  // write-faulted) is refused — only smaps and page faults accept it.
  if (Math.floor((v.end - HPAGE_PMD_NR) / HPAGE_PMD_NR) * HPAGE_PMD_NR < v.start) return 'EINVAL';
  if (v.anonVma === 0) return 'EINVAL';
  const hstart = Math.ceil(lo / HPAGE_PMD_NR) * HPAGE_PMD_NR;
  const hend = Math.floor(hi / HPAGE_PMD_NR) * HPAGE_PMD_NR;
  // A range inside one 2 MiB slot that touches neither of its edges: hstart > hend, and the
  // unsigned (hend - hstart) >> HPAGE_PMD_SHIFT never equals thps = 0 → madvise_collapse_errno(SCAN_FAIL).
  if (hstart > hend) return 'EINVAL';
  let thps = 0;
  let last: string | null = null;
  for (let s = hstart; s < hend; s += HPAGE_PMD_NR) {
    const r = collapseSlot(mm, v, s / HPAGE_PMD_NR);
    if (r === SCAN_SUCCEED) {
      thps++;
      continue;
    }
    last = r;
    if (!SCAN_ERRNO[r]![0]) break;
  }
  if (thps === (hend - hstart) / HPAGE_PMD_NR || last === null) return null;
  return SCAN_ERRNO[last]![1];
}

/** hpage_collapse_scan_pmd, then collapse_huge_page: one slot. */
function collapseSlot(mm: Mm, v: Vma, slot: number): string {
  const sys = mm.sys;
  const frames = sys.frames;
  const leaf = mm.leafAt(slot);
  if (leaf === undefined || leaf.pmd === 0) return 'pmd_null';
  if (isHugeEntry(leaf.pmd)) return SCAN_SUCCEED; // SCAN_PMD_MAPPED
  const armed = (v.flags & VM_UFFD_ALL) !== 0; // userfaultfd_armed
  let writable = false;
  for (let i = 0; i < PTRS_PER_PTE; i++) {
    const e = leaf.pte[i]!;
    const kind = e & KIND_MASK;
    if (kind === SWAP || kind === MARKER) {
      if (e & UW) return 'pte_uffd_wp'; // pte_swp_uffd_wp_any: swap-UW or a uffd-wp marker
      if (kind === MARKER || e & (GUARD | POISON | MIGRATION)) return 'pte_non_present';
      continue;
    }
    if (kind === NONE || (e & PAGE_MASK) === PG_ZERO) {
      if (armed) return 'exceed_none_pte';
      continue;
    }
    if (e & UW) return 'pte_uffd_wp';
    if (frames.maybePinned(leaf.pfn[i]!)) return 'page_count';
    if (e & W) writable = true;
  }
  if (!writable && sys.profile.collapseNeedsWritable) return 'page_ro';
  // collapse_huge_page: swap in, copy into a new PMD folio, free the old pages, map the PMD
  // maybe_pmd_mkwrite(pmd_mkdirty(folio_mk_pmd(vm_page_prot))) — SD on all 512 subpages; PROTNONE
  // in a PROT_NONE VMA.
  if (v.anonVma === 0) v.anonVma = sys.newAnonVma();
  const base = frames.allocLarge(HPAGE_PMD_NR, PF_ANON | PF_DIRTY);
  const sdBefore = new Uint8Array(PTRS_PER_PTE);
  for (let i = 0; i < PTRS_PER_PTE; i++) {
    const e = leaf.pte[i]!;
    sdBefore[i] = hasSoftDirty(e) ? 1 : 0;
    // The copy holds the old page's data (none for a none entry or the zero page).
    if (!isNone(e) && (e & PAGE_MASK) !== PG_ZERO) frames.flags[base + i]! |= frames.flags[leaf.pfn[i]!]! & PF_DATA;
    if (!isNone(e)) clearPte(mm, leaf, i, NONE, Path.COLLAPSE, NO_WHY);
  }
  for (let k = 0; k < HPAGE_PMD_NR; k++) {
    frames.get(base + k);
    frames.map(base + k);
  }
  leaf.pmdPfn = base;
  const prot = v.flags & VM_WRITE ? W : (v.flags & VM_ACCESS) === 0 ? PROTNONE : 0;
  setPmd(mm, leaf, PRESENT | PG_ANON | A | D | SD | EXCL | prot, Path.COLLAPSE, NO_WHY);
  for (let i = 0; i < PTRS_PER_PTE; i++) if (!sdBefore[i]) leaf.sdWhy[i] = Why.COLLAPSE;
  sys.count(CTR.thp_collapse);
  flushTlbRange(mm, HPAGE_PMD_NR);
  return SCAN_SUCCEED;
}
