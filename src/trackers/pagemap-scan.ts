/**
 * ioctl(pagemap_fd, PAGEMAP_SCAN, &pm_scan_arg) — fs/proc/task_mmu.c:do_pagemap_scan and its page
 * walk (docs/kernel-rules.md §2.11, docs/kernel-source-notes.md Q10, docs/kernel-probes.md M1–M3, M7).
 *
 * The structure follows the kernel function by function:
 *   pagemap_scan_get_args      → validation (EINVAL/EFAULT order of §2.11.1)
 *   do_pagemap_scan            → the walk loop with a bounce buffer of min(512, vec_len) regions,
 *                                flushed to the caller's vec after each walk_page_range
 *   pagemap_scan_test_walk     → per-VMA filter (EPERM / silent skip / WPALLOWED mask)
 *   pagemap_scan_pmd_entry     → THP entry, then fast path 1 (pure re-protect), fast path 2
 *                                (WRITTEN-only query), or the generic per-PTE loop
 *   pagemap_scan_thp_entry     → whole-PMD output and make_uffd_wp_pmd, or split + back out + redo
 *   pagemap_scan_hugetlb_entry → hugetlb (no partial WP: back out, walk_end = page start)
 *   pagemap_scan_pte_hole      → holes; under WP_MATCHING uffd_wp_range (markers + page tables)
 *   pagemap_scan_output / _push_range / _backout_range / _flush_buffer → region building
 *
 * Version switches (src/kernel/profile.ts): pagemapScan (the ioctl exists, else ENOTTY),
 * pagemapScanNoneIsWritten (generic path: pte_none → WRITTEN, probe M1), pagemapScanHoleIsWritten
 * (holes in non-hugetlb uffd-wp VMAs → WRITTEN and armed by WP_MATCHING, probe M2/M3),
 * pagemapScanHugeZeroPfnzero (huge zero PMD → PFNZERO), guardMarkers (PAGE_IS_GUARD exists).
 *
 * Addresses in and out are bytes, as in the UAPI; internally everything is in pages.
 */
import { Path, Why } from '../mm/cause.js';
import type { Leaf } from '../mm/leaf.js';
import type { Mm } from '../mm/mm.js';
import { hex } from '../mm/hex.js';
import { flushTlbRange, setPmd, setPte } from '../mm/pgtable.js';
import { userfaultfdWp, userfaultfdWpAsync, userfaultfdWpUseMarkers, vmaSoftDirtyFlag } from '../mm/predicates.js';
import {
  GUARD,
  KIND_MASK,
  MARKER,
  MIGRATION,
  NONE,
  PAGE_MASK,
  PG_ANON,
  PG_ZERO,
  PMD_TABLE,
  PRESENT,
  SD,
  SWAP,
  UFFD_WP_MARKER,
  UW,
  pteMkUffdWp,
  hasUffdWp,
} from '../mm/pte.js';
import { isHugeEntry, splitHugePmd } from '../mm/thp.js';
import {
  HPAGE_PMD_NR,
  PAGE_IS_FILE,
  PAGE_IS_GUARD,
  PAGE_IS_HUGE,
  PAGE_IS_PFNZERO,
  PAGE_IS_PRESENT,
  PAGE_IS_SOFT_DIRTY,
  PAGE_IS_SWAPPED,
  PAGE_IS_WPALLOWED,
  PAGE_IS_WRITTEN,
  PAGE_SIZE,
  PM_SCAN_ARG_SIZE,
  PM_SCAN_CHECK_WPASYNC,
  PM_SCAN_WP_MATCHING,
  PTRS_PER_PTE,
  TASK_SIZE,
} from '../mm/uapi.js';
import { VM_PFNMAP, type Vma } from '../mm/vma.js';
import type { TraceOp } from '../trace/types.js';
import { CTR } from '../mm/counters.js';
import { walkPmdRange } from '../mm/pagewalk.js';
import { uffdWpRange } from './userfaultfd.js';

/** struct pm_scan_arg (input part). The trace's pagemap_scan op has this shape. */
export interface PmScanArg {
  /** Byte address; must be page-aligned. */
  start: number;
  /** Byte address; rounded up to a page. */
  end: number;
  flags: number;
  categoryInverted: number;
  categoryMask: number;
  categoryAnyofMask: number;
  returnMask: number;
  /** Entries in the caller's vec. */
  vecLen: number;
  /** 0 = unlimited. */
  maxPages: number;
  /** sizeof(struct pm_scan_arg) as passed (default 96). */
  size?: number;
  /** The vec pointer: 0 = NULL. Default: non-NULL iff vecLen > 0. */
  vec?: number;
}

/** The trace op carries the same fields (vec is implied by vecLen). */
export type PagemapScanOp = Extract<TraceOp, { op: 'pagemap_scan' }>;

/** struct page_region, in bytes. */
export interface PageRegion {
  start: number;
  end: number;
  categories: number;
}

export interface PagemapScanResult {
  /** Regions written (the ioctl's return value), or -1. */
  ret: number;
  errno: string | null;
  /** arg.walk_end as written back (bytes); -1 when the kernel did not write it (argument errors, ENOTTY). */
  walkEnd: number;
  /** walk_end was written back (false for argument errors). */
  walkEndWritten: boolean;
  /** The page_regions copied to the caller's vec — also those copied before an error (EPERM). */
  regions: PageRegion[];
  /**
   * Page ranges [start, end) of VMAs that were not walked because they are not wp-async: skipped
   * under WP_MATCHING, or the VMA that raised EPERM under CHECK_WPASYNC (for attribution with
   * Why.SCAN_SKIPPED; not kernel output).
   */
  skipped: { start: number; end: number }[];
}

/** PAGEMAP_WALK_SIZE >> PAGE_SHIFT: bounce buffer entries at most. */
const BOUNCE_MAX = 512;

const PM_SCAN_FLAGS = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC;

/** Internal error codes (negative, as in the kernel). */
const EPERM = -1;
const ENOSPC = -28;

const ERRNO_NAMES: Record<number, string> = { [EPERM]: 'EPERM', [ENOSPC]: 'ENOSPC' };

/** PM_SCAN_CATEGORIES of the profile's kernel (PAGE_IS_GUARD from v6.15). */
function scanCategories(mm: Mm): number {
  let c =
    PAGE_IS_WPALLOWED | PAGE_IS_WRITTEN | PAGE_IS_FILE | PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO | PAGE_IS_HUGE | PAGE_IS_SOFT_DIRTY;
  if (mm.sys.profile.guardMarkers) c |= PAGE_IS_GUARD;
  return c;
}

interface Slot {
  start: number;
  end: number;
  categories: number;
}

/** struct pagemap_scan_private, in pages. */
class ScanState {
  curVmaCategory = 0;
  /** Bounce buffer (vec_buf), null when vec_len == 0. */
  buf: Slot[] | null = null;
  bufLen = 0;
  bufIndex = 0;
  foundPages = 0;
  /** arg.walk_end in pages; 0 = not set. */
  walkEnd = 0;
  vecLen: number;
  readonly maxPages: number;
  readonly masksOfInterest: number;
  readonly out: PageRegion[] = [];
  readonly skipped: { start: number; end: number }[] = [];
  entries = 0;
  readonly wpMatching: boolean;
  readonly fastWritten: boolean;

  constructor(
    readonly mm: Mm,
    readonly arg: PmScanArg,
  ) {
    this.vecLen = arg.vecLen;
    this.maxPages = arg.maxPages === 0 ? Infinity : arg.maxPages;
    this.masksOfInterest = arg.categoryMask | arg.categoryAnyofMask | arg.returnMask;
    this.wpMatching = (arg.flags & PM_SCAN_WP_MATCHING) !== 0;
    this.fastWritten =
      arg.categoryAnyofMask === 0 && arg.categoryInverted === 0 && arg.categoryMask === PAGE_IS_WRITTEN && arg.returnMask === PAGE_IS_WRITTEN;
    // pagemap_scan_init_bounce_buffer
    if (this.vecLen > 0) {
      this.bufLen = Math.min(BOUNCE_MAX, this.vecLen);
      this.buf = [];
      for (let i = 0; i < this.bufLen; i++) this.buf.push({ start: 0, end: 0, categories: 0 });
    }
  }

  /** pagemap_scan_is_interesting_page. */
  interesting(categories: number): boolean {
    const c = categories ^ this.arg.categoryInverted;
    const mask = this.arg.categoryMask;
    if ((c & mask) !== mask) return false;
    const anyof = this.arg.categoryAnyofMask;
    if (anyof !== 0 && (c & anyof) === 0) return false;
    return true;
  }

  /** pagemap_scan_is_interesting_vma: only WPALLOWED of category_mask is checked at VMA level. */
  interestingVma(categories: number): boolean {
    const required = this.arg.categoryMask & PAGE_IS_WPALLOWED;
    return ((categories ^ this.arg.categoryInverted) & required) === required;
  }

  /** pagemap_scan_push_range: extend the current region or open the next slot. */
  private pushRange(categories: number, addr: number, end: number): boolean {
    const buf = this.buf!;
    let cur = buf[this.bufIndex]!;
    if (addr === cur.end && categories === cur.categories) {
      cur.end = end;
      return true;
    }
    if (cur.end !== 0) {
      if (this.bufIndex >= this.bufLen - 1) return false;
      cur = buf[++this.bufIndex]!;
    }
    cur.start = addr;
    cur.end = end;
    cur.categories = categories;
    return true;
  }

  /**
   * pagemap_scan_output for pages [addr, end): returns the (possibly truncated) end in `this.outEnd`
   * and 0 or ENOSPC. Without a buffer nothing is recorded and the range is left whole.
   */
  outEnd = 0;
  output(categories: number, addr: number, end: number): number {
    this.outEnd = end;
    if (this.buf === null) return 0;
    categories &= this.arg.returnMask;
    let nPages = end - addr;
    let ret = 0;
    const total = this.foundPages + nPages;
    if (total > this.maxPages) {
      const tooMuch = total - this.maxPages;
      end -= tooMuch;
      nPages -= tooMuch;
      ret = ENOSPC;
    }
    if (!this.pushRange(categories, addr, end)) {
      end = addr;
      nPages = 0;
      ret = ENOSPC;
    }
    this.foundPages += nPages;
    if (ret !== 0) this.walkEnd = end;
    this.outEnd = end;
    return ret;
  }

  /** pagemap_scan_backout_range: undo the output of [addr, end) (a THP about to be redone per PTE). */
  backout(addr: number, end: number): void {
    if (this.buf === null) return;
    const cur = this.buf[this.bufIndex]!;
    if (cur.start !== addr) cur.end = addr;
    else cur.start = cur.end = 0;
    this.foundPages -= end - addr;
  }

  /** pagemap_scan_flush_buffer: copy the filled slots (the last only if non-empty) to the caller. */
  flush(): number {
    const buf = this.buf;
    if (buf === null) return 0;
    let n = this.bufIndex;
    if (buf[n]!.end !== buf[n]!.start) n++;
    if (n === 0) return 0;
    for (let i = 0; i < n; i++) {
      const r = buf[i]!;
      this.out.push({ start: r.start * PAGE_SIZE, end: r.end * PAGE_SIZE, categories: r.categories });
    }
    this.vecLen -= n;
    this.bufIndex = 0;
    this.bufLen = Math.min(this.bufLen, this.vecLen);
    buf[0]!.start = buf[0]!.end = 0;
    return n;
  }
}

/** pagemap_page_category for one PTE. */
function pageCategory(p: ScanState, e: number): number {
  const kind = e & KIND_MASK;
  if (kind === PRESENT) {
    let c = PAGE_IS_PRESENT;
    if ((e & UW) === 0) c |= PAGE_IS_WRITTEN;
    const page = e & PAGE_MASK;
    // vm_normal_page: the zero page has no folio, so it is never FILE.
    if (p.masksOfInterest & PAGE_IS_FILE && page !== PG_ZERO && page !== PG_ANON) c |= PAGE_IS_FILE;
    if (page === PG_ZERO) c |= PAGE_IS_PFNZERO;
    if (e & SD) c |= PAGE_IS_SOFT_DIRTY;
    return c;
  }
  if (kind === SWAP || kind === MARKER) {
    let c = PAGE_IS_SWAPPED;
    if ((e & UW) === 0) c |= PAGE_IS_WRITTEN;
    if (e & GUARD && kind === MARKER) {
      if (p.mm.sys.profile.guardMarkers) c |= PAGE_IS_GUARD;
    } else if (p.masksOfInterest & PAGE_IS_FILE && kind === SWAP && e & MIGRATION && (e & PAGE_MASK) !== PG_ANON) {
      c |= PAGE_IS_FILE;
    }
    if (e & SD) c |= PAGE_IS_SOFT_DIRTY;
    return c;
  }
  // pte_none: 0 in mainline; WRITTEN with the 2026 fix carried by 6.18.44 (probe M1).
  return p.mm.sys.profile.pagemapScanNoneIsWritten ? PAGE_IS_WRITTEN : 0;
}

/** pagemap_thp_category for a huge PMD entry. */
function thpCategory(p: ScanState, pmd: number): number {
  let c = PAGE_IS_HUGE;
  const kind = pmd & KIND_MASK;
  const page = pmd & PAGE_MASK;
  if (kind === PRESENT) {
    c |= PAGE_IS_PRESENT;
    if ((pmd & UW) === 0) c |= PAGE_IS_WRITTEN;
    // vm_normal_page_pmd: none for the huge zero page (probe D16: no FILE).
    if (p.masksOfInterest & PAGE_IS_FILE && page !== PG_ZERO && page !== PG_ANON) c |= PAGE_IS_FILE;
    if (page === PG_ZERO && p.mm.sys.profile.pagemapScanHugeZeroPfnzero) c |= PAGE_IS_PFNZERO;
    if (pmd & SD) c |= PAGE_IS_SOFT_DIRTY;
  } else if (kind !== NONE) {
    c |= PAGE_IS_SWAPPED;
    if ((pmd & UW) === 0) c |= PAGE_IS_WRITTEN;
    if (pmd & SD) c |= PAGE_IS_SOFT_DIRTY;
    if (p.masksOfInterest & PAGE_IS_FILE && page !== PG_ANON) c |= PAGE_IS_FILE;
  }
  return c;
}

/** pagemap_hugetlb_category for a hugetlb entry (0 = huge_pte_none). */
function hugetlbCategory(pte: number): number {
  let c = PAGE_IS_HUGE;
  const kind = pte & KIND_MASK;
  if (kind === PRESENT) {
    c |= PAGE_IS_PRESENT;
    if ((pte & UW) === 0) c |= PAGE_IS_WRITTEN;
    if ((pte & PAGE_MASK) !== PG_ANON && (pte & PAGE_MASK) !== PG_ZERO) c |= PAGE_IS_FILE;
    if ((pte & PAGE_MASK) === PG_ZERO) c |= PAGE_IS_PFNZERO;
    if (pte & SD) c |= PAGE_IS_SOFT_DIRTY;
  } else if (kind !== NONE) {
    c |= PAGE_IS_SWAPPED;
    if ((pte & UW) === 0) c |= PAGE_IS_WRITTEN;
    if (pte & SD) c |= PAGE_IS_SOFT_DIRTY;
  }
  return c;
}

/** make_uffd_wp_pte: present → pte_mkuffd_wp (A, D kept); swap-format → swap-UW (guard markers too, M7); none → marker. */
function makeUffdWpPte(mm: Mm, leaf: Leaf, i: number, e: number): void {
  const kind = e & KIND_MASK;
  let n: number;
  if (kind === PRESENT) n = mm.sys.profile.mkuffdWpClearsWrite ? pteMkUffdWp(e) : e | UW;
  else if (kind === NONE) n = UFFD_WP_MARKER;
  else n = e | UW;
  setPte(mm, leaf, i, n, Path.PAGEMAP_SCAN_WP, Why.ARMED);
}

/** make_uffd_wp_pmd: present → pmd_mkuffd_wp via pmdp_invalidate_ad; migration → swap-UW. */
function makeUffdWpPmd(mm: Mm, leaf: Leaf): void {
  const pmd = leaf.pmd;
  const kind = pmd & KIND_MASK;
  if (kind === PRESENT) setPmd(mm, leaf, mm.sys.profile.mkuffdWpClearsWrite ? pteMkUffdWp(pmd) : pmd | UW, Path.PAGEMAP_SCAN_WP, Why.ARMED);
  else if (kind === SWAP && pmd & MIGRATION) setPmd(mm, leaf, pmd | UW, Path.PAGEMAP_SCAN_WP, Why.ARMED);
}

/**
 * pagemap_scan_thp_entry: returns null when the slot is not (or no longer) a huge PMD ("-ENOENT":
 * go on at PTE level), else the walk's return code.
 */
function thpEntry(p: ScanState, leaf: Leaf, start: number, end: number): number | null {
  const mm = p.mm;
  const pmd = leaf.pmd;
  if (!isHugeEntry(pmd)) return null;
  p.entries++;
  const categories = p.curVmaCategory | thpCategory(p, pmd);
  if (!p.interesting(categories)) return 0;
  const ret = p.output(categories, start, end);
  end = p.outEnd;
  if (start === end) return ret;
  if (!p.wpMatching) return ret;
  if ((categories & PAGE_IS_WRITTEN) === 0) return ret;
  if (end !== start + HPAGE_PMD_NR) {
    // Partial WP of a THP: split, back out what was output, report as if there was no THP.
    splitHugePmd(mm, leaf);
    p.backout(start, end);
    return null;
  }
  makeUffdWpPmd(mm, leaf);
  flushTlbRange(mm, end - start);
  return ret;
}

/** pagemap_scan_pmd_entry for pages [start, end) of one slot that has a page table or a huge entry. */
function pmdEntry(p: ScanState, leaf: Leaf, start: number, end: number): number {
  const thp = thpEntry(p, leaf, start, end);
  if (thp !== null) return thp;
  const mm = p.mm;
  const pte = leaf.pte;
  const base = leaf.base;
  let ret = 0;
  let flushStart = -1;
  // Loop over the index in the table (a small integer): page numbers are doubles in V8, and a loop
  // counter that is a page number was boxed on every step (~600 MB of garbage on a 5 M-access replay).
  const i0 = start - base;
  const iEnd = end - base;
  let i = i0;

  if (p.wpMatching && p.buf === null) {
    // Fast path 1: exclusive WP of everything not yet protected; masks ignored, nothing counted.
    for (; i !== iEnd; i++) {
      const e = pte[i]!;
      if (hasUffdWp(e)) continue;
      makeUffdWpPte(mm, leaf, i, e);
      if (flushStart < 0) flushStart = i;
    }
  } else if (p.fastWritten) {
    // Fast path 2: every entry that is not UW (pte_none included) is cur_vma_category | WRITTEN.
    for (; i < iEnd; i++) {
      const e = pte[i]!;
      if (hasUffdWp(e)) continue;
      const addr = base + i;
      ret = p.output(p.curVmaCategory | PAGE_IS_WRITTEN, addr, addr + 1);
      if (p.outEnd === addr) break;
      if (!p.wpMatching) continue;
      makeUffdWpPte(mm, leaf, i, e);
      if (flushStart < 0) flushStart = i;
    }
  } else {
    for (; i !== iEnd; i++) {
      const e = pte[i]!;
      const categories = p.curVmaCategory | pageCategory(p, e);
      if (!p.interesting(categories)) continue;
      const addr = base + i;
      ret = p.output(categories, addr, addr + 1);
      if (p.outEnd === addr) break;
      if (!p.wpMatching) continue;
      if ((categories & PAGE_IS_WRITTEN) === 0) continue;
      makeUffdWpPte(mm, leaf, i, e);
      if (flushStart < 0) flushStart = i;
    }
  }
  p.entries += i - i0;
  // flush_tlb_range(vma, start, addr)
  if (flushStart >= 0) flushTlbRange(mm, i - flushStart);
  return ret;
}

/** pagemap_scan_hugetlb_entry for the huge page of `slot`, pages [start, end). */
function hugetlbEntry(p: ScanState, leaf: Leaf | undefined, start: number, end: number): number {
  const mm = p.mm;
  const pte = leaf === undefined || leaf.pmd & PMD_TABLE ? 0 : leaf.pmd;
  p.entries++;
  const categories = p.curVmaCategory | hugetlbCategory(pte);
  if (!p.wpMatching) {
    // The short route when not write-protecting.
    if (!p.interesting(categories)) return 0;
    return p.output(categories, start, end);
  }
  if (!p.interesting(categories)) return 0;
  let ret = p.output(categories, start, end);
  const outEnd = p.outEnd;
  if (start === outEnd) return ret;
  if ((categories & PAGE_IS_WRITTEN) === 0) return ret;
  if (outEnd !== start + HPAGE_PMD_NR) {
    // Partial HugeTLB page WP isn't possible: nothing protected, walk_end = start of the page.
    p.backout(start, outEnd);
    p.walkEnd = start;
    ret = 0;
    return ret;
  }
  // make_uffd_wp_huge_pte: markers and hwpoison unchanged; migration → swap-UW; present → mkuffd_wp; none → marker.
  const l = leaf ?? mm.ensureLeaf(Math.floor(start / PTRS_PER_PTE));
  const kind = pte & KIND_MASK;
  if (kind === PRESENT) setPmd(mm, l, pteMkUffdWp(pte), Path.PAGEMAP_SCAN_WP, Why.ARMED);
  else if (kind === SWAP && pte & MIGRATION) setPmd(mm, l, pte | UW, Path.PAGEMAP_SCAN_WP, Why.ARMED);
  else if (kind === NONE) setPmd(mm, l, UFFD_WP_MARKER, Path.PAGEMAP_SCAN_WP, Why.ARMED);
  flushTlbRange(mm, HPAGE_PMD_NR);
  return ret;
}

/**
 * pagemap_scan_pte_hole for pages [addr, end) of `vma` without a page table. The hole is
 * cur_vma_category, plus WRITTEN inside a non-hugetlb uffd-wp VMA on kernels with the 2026 fix
 * (probe M2). Under WP_MATCHING the output part is armed with uffd_wp_range (probe M3).
 */
function pteHole(p: ScanState, vma: Vma, addr: number, end: number): number {
  p.entries += Math.ceil(end / PTRS_PER_PTE) - Math.floor(addr / PTRS_PER_PTE);
  let categories = p.curVmaCategory;
  if (p.mm.sys.profile.pagemapScanHoleIsWritten && userfaultfdWp(vma) && !vma.isHugetlb) categories |= PAGE_IS_WRITTEN;
  if (!p.interesting(categories)) return 0;
  const ret = p.output(categories, addr, end);
  end = p.outEnd;
  if (addr === end) return ret;
  if (!p.wpMatching) return ret;
  // Populates page tables and installs markers (change_protection with MM_CP_UFFD_WP); the model has
  // no -ENOMEM to return.
  uffdWpRange(p.mm, vma, addr, end, true, Path.PAGEMAP_SCAN_WP, Why.ARMED);
  return ret;
}

/** pagemap_scan_test_walk: 0 = walk, 1 = skip, EPERM = fail the ioctl. */
function testWalk(p: ScanState, vma: Vma): number {
  const wpAllowed = userfaultfdWpAsync(vma) && userfaultfdWpUseMarkers(vma);
  if (!wpAllowed) {
    if (p.arg.flags & PM_SCAN_CHECK_WPASYNC) return EPERM;
    if (p.arg.flags & PM_SCAN_WP_MATCHING) return 1;
  }
  if (vma.flags & VM_PFNMAP) return 1;
  let category = 0;
  if (wpAllowed) category |= PAGE_IS_WPALLOWED;
  if (vmaSoftDirtyFlag(p.mm, vma)) category |= PAGE_IS_SOFT_DIRTY;
  if (!p.interestingVma(category)) return 1;
  p.curVmaCategory = category;
  return 0;
}

/** walk_page_range(mm, start, end, &pagemap_scan_ops, p) over pages. */
function walkPageRange(p: ScanState, start: number, end: number): number {
  const mm = p.mm;
  for (const vma of mm.vmas.intersecting(start, end)) {
    const s = Math.max(start, vma.start);
    const e = Math.min(end, vma.end);
    const t = testWalk(p, vma);
    if (t < 0) {
      p.skipped.push({ start: s, end: e });
      return t;
    }
    if (t === 1) {
      if (p.wpMatching && (vma.flags & VM_PFNMAP) === 0) p.skipped.push({ start: s, end: e });
      continue;
    }
    const r = vma.isHugetlb
      ? walkHugetlb(p, s, e)
      : walkPmdRange(mm, s, e, {
          pmdEntry: (leaf, lo, hi) => pmdEntry(p, leaf, lo, hi),
          pteHole: (lo, hi) => pteHole(p, vma, lo, hi),
        });
    if (r !== 0) return r;
  }
  // Gaps between VMAs: pte_hole with no VMA reports nothing.
  return 0;
}

function walkHugetlb(p: ScanState, s: number, e: number): number {
  for (let slot = Math.floor(s / PTRS_PER_PTE); slot * PTRS_PER_PTE < e; slot++) {
    const lo = Math.max(s, slot * PTRS_PER_PTE);
    const hi = Math.min(e, (slot + 1) * PTRS_PER_PTE);
    const r = hugetlbEntry(p, p.mm.leafAt(slot), lo, hi);
    if (r !== 0) return r;
  }
  return 0;
}

function argsText(a: PmScanArg): string {
  return (
    `${hex(a.start)}-${hex(a.end)}, flags=${a.flags}, inv=${hex(a.categoryInverted)}, mask=${hex(a.categoryMask)}, ` +
    `anyof=${hex(a.categoryAnyofMask)}, ret=${hex(a.returnMask)}, vec_len=${a.vecLen}, max_pages=${a.maxPages}`
  );
}

/**
 * ioctl(PAGEMAP_SCAN) — fs/proc/task_mmu.c:do_pagemap_scan. Counts pagemap_scan_calls, _entries and
 * _regions, and records the call (ret = regions, or -1 with the errno).
 */
export function pagemapScan(mm: Mm, input: PmScanArg | PagemapScanOp): PagemapScanResult {
  const sys = mm.sys;
  const arg: PmScanArg = input;
  const args = argsText(arg);
  sys.count(CTR.pagemap_scan_calls);
  const fail = (errno: string, walkEnd = -1, regions: PageRegion[] = [], skipped: { start: number; end: number }[] = []): PagemapScanResult => {
    sys.result(mm.pid, 'PAGEMAP_SCAN', args, -1, errno, walkEnd >= 0 ? walkEnd / PAGE_SIZE : undefined);
    return { ret: -1, errno, walkEnd, walkEndWritten: walkEnd >= 0, regions, skipped };
  };
  // Kernels before v6.7 have no ioctl on the pagemap file: vfs_ioctl → -ENOTTY.
  if (!sys.profile.pagemapScan) return fail('ENOTTY');

  // pagemap_scan_get_args
  if ((arg.size ?? PM_SCAN_ARG_SIZE) !== PM_SCAN_ARG_SIZE) return fail('EINVAL');
  if (arg.flags & ~PM_SCAN_FLAGS) return fail('EINVAL');
  if ((arg.categoryInverted | arg.categoryMask | arg.categoryAnyofMask | arg.returnMask) & ~scanCategories(mm)) return fail('EINVAL');
  if (arg.start % PAGE_SIZE !== 0) return fail('EINVAL');
  // access_ok(start, end - start): the unsigned length wraps for end < start.
  if (arg.end < arg.start || arg.end > TASK_SIZE) return fail('EFAULT');
  const vec = arg.vec ?? (arg.vecLen > 0 ? 1 : 0);
  if (vec === 0 && arg.vecLen !== 0) return fail('EINVAL');
  const start = arg.start / PAGE_SIZE;
  const end = Math.ceil(arg.end / PAGE_SIZE);

  const p = new ScanState(mm, arg);
  let ret = 0;
  let nRanges = 0;
  for (let walkStart = start; walkStart < end; walkStart = p.walkEnd) {
    // WP_MATCHING: mmu_notifier_invalidate_range_start(walk_start, end) around the walk.
    ret = walkPageRange(p, walkStart, end);
    nRanges += p.flush();
    if (ret !== ENOSPC) break;
    if (p.vecLen === 0 || p.foundPages === p.maxPages) break;
    if (p.walkEnd <= walkStart) break; // cannot happen: a fresh buffer always takes one region
  }
  if (ret === 0 || ret === ENOSPC) ret = nRanges;
  const walkEnd = (p.walkEnd === 0 ? end : p.walkEnd) * PAGE_SIZE;
  const skipped = p.skipped.map((r) => ({ start: r.start * PAGE_SIZE, end: r.end * PAGE_SIZE }));
  sys.count(CTR.pagemap_scan_entries, p.entries);
  sys.count(CTR.pagemap_scan_regions, p.out.length);
  if (ret < 0) return fail(ERRNO_NAMES[ret] ?? `E${-ret}`, walkEnd, p.out, skipped);
  sys.result(mm.pid, 'PAGEMAP_SCAN', args, ret, null, walkEnd / PAGE_SIZE);
  return { ret, errno: null, walkEnd, walkEndWritten: true, regions: p.out, skipped };
}
