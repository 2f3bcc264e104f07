/**
 * mm/mprotect.c:change_protection → change_pmd_range → change_pte_range (docs/kernel-rules.md §2.5.3,
 * §2.13): one walk serves mprotect, UFFDIO_WRITEPROTECT and uffd un-protect.
 */
import { Path, Why } from './cause.js';
import type { Leaf } from './leaf.js';
import type { Mm } from './mm.js';
import { flushTlbRange, pteAlloc, setPmd, setPteRun } from './pgtable.js';
import { pteNeedsSoftDirtyWp, userfaultfdPteWp, userfaultfdWpUseMarkers, vmPageProtWritable, vmaWantsManualPteWriteUpgrade } from './predicates.js';
import type { Prot } from '../trace/types.js';
import { hex } from './hex.js';
import { mergeAfterFlagChange, protFlags, protText } from './mmap.js';
import {
  D,
  EXCL,
  KIND_MASK,
  MARKER,
  NONE,
  PAGE_MASK,
  PG_ANON,
  PRESENT,
  PROTNONE,
  SWAP,
  UFFD_WP_MARKER,
  UW,
  W,
  pteMkUffdWp,
  isPresent,
  isNone,
} from './pte.js';
import { isHugeEntry, splitHugePmd } from './thp.js';
import { PAGE_SIZE, PTRS_PER_PTE } from './uapi.js';
import {
  VM_ACCESS,
  VM_ACCOUNT,
  VM_EXEC,
  VM_HUGETLB,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_NORESERVE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  type Vma,
} from './vma.js';

export const MM_CP_TRY_CHANGE_WRITABLE = 1;
export const MM_CP_UFFD_WP = 4;
export const MM_CP_UFFD_WP_RESOLVE = 8;

export interface ChangeProtectionResult {
  /** Entries visited. */
  walked: number;
  /** Entries changed. */
  changed: number;
}

/**
 * pte_modify(old, vma->vm_page_prot) for a present entry: the VMA's default protection replaces W and
 * PROTNONE; D, A, SD and UW are kept (_PAGE_CHG_MASK).
 */
function pteModify(mm: Mm, vma: Vma, e: number): number {
  let n = e & ~(W | PROTNONE);
  if ((vma.flags & VM_ACCESS) === 0) n |= PROTNONE;
  else if (vmPageProtWritable(mm, vma)) n |= W;
  return n;
}

/** The per-entry transform of change_pte_range for one present/none/marker/swap entry. */
function changeEntry(mm: Mm, vma: Vma, e: number, cp: number): number {
  const kind = e & KIND_MASK;
  if (kind === PRESENT) {
    let n = pteModify(mm, vma, e);
    if (cp & MM_CP_UFFD_WP) n = mm.sys.profile.mkuffdWpClearsWrite ? pteMkUffdWp(n) : (n | UW) & ~W;
    else if (cp & MM_CP_UFFD_WP_RESOLVE) n &= ~UW;
    if (cp & MM_CP_TRY_CHANGE_WRITABLE && (n & (W | PROTNONE)) === 0 && canChangePteWritable(mm, vma, n, !mm.sys.profile.privateUpgradeWithoutDirty))
      n |= W;
    return n;
  }
  if (kind === NONE) return cp & MM_CP_UFFD_WP && userfaultfdWpUseMarkers(vma) ? UFFD_WP_MARKER : e;
  if (kind === MARKER) return cp & MM_CP_UFFD_WP_RESOLVE && e & UW ? NONE : e;
  if (kind === SWAP) {
    if (cp & MM_CP_UFFD_WP) return e | UW;
    if (cp & MM_CP_UFFD_WP_RESOLVE) return e & ~UW;
  }
  return e;
}

/**
 * change_protection(vma, [start, end), cp_flags): returns entries walked and changed. `why` labels
 * the uffd-wp state change (ARMED for a write-protect, WRITE for a monitor's resolve, ...).
 */
export function changeProtection(mm: Mm, vma: Vma, start: number, end: number, cp: number, path: number, why: number): ChangeProtectionResult {
  const res: ChangeProtectionResult = { walked: 0, changed: 0 };
  let flushPages = 0;
  const uffdWp = (cp & MM_CP_UFFD_WP) !== 0;
  const markers = uffdWp && userfaultfdWpUseMarkers(vma);
  // Without markers a slot with no leaf has nothing to change: visit only the leaves there are (the
  // kernel's walk skips empty tables), so that a large sparse range costs what is populated.
  const first = Math.floor(start / PTRS_PER_PTE);
  const existing = markers ? null : mm.leavesIn(start, end);
  const slots = existing === null ? Math.ceil(end / PTRS_PER_PTE) - first : existing.length;
  for (let k = 0; k < slots; k++) {
    const slot = existing === null ? first + k : existing[k]!.index;
    const lo = Math.max(start, slot * PTRS_PER_PTE);
    const hi = Math.min(end, (slot + 1) * PTRS_PER_PTE);
    let leaf = existing === null ? mm.leafAt(slot) : existing[k];
    if (vma.isHugetlb) {
      // hugetlb_change_protection: one entry per huge page, none → marker when armed with markers.
      if (lo !== slot * PTRS_PER_PTE || hi !== (slot + 1) * PTRS_PER_PTE) continue;
      leaf ??= markers ? mm.ensureLeaf(slot) : undefined;
      if (leaf === undefined) continue;
      flushPages += changePmdEntry(mm, vma, leaf, cp, path, why, res);
      continue;
    }
    if (leaf === undefined || leaf.pmd === 0) {
      if (!markers) {
        // Not protected: anon none/holes without WP_UNPOPULATED (D10).
        if (uffdWp && leaf !== undefined) leaf.uwWhy.fill(Why.UNPOPULATED, lo - leaf.base, hi - leaf.base);
        continue;
      }
      // pgtable_populate_needed → change_pmd_prepare: a PTE table so that every entry gets a marker.
      leaf ??= mm.ensureLeaf(slot);
      pteAlloc(mm, leaf, Path.PTE_ALLOC);
    }
    if (isHugeEntry(leaf.pmd)) {
      if (lo === leaf.base && hi === leaf.base + PTRS_PER_PTE && vma.isAnon && (vma.flags & VM_HUGETLB) === 0) {
        // change_huge_pmd: the THP stays PMD-mapped.
        flushPages += changePmdEntry(mm, vma, leaf, cp, path, why, res);
        continue;
      }
      splitHugePmd(mm, leaf);
    }
    res.walked += hi - lo;
    flushPages += changePteRange(mm, vma, leaf, lo - leaf.base, hi - leaf.base, cp, path, why, res);
  }
  if (flushPages > 0) flushTlbRange(mm, flushPages);
  return res;
}

/** One PMD-level entry (change_huge_pmd, or a hugetlb entry); returns the pages to flush. */
function changePmdEntry(mm: Mm, vma: Vma, leaf: Leaf, cp: number, path: number, why: number, res: ChangeProtectionResult): number {
  res.walked++;
  const n = changeEntry(mm, vma, leaf.pmd, cp);
  if (n === leaf.pmd) return 0;
  const flush = leaf.pmd & W && !(n & W) ? PTRS_PER_PTE : 0;
  setPmd(mm, leaf, n, path, why);
  res.changed++;
  return flush;
}

function changePteRange(
  mm: Mm,
  vma: Vma,
  leaf: Leaf,
  from: number,
  to: number,
  cp: number,
  path: number,
  why: number,
  res: ChangeProtectionResult,
): number {
  let flush = 0;
  const uffdWp = (cp & MM_CP_UFFD_WP) !== 0;
  // Run by run of identical entries: changeEntry depends only on the entry (vma and cp are fixed
  // here) and a page's change touches no other entry, so a run changes as one run of changes (the
  // same rows, counts and reasons as a setPte per page), and a table with nothing to change costs a
  // step per run, not per page.
  const pte = leaf.pte;
  for (let i = from; i < to; ) {
    const e = pte[i]!;
    let j = i + 1;
    while (j < to && pte[j] === e) j++;
    const n = changeEntry(mm, vma, e, cp);
    if (n === e) {
      if (uffdWp && isNone(e)) leaf.uwWhy.fill(Why.UNPOPULATED, i, j);
    } else {
      if (isPresent(e) && e & W && !(n & W)) flush += j - i;
      setPteRun(mm, leaf, i, j, n, path, why);
      res.changed += j - i;
    }
    i = j;
  }
  return flush;
}

/**
 * mm/mprotect.c:can_change_pte_writable — may an upgrade (mprotect, un-WP) set W without a fault?
 * Never when soft-dirty or uffd-wp still needs to see the next write.
 */
export function canChangePteWritable(mm: Mm, vma: Vma, pte: number, needDirtyPrivate = false): boolean {
  if ((vma.flags & VM_WRITE) === 0) return false;
  if (pteNeedsSoftDirtyWp(mm, vma, pte)) return false;
  if (userfaultfdPteWp(vma, pte)) return false;
  if ((vma.flags & VM_SHARED) === 0) {
    // Private: only exclusive anon pages (PageAnonExclusive); before v6.2 also hardware-dirty ones.
    return (pte & PAGE_MASK) === PG_ANON && (pte & EXCL) !== 0 && (!needDirtyPrivate || (pte & D) !== 0);
  }
  // Shared: only if the PTE is already dirty (the filesystem already knows).
  return (pte & D) !== 0;
}

/**
 * mprotect(2) → do_mprotect_pkey: ENOMEM unless a VMA contains the start; then VMA by VMA, in
 * address order: a gap before the VMA stops with ENOMEM, a permission the VMA may not have
 * (VM_MAY*) with EACCES — the VMAs before it keep their new protection. mprotect_fixup leaves a VMA
 * whose flags do not change alone (no split, no change_protection); otherwise it splits at the
 * edges, changes the flags, merges with the neighbours (vma_modify_flags: before v6.19 the merged
 * VMA takes the mprotected VMA's VM_SOFTDIRTY; since v6.19 it is sticky) and runs
 * change_protection over the piece, with MM_CP_TRY_CHANGE_WRITABLE where the VMA wants manual
 * upgrades. The walk goes on from the end of the (merged) VMA; a range that ends in a gap is ENOMEM.
 */
export function doMprotect(mm: Mm, addr: number, len: number, prot: Prot): number {
  const sys = mm.sys;
  const args = `${hex(addr)}, ${len}, ${protText(prot)}`;
  if (addr % PAGE_SIZE !== 0) return sys.result(mm.pid, 'mprotect', args, -1, 'EINVAL');
  const start = addr / PAGE_SIZE;
  const end = start + Math.ceil(len / PAGE_SIZE);
  if (end === start) return sys.result(mm.pid, 'mprotect', args, 0, null);
  const want = protFlags(prot);
  const first = mm.vmas.intersecting(start, end)[0];
  if (first === undefined || first.start > start) return sys.result(mm.pid, 'mprotect', args, -1, 'ENOMEM');
  let nstart = start;
  let tmp = first.start;
  let error: string | null = null;
  while (nstart < end) {
    const v = mm.vmas.intersecting(nstart, end)[0];
    if (v === undefined) break;
    if (v.start !== tmp) {
      error = 'ENOMEM';
      break;
    }
    // (newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS: each permission needs its VM_MAY* bit.
    if ((want & VM_READ && !(v.flags & VM_MAYREAD)) || (want & VM_WRITE && !(v.flags & VM_MAYWRITE)) || (want & VM_EXEC && !(v.flags & VM_MAYEXEC))) {
      error = 'EACCES';
      break;
    }
    tmp = Math.min(v.end, end);
    let newFlags = (v.flags & ~VM_ACCESS) | want;
    let cur = v;
    if (newFlags !== v.flags) {
      // mprotect_fixup accounting: a private mapping made writable is charged (VM_ACCOUNT); the
      // charge is only dropped again for anonymous memory that never had an anon_vma (v6.7).
      if (newFlags & VM_WRITE) {
        if (!(v.flags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) newFlags |= VM_ACCOUNT;
      } else if (v.flags & VM_ACCOUNT && v.isAnon && v.anonVma === 0 && sys.profile.mprotectUnaccountsUnfaulted) newFlags &= ~VM_ACCOUNT;
      if (mm.vmas.splitRefused(nstart, tmp)) {
        error = 'EINVAL';
        break;
      }
      cur = mm.vmas.isolate(nstart, tmp).find((x) => x.start === nstart)!;
      cur.flags = newFlags;
      cur = mergeAfterFlagChange(mm, cur, newFlags);
      changeProtection(mm, cur, nstart, tmp, vmaWantsManualPteWriteUpgrade(mm, cur) ? MM_CP_TRY_CHANGE_WRITABLE : 0, Path.MPROTECT, Why.ARMED);
    }
    // tmp = vma_iter_end(): the walk resumes after the (merged) VMA.
    tmp = cur.end;
    nstart = tmp;
  }
  if (error === null && tmp < end) error = 'ENOMEM';
  return sys.result(mm.pid, 'mprotect', args, error === null ? 0 : -1, error);
}
