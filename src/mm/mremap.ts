/**
 * mremap(2) (mm/mremap.c, mm/vma.c:copy_vma, fs/userfaultfd.c:mremap_userfaultfd_prep/complete;
 * docs/kernel-rules.md §2.14, D14, D15; source notes Q7). Results are recorded with System.result.
 */
import type { TraceOp } from '../trace/types.js';
import { Path, Why } from './cause.js';
import type { Leaf } from './leaf.js';
import type { Mm } from './mm.js';
import { MMAP_BASE_VPN } from './mm.js';
import { markNewPages, materializeNewContent, unmapRange } from './mmap.js';
import { hex } from './hex.js';
import { NO_WHY, flushTlbRange, pteAlloc, setPmd, setPte } from './pgtable.js';
import { NONE, PMD_TABLE, SD, UW, hasSoftDirty, hasUffdWp, isUffdWpMarker, isPresent, isNone } from './pte.js';
import { isHugeEntry, splitHugePmd } from './thp.js';
import { queueRemapEvent } from './uffd-events.js';
import { MMAP_MIN_ADDR, PAGE_SIZE, PTRS_PER_PTE, TASK_SIZE_PAGES, UFFD_FEATURE_EVENT_REMAP } from './uapi.js';
import {
  VM_LOCKED,
  VM_MAYSHARE,
  VM_PFNMAP,
  VM_SHARED,
  VM_SOFTDIRTY,
  VM_UFFD_ALL,
  Vma,
  anonMergeableInto,
  anonVmasCompatible,
  canMerge,
} from './vma.js';

type MremapOp = Extract<TraceOp, { op: 'mremap' }>;

/**
 * mremap(2) → do_mremap. Validation as check_mremap_params (EINVAL: flags, unaligned addr or
 * new_addr, new_len 0, FIXED/DONTUNMAP without MAYMOVE, DONTUNMAP with a size change, overlapping
 * ranges), then an equal-size FIXED move goes to remap_move (v6.17: it may span several VMAs);
 * everything else looks up the VMA at addr and runs check_prep_vma (see checkPrepVma). Then:
 * FIXED/DONTUNMAP → move; equal sizes → no-op; shrink → unmap the tail (which may cross VMAs);
 * grow → in place when the old range ends its VMA and the pages above are free, else move with
 * MAYMOVE (ENOMEM without). Returns the (new) address or -1.
 */
export function doMremap(mm: Mm, op: MremapOp): number {
  const sys = mm.sys;
  const maymove = op.flags.includes('maymove');
  const fixed = op.flags.includes('fixed');
  const dontunmap = op.flags.includes('dontunmap');
  const args = `${hex(op.addr)}, ${op.oldLen}, ${op.newLen}, ${op.flags.join('|') || '0'}` + (op.newAddr !== undefined ? `, ${hex(op.newAddr)}` : '');
  const fail = (errno: string) => sys.result(mm.pid, 'mremap', args, -1, errno);
  const ok = (vpn: number) => sys.result(mm.pid, 'mremap', args, vpn * PAGE_SIZE, null);

  if (op.addr % PAGE_SIZE !== 0 || op.oldLen < 0 || op.newLen < 0) return fail('EINVAL');
  let oldPages = Math.ceil(op.oldLen / PAGE_SIZE);
  const newPages = Math.ceil(op.newLen / PAGE_SIZE);
  if (newPages === 0 || newPages > TASK_SIZE_PAGES) return fail('EINVAL');
  const start = op.addr / PAGE_SIZE;
  const newAddr = op.newAddr ?? 0;
  const impliesNew = fixed || dontunmap;
  if (impliesNew) {
    if (!maymove) return fail('EINVAL');
    if (dontunmap && oldPages !== newPages) return fail('EINVAL');
    // Before v6.17 do_mremap looks the VMA up before mremap_to checks the new range (EFAULT first).
    if (!sys.profile.mremapMultiVma && mm.vmas.find(start) === null) return fail('EFAULT');
    if (newAddr % PAGE_SIZE !== 0) return fail('EINVAL');
    if (newAddr / PAGE_SIZE > TASK_SIZE_PAGES - newPages) return fail('EINVAL');
    const ns = newAddr / PAGE_SIZE;
    if (start + oldPages > ns && ns + newPages > start) return fail('EINVAL');
  }

  if (fixed && oldPages === newPages && sys.profile.mremapMultiVma) {
    return remapMove(mm, start, oldPages, newAddr / PAGE_SIZE, dontunmap, fail, ok);
  }
  let vma = mm.vmas.find(start);
  // Before v6.17 mremap_to unmaps the destination and shrinks the source before vma_to_resize checks
  // the source range (do_mremap only looked the VMA up): a move that fails EFAULT there has already
  // unmapped its destination (kreplay-checked on 6.12.118). Since v6.17 check_prep_vma comes first.
  const lateCheck = impliesNew && !sys.profile.mremapMultiVma;
  if (lateCheck && vma === null) return fail('EFAULT');
  const err = lateCheck ? null : checkPrepVma(vma, start, oldPages, newPages, impliesNew, dontunmap, newAddr / PAGE_SIZE);
  if (err !== null) return fail(err);
  if (vma === null) return fail('EFAULT');

  if (impliesNew) {
    // mremap_to: unmap the destination (FIXED), shrink the source first, then move.
    let dest: number;
    if (fixed) {
      dest = newAddr / PAGE_SIZE;
      if (mm.vmas.splitRefused(dest, dest + newPages)) return fail('EINVAL');
      unmapRange(mm, dest, dest + newPages);
    }
    // The REMAP event's len: the syscall's old_len, or (v6.16) what is left of it after the shrink.
    const remapPages = sys.profile.remapEventLenMoved ? Math.min(oldPages, newPages) : oldPages;
    if (oldPages > newPages) {
      unmapRange(mm, start + newPages, start + oldPages);
      oldPages = newPages;
    }
    vma = mm.vmas.find(start);
    if (lateCheck) {
      const late = checkPrepVma(vma, start, oldPages, newPages, impliesNew, dontunmap, newAddr / PAGE_SIZE);
      if (late !== null) return fail(late);
    }
    if (vma === null) return fail('EFAULT');
    if (fixed) dest = newAddr / PAGE_SIZE;
    else {
      const d = pickDest(mm, newPages, op.result ?? newAddr);
      if (d === null) return fail('ENOMEM');
      dest = d;
    }
    moveVma(mm, vma, start, oldPages, dest, newPages, dontunmap, remapPages);
    return ok(dest);
  }
  if (oldPages === newPages) return ok(start);
  if (oldPages > newPages) {
    unmapRange(mm, start + newPages, start + oldPages);
    return ok(start);
  }
  // Grow. A recorded result elsewhere means the real kernel could not grow in place: move there.
  const recordedMove = op.result !== undefined && op.result !== op.addr;
  if (!recordedMove && start + oldPages === vma.end && vmaExpandable(mm, vma, start + newPages)) {
    expandInPlace(mm, vma, start + newPages);
    return ok(start);
  }
  if (!maymove) return fail('ENOMEM');
  const dest = pickDest(mm, newPages, op.result);
  if (dest === null) return fail('ENOMEM');
  moveVma(mm, vma, start, oldPages, dest, newPages, false, oldPages);
  return ok(dest);
}

/**
 * check_prep_vma for [start, start+oldPages) → newPages: an errno name or null. Only an operation
 * that maps new address space (growth, or a move: FIXED/DONTUNMAP — vrm_will_map_new) checks the
 * range against the VMA; a no-op or an in-place shrink needs only a VMA at `start` (the shrink's
 * munmap may cross into the next VMAs). A shrinking move checks only the part that moves.
 */
function checkPrepVma(
  vma: Vma | null,
  start: number,
  oldPages: number,
  newPages: number,
  impliesNew: boolean,
  dontunmap: boolean,
  newAddrPages: number,
): string | null {
  if (vma === null) return 'EFAULT';
  if (vma.isHugetlb) {
    // align_hugetlb: huge-page aligned addresses and lengths, no growth.
    if (start % PTRS_PER_PTE || oldPages % PTRS_PER_PTE || newPages % PTRS_PER_PTE || (impliesNew && newAddrPages % PTRS_PER_PTE)) return 'EINVAL';
    if (newPages > oldPages) return 'EINVAL';
  }
  if (!impliesNew && newPages <= oldPages) return null;
  if (oldPages === 0 && (vma.flags & (VM_SHARED | VM_MAYSHARE)) === 0) return 'EINVAL';
  if (dontunmap && vma.flags & VM_PFNMAP) return 'EINVAL';
  if (Math.min(oldPages, newPages) > vma.end - start) return 'EFAULT';
  if (newPages !== oldPages && vma.flags & VM_PFNMAP) return 'EFAULT';
  return null;
}

/**
 * remap_move (v6.17): an equal-size MREMAP_FIXED move of every VMA in [start, start+pages), each
 * piece moved by mremap_to to the destination with the gaps between source VMAs kept. The range
 * must start inside a VMA (EFAULT); a uffd-armed VMA (userfaultfd_armed) may only be moved alone —
 * met after another piece moved, or when the range goes on past it, the call fails with EFAULT
 * (pieces already moved stay moved). Gaps, also at the end of the range, are skipped. Returns the
 * first piece's destination.
 */
function remapMove(
  mm: Mm,
  start: number,
  pages: number,
  dest: number,
  dontunmap: boolean,
  fail: (errno: string) => number,
  ok: (vpn: number) => number,
): number {
  const end = start + pages;
  let seen = false;
  let lastEnd = 0;
  let target = dest;
  let first = dest;
  for (let cursor = start; cursor < end; ) {
    const v = mm.vmas.intersecting(cursor, end)[0];
    if (v === undefined) break;
    if (!seen && start < v.start) return fail('EFAULT');
    const offset = seen ? v.start - lastEnd : 0;
    lastEnd = v.end;
    const addr = Math.max(v.start, start);
    const len = Math.min(end, v.end) - addr;
    const to = target + offset;
    if ((v.flags & VM_UFFD_ALL) !== 0 && (seen || v.end < end)) return fail('EFAULT');
    const err = checkPrepVma(v, addr, len, len, true, dontunmap, to);
    if (err !== null) return fail(err);
    // mremap_to: unmap the destination piece (do_munmap: a hugetlb VMA splits only on huge-page
    // boundaries), then move_vma.
    if (mm.vmas.splitRefused(to, to + len)) return fail('EINVAL');
    unmapRange(mm, to, to + len);
    moveVma(mm, mm.vmas.find(addr)!, addr, len, to, len, dontunmap, len);
    if (!seen) first = to;
    seen = true;
    target = to + len;
    cursor = addr + len;
  }
  if (!seen) return fail('EFAULT');
  return ok(first);
}

/** vma_expandable: the pages above the VMA up to `newEnd` are free and inside the user address space. */
function vmaExpandable(mm: Mm, vma: Vma, newEnd: number): boolean {
  return newEnd <= TASK_SIZE_PAGES && mm.vmas.intersecting(vma.end, newEnd).length === 0;
}

/**
 * Growth in place (vma_merge_extend → vma_expand): the VMA's end moves up, possibly merging with the
 * next VMA. No page tables change and VM_SOFTDIRTY is not set (that is __mmap_complete's rule, not
 * mremap's). The new pages were not mapped before: GT_c (REMAPPED).
 */
function expandInPlace(mm: Mm, vma: Vma, newEnd: number): void {
  const oldEnd = vma.end;
  if (!vma.newContent) markNewPages(mm, oldEnd, newEnd);
  // vma_expand adds empty address space: no reset armed it (no uffd-wp marker; 6.18's PAGEMAP_SCAN
  // reads its none entries in an async VMA as written).
  for (let slot = Math.floor(oldEnd / PTRS_PER_PTE); slot * PTRS_PER_PTE < newEnd; slot++) {
    const leaf = mm.ensureLeaf(slot);
    for (let i = Math.max(oldEnd, leaf.base) - leaf.base, hi = Math.min(newEnd, leaf.base + PTRS_PER_PTE) - leaf.base; i < hi; i++) {
      leaf.sdWhy[i] = Why.MREMAP_GROW;
      leaf.uwWhy[i] = Why.MREMAP_GROW;
    }
  }
  vma.end = newEnd;
  const next = mm.vmas.startingAt(newEnd);
  if (next !== null && canMerge(vma, next) && anonMergeableInto(mm.sys.profile.mergeFaultedIntoUnfaulted, vma.anonVma, next)) {
    materializeNewContent(mm, vma);
    materializeNewContent(mm, next);
    mm.vmas.absorb(vma, next, mergedFlags(mm, vma, next));
  }
}

/**
 * Flags of a merge that keeps `survivor`: its own, plus VM_SOFTDIRTY of the other since v6.19 (sticky);
 * a survivor that gains VM_SOFTDIRTY that way reads soft-dirty because of the merge.
 */
function mergedFlags(mm: Mm, survivor: Vma, other: Vma): number {
  if (!mm.sys.profile.stickySoftDirtyMerge) return survivor.flags;
  if (!(survivor.flags & VM_SOFTDIRTY) && other.flags & VM_SOFTDIRTY) survivor.sdWhy = Why.VMA_MERGE;
  return survivor.flags | (other.flags & VM_SOFTDIRTY);
}

/** get_unmapped_area for the destination: the hint if the range is free, else the top-down gap. */
function pickDest(mm: Mm, pages: number, hint: number | undefined): number | null {
  if (hint !== undefined && hint > 0 && hint % PAGE_SIZE === 0) {
    const h = hint / PAGE_SIZE;
    if (h >= MMAP_MIN_ADDR / PAGE_SIZE && h + pages <= TASK_SIZE_PAGES && mm.vmas.intersecting(h, h + pages).length === 0) return h;
  }
  return mm.vmas.findGapTopDown(pages, MMAP_BASE_VPN, MMAP_MIN_ADDR / PAGE_SIZE);
}

/**
 * mm/vma.c:copy_vma: the destination VMA, merged into a compatible neighbour when possible
 * (vma_merge_new_range). The merged VMA keeps the neighbour's flags, VM_SOFTDIRTY included (before
 * v6.19; sticky since). An anon VMA without anon_vma gets pgoff = the new address. The 6.12
 * profile limits it (mremapCopyMergesFreely off): after MREMAP_DONTUNMAP it does not merge into `src`
 * itself, and the copy of a VMA registered without EVENT_REMAP merges with nothing.
 */
function copyVma(mm: Mm, src: Vma, oldStart: number, dest: number, pages: number, dontunmap: boolean): Vma {
  let pgoff = src.pgoffOf(oldStart);
  if (src.isAnon && src.anonVma === 0) pgoff = dest;
  const cand = new Vma(mm.pid, dest, dest + pages, src.flags, src.obj, pgoff);
  cand.anonVma = src.anonVma;
  cand.uffd = src.uffd;
  cand.sdWhy = src.sdWhy;
  cand.uffdWhy = src.uffdWhy;
  cand.newContent = false;
  const prev = mm.vmas.endingAt(dest);
  const next = mm.vmas.startingAt(dest + pages);
  // copy_vma → vma_merge_new_range with vmg->anon_vma = the moved VMA's.
  // 6.12 (mremapCopyMergesFreely off): after DONTUNMAP no merge into the source; the copy of a VMA
  // registered without EVENT_REMAP merges with nothing.
  const limited = !mm.sys.profile.mremapCopyMergesFreely;
  const unmergeable = limited && src.uffd !== null && (src.uffd.features & UFFD_FEATURE_EVENT_REMAP) === 0;
  const into = (tgt: Vma) =>
    !unmergeable && anonMergeableInto(mm.sys.profile.mergeFaultedIntoUnfaulted, cand.anonVma, tgt) && !(limited && dontunmap && tgt === src);
  const mergePrev = prev !== null && canMerge(prev, cand) && into(prev);
  const mergeNext = next !== null && canMerge(cand, next) && into(next) && (!mergePrev || anonVmasCompatible(prev!, next!));
  if (!mergePrev && !mergeNext) {
    mm.vmas.insert(cand);
    cand.obj?.mappings.add(cand);
    return cand;
  }
  if (mergePrev) {
    materializeNewContent(mm, prev!);
    prev!.end = cand.end;
    prev!.flags = mergedFlags(mm, prev!, cand);
    if (prev!.anonVma === 0) prev!.anonVma = cand.anonVma;
    if (mergeNext) {
      materializeNewContent(mm, next!);
      mm.vmas.absorb(prev!, next!, mergedFlags(mm, prev!, next!));
    }
    return prev!;
  }
  materializeNewContent(mm, next!);
  next!.start = cand.start;
  next!.pgoff = cand.pgoff;
  next!.flags = mergedFlags(mm, next!, cand);
  if (next!.anonVma === 0) next!.anonVma = cand.anonVma;
  return next!;
}

/**
 * move_vma: copy_vma, move_page_tables, mremap_userfaultfd_prep on the new VMA, then unmap the old
 * range (or, with DONTUNMAP, leave the old VMA mapped but empty) and queue UFFD_EVENT_REMAP
 * (mremap_userfaultfd_complete, before the old range's UNMAP events) with len `remapPages`.
 */
function moveVma(mm: Mm, src: Vma, start: number, oldPages: number, dest: number, newPages: number, dontunmap: boolean, remapPages: number): void {
  const sys = mm.sys;
  const ctx = src.uffd;
  // vma_has_uffd_without_event_remap(vma) of the source: decided before the new VMA is reset.
  const withoutRemap = ctx !== null && (ctx.features & UFFD_FEATURE_EVENT_REMAP) === 0;
  const clearUw = withoutRemap && sys.profile.mremapClearsUffdWp;
  const hugetlb = src.isHugetlb;
  const srcShared = (src.flags & VM_SHARED) !== 0;
  const newVma = copyVma(mm, src, start, dest, newPages, dontunmap);
  // try_realign_addr (v6.7, "optimize the start addresses in move_page_tables"): when both ranges
  // start their VMAs at the same offset inside a PMD, reach the next PMD boundary, and nothing is
  // mapped below them inside that PMD, the walk starts at the PMD boundary below so that the first
  // table can be moved whole.
  let from = start;
  let to = dest;
  const off = start % PTRS_PER_PTE;
  if (
    mm.sys.profile.mremapRealignPmd &&
    !hugetlb &&
    off !== 0 &&
    off === dest % PTRS_PER_PTE &&
    oldPages >= PTRS_PER_PTE - off &&
    src.start === start &&
    newVma.start === dest &&
    mm.vmas.intersecting(start - off, start).length === 0 &&
    mm.vmas.intersecting(dest - off, dest).length === 0
  ) {
    from = start - off;
    to = dest - off;
  }
  movePageTables(mm, from, to, oldPages + (start - from), clearUw, !clearUw, hugetlb);
  // The destination shows contents that were not there at the last reset.
  markNewPages(mm, dest, dest + newPages, true);
  // mremap_userfaultfd_prep: without EVENT_REMAP the new VMA is unregistered (userfaultfd_reset_ctx).
  if (newVma.uffd !== null && (newVma.uffd.features & UFFD_FEATURE_EVENT_REMAP) === 0) {
    newVma.uffd = null;
    newVma.flags &= ~VM_UFFD_ALL;
    newVma.uffdWhy = Why.REGISTRATION_LOST;
  }
  if (ctx !== null && !withoutRemap) queueRemapEvent(mm, ctx, start, dest, remapPages);
  if (dontunmap) {
    // The old VMA stays (VM_LOCKED cleared; VM_ACCOUNT kept — kreplay-checked: it still merges with a new
    // private writable mapping); its pages moved away: private memory now reads zeros.
    for (const v of mm.vmas.intersecting(start, start + oldPages)) {
      v.flags &= ~VM_LOCKED;
      if (v !== newVma && v.start === start && v.end === start + oldPages) {
        v.anonVma = 0; // unlink_anon_vmas
        v.anonVmaChained = false;
      }
    }
    if (!srcShared) markNewPages(mm, start, start + oldPages);
    return;
  }
  unmapRange(mm, start, start + oldPages);
}

/**
 * move_page_tables: per extent (up to the next PMD boundary of either address), a hole is skipped; a
 * huge PMD is moved whole when the extent is a full 2 MiB and the destination slot is empty
 * (move_huge_pmd: SD set), else split; a PTE table is moved whole under the same conditions
 * (move_normal_pmd: no SD change) unless the source VMA has a uffd context without EVENT_REMAP on a
 * kernel that clears UW on mremap; otherwise move_ptes moves entry by entry.
 */
function movePageTables(mm: Mm, oldStart: number, newStart: number, pages: number, clearUw: boolean, tableMoves: boolean, hugetlb: boolean): void {
  const end = oldStart + pages;
  let old = oldStart;
  let nw = newStart;
  while (old < end) {
    const extent = Math.min(PTRS_PER_PTE - (old % PTRS_PER_PTE), PTRS_PER_PTE - (nw % PTRS_PER_PTE), end - old);
    const src = mm.leafOf(old);
    if (src !== undefined && src.pmd !== 0) {
      const dst = mm.ensureLeaf(Math.floor(nw / PTRS_PER_PTE));
      let done = false;
      if (isHugeEntry(src.pmd)) {
        if (extent === PTRS_PER_PTE && dst.pmd === 0) {
          moveHugePmd(mm, src, dst, clearUw, hugetlb);
          done = true;
        } else splitHugePmd(mm, src);
      } else if (tableMoves && extent === PTRS_PER_PTE && dst.pmd === 0) {
        moveNormalPmd(mm, src, dst);
        done = true;
      }
      if (!done && src.pmd === PMD_TABLE) {
        if (dst.pmd === 0) pteAlloc(mm, dst, Path.MOVE_PTES);
        movePtes(mm, src, old - src.base, dst, nw - dst.base, extent, clearUw);
      }
    }
    old += extent;
    nw += extent;
  }
}

/**
 * move_ptes: each non-none entry is taken from the old slot and, after move_soft_dirty_pte (SD on a
 * present entry, swap-SD on any swap-format entry, markers included), installed at the new slot. With
 * `clearUw` (v6.13+, no EVENT_REMAP): a uffd-wp marker is dropped and UW is cleared on present and
 * swap entries. One flush of the old range when a present entry moved.
 */
function movePtes(mm: Mm, src: Leaf, a: number, dst: Leaf, b: number, n: number, clearUw: boolean): void {
  let present = false;
  for (let k = 0; k < n; k++) {
    const i = a + k;
    const j = b + k;
    const e = src.pte[i]!;
    if (isNone(e)) continue;
    const pfn = src.pfn[i]!;
    const uwWhy = src.uwWhy[i]!;
    if (isPresent(e)) present = true;
    src.pfn[i] = 0;
    setPte(mm, src, i, NONE, Path.MOVE_PTES, NO_WHY);
    movedAway(src, i);
    if (clearUw && isUffdWpMarker(e)) {
      dst.uwWhy[j] = Why.MREMAP_MOVE;
      continue;
    }
    let next = e | SD;
    if (clearUw) next &= ~UW;
    dst.pfn[j] = pfn;
    setPte(mm, dst, j, next, Path.MOVE_PTES, NO_WHY);
    // Whatever the page read before, at its new address it reads dirty because it moved: the
    // truth there starts over (GT_w 0, GT_c remapped).
    dst.sdWhy[j] = Why.MREMAP_MOVE;
    dst.uwWhy[j] = hasUffdWp(next) ? uwWhy : Why.MREMAP_MOVE;
  }
  if (present) flushTlbRange(mm, n);
}

/**
 * The entry of page i left `src` with the move: what a tracker reads there now (nothing, or with
 * MREMAP_DONTUNMAP an empty page of a VMA that stays) differs from before because of the move.
 */
function movedAway(src: Leaf, i: number): void {
  src.sdWhy[i] = Why.MREMAP_MOVE;
  src.uwWhy[i] = Why.MREMAP_MOVE;
}

/**
 * move_normal_pmd: the whole PTE table changes slots; no entry is rewritten (SD unchanged). The two
 * PMD writes are the kernel's; the per-PTE rows (not counted as writes) keep the event stream
 * replayable.
 */
function moveNormalPmd(mm: Mm, src: Leaf, dst: Leaf): void {
  const sink = mm.sys.sink;
  for (let i = 0; i < PTRS_PER_PTE; i++) if (src.pte[i] !== 0) sink.change(mm.pid, src.base + i, 0, src.pte[i]!, 0, Path.MOVE_PMD);
  dst.pte.set(src.pte);
  dst.pfn.set(src.pfn);
  // Entries that read dirty at the new address do so because they moved (see movePtes).
  for (let i = 0; i < PTRS_PER_PTE; i++) {
    const e = src.pte[i]!;
    dst.sdWhy[i] = hasSoftDirty(e) ? Why.MREMAP_MOVE : src.sdWhy[i]!;
    dst.uwWhy[i] = !isNone(e) && !hasUffdWp(e) ? Why.MREMAP_MOVE : src.uwWhy[i]!;
    if (!isNone(e)) movedAway(src, i);
  }
  src.pte.fill(0);
  src.pfn.fill(0);
  setPmd(mm, src, 0, Path.MOVE_PMD, NO_WHY);
  setPmd(mm, dst, PMD_TABLE, Path.MOVE_PMD, NO_WHY);
  for (let i = 0; i < PTRS_PER_PTE; i++) if (dst.pte[i] !== 0) sink.change(mm.pid, dst.base + i, 0, 0, dst.pte[i]!, Path.MOVE_PMD);
  flushTlbRange(mm, PTRS_PER_PTE);
}

/**
 * move_huge_pmd (THP or huge zero PMD): move_soft_dirty_pmd sets SD, and with `clearUw`
 * clear_uffd_wp_pmd. hugetlb entries (move_huge_pte) move without an SD change.
 */
function moveHugePmd(mm: Mm, src: Leaf, dst: Leaf, clearUw: boolean, hugetlb: boolean): void {
  const e = src.pmd;
  const present = isPresent(e);
  let next = hugetlb ? e : e | SD;
  if (clearUw) next &= ~UW;
  const sdWhy = src.sdWhy.slice();
  const uwWhy = src.uwWhy.slice();
  dst.pmdPfn = src.pmdPfn;
  src.pmdPfn = 0;
  setPmd(mm, src, 0, Path.MOVE_PMD, NO_WHY);
  for (let i = 0; i < PTRS_PER_PTE; i++) movedAway(src, i);
  if (clearUw && isUffdWpMarker(e)) {
    dst.uwWhy.fill(Why.MREMAP_MOVE);
    return;
  }
  setPmd(mm, dst, next, Path.MOVE_PMD, NO_WHY);
  if (hasSoftDirty(next)) dst.sdWhy.fill(Why.MREMAP_MOVE);
  else dst.sdWhy.set(sdWhy);
  if (!hasUffdWp(next)) dst.uwWhy.fill(Why.MREMAP_MOVE);
  else dst.uwWhy.set(uwWhy);
  if (present) flushTlbRange(mm, PTRS_PER_PTE);
}
