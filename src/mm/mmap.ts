/**
 * mmap, munmap, brk and mprotect (mm/mmap.c, mm/vma.c, mm/mprotect.c; docs/kernel-rules.md §2.12,
 * §2.13, §2.19). Results and errno values are recorded with System.result, never thrown.
 */
import { hex } from './hex.js';
import { mmPopulate } from './gup.js';
import type { Backing, MmapFlag, Prot, TraceOp } from '../trace/types.js';
import { Why } from './cause.js';
import { GT_C } from './leaf.js';
import type { Mm } from './mm.js';
import { MMAP_BASE_VPN } from './mm.js';
import { Path } from './cause.js';
import { queueUnmapEvent, noteLostRegistration, lostRegistrationWhy } from './uffd-events.js';
import { HPAGE_PMD_NR, MMAP_MIN_ADDR, PAGE_SIZE, PTRS_PER_PTE, TASK_SIZE, TASK_SIZE_PAGES } from './uapi.js';
import {
  VM_ACCOUNT,
  VM_EXEC,
  VM_HUGETLB,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NORESERVE,
  VM_READ,
  VM_SHARED,
  VM_SOFTDIRTY,
  VM_WRITE,
  Vma,
  anonMergeableInto,
  anonVmasCompatible,
  canMerge,
} from './vma.js';
import { ZAP_UNMAP, zapRange } from './zap.js';
import { CTR } from './counters.js';

const pageAligned = (a: number): boolean => a % PAGE_SIZE === 0;
const pagesOf = (len: number): number => Math.ceil(len / PAGE_SIZE);

export function protFlags(p: Prot): number {
  return (p.read ? VM_READ : 0) | (p.write ? VM_WRITE : 0) | (p.exec ? VM_EXEC : 0);
}

export function protText(p: Prot): string {
  return (p.read ? 'r' : '-') + (p.write ? 'w' : '-') + (p.exec ? 'x' : '-');
}

/**
 * Give every page of `vma` its own GT_c bit and clear the VMA-wide newContent flag, so that the VMA
 * can merge with one whose contents are not new.
 */
export function materializeNewContent(mm: Mm, vma: Vma): void {
  if (!vma.newContent) return;
  vma.newContent = false;
  markNewPages(mm, vma.start, vma.end);
}

/**
 * GT_c (cause REMAPPED) on [start, end): the contents there are not what they were at the last
 * reset. With `restart` the truth there starts over: GT_w is cleared too. Slots without a leaf keep
 * the mark in mm.newWithoutLeaf: the cost is the leaves in the range, not its size.
 */
export function markNewPages(mm: Mm, start: number, end: number, restart = false): void {
  let p = start;
  for (const leaf of mm.leavesIn(start, end)) {
    if (p < leaf.base) mm.newWithoutLeaf.add(p, leaf.base);
    const lo = Math.max(start, leaf.base) - leaf.base;
    const hi = Math.min(end, leaf.base + PTRS_PER_PTE) - leaf.base;
    const gt = leaf.gt;
    if (restart) gt.fill(GT_C, lo, hi);
    else for (let i = lo; i < hi; i++) gt[i]! |= GT_C;
    leaf.cWhy.fill(Why.REMAPPED, lo, hi);
    p = leaf.base + hi;
  }
  if (p < end) mm.newWithoutLeaf.add(p, end);
}

/**
 * vma_merge_new_range for a new mapping [start, end) with `cand`'s attributes: expand prev and/or
 * next, or insert cand. __mmap_complete then sets VM_SOFTDIRTY on the resulting VMA — a merged
 * neighbour reads soft-dirty in full (D3).
 */
export function insertMerging(mm: Mm, cand: Vma, why: number): Vma {
  const prev = mm.vmas.endingAt(cand.start);
  const next = mm.vmas.startingAt(cand.end);
  let mergePrev: boolean;
  let mergeNext: boolean;
  if (mm.sys.profile.mmapMergesNextFirst && why !== Why.BRK) {
    // mmap_region before v6.12: next is checked first, then prev against the anon_vma of the VMA
    // chosen so far (next's): an unfaulted prev does not join a faulted next (is_mergeable_anon_vma
    // with prev's empty anon_vma_chain).
    mergeNext = next !== null && canMerge(cand, next);
    mergePrev =
      prev !== null && canMerge(prev, cand) && (!mergeNext || (anonMergeableInto(false, next!.anonVma, prev) && anonVmasCompatible(prev, next!)));
  } else {
    mergePrev = prev !== null && canMerge(prev, cand);
    mergeNext = next !== null && canMerge(cand, next) && (!mergePrev || anonVmasCompatible(prev!, next!));
  }
  if (!mergePrev && !mergeNext) {
    mm.vmas.insert(cand);
    cand.obj?.mappings.add(cand);
    cand.flags |= VM_SOFTDIRTY;
    cand.sdWhy = why === Why.BRK ? Why.BRK : Why.NEW_VMA;
    return cand;
  }
  // The new pages are new content; the neighbours' are not.
  markNewPages(mm, cand.start, cand.end);
  let v: Vma;
  if (mergePrev) {
    materializeNewContent(mm, prev!);
    prev!.end = cand.end;
    if (prev!.anonVma === 0) prev!.anonVma = cand.anonVma;
    v = prev!;
    if (mergeNext) {
      materializeNewContent(mm, next!);
      mm.vmas.absorb(v, next!, v.flags);
    }
  } else {
    materializeNewContent(mm, next!);
    next!.start = cand.start;
    next!.pgoff = cand.pgoff;
    v = next!;
  }
  v.flags |= VM_SOFTDIRTY;
  v.sdWhy = why === Why.BRK ? Why.BRK : Why.VMA_MERGE;
  return v;
}

function backingObject(mm: Mm, backing: Backing, shared: boolean, pages: number) {
  if (backing.kind === 'anon') return shared ? mm.sys.anonShmem(pages) : null;
  return mm.sys.object(backing.kind === 'file' ? 'file' : 'shmem', backing.name);
}

/** mm/mmap.c:do_mmap → __mmap_region. Returns the address or -1 (errno recorded). */
export function doMmap(mm: Mm, op: Extract<TraceOp, { op: 'mmap' }>): number {
  const sys = mm.sys;
  const fail = (errno: string) => sys.result(mm.pid, 'mmap', args, -1, errno);
  const has = (f: MmapFlag) => op.flags.includes(f);
  const args = `${hex(op.addr)}, ${op.len}, ${protText(op.prot)}, ${op.flags.join('|')}`;
  const shared = has('shared');
  if (shared === has('private')) return fail('EINVAL');
  if (op.len === 0) return fail('EINVAL');
  if (!pageAligned(op.offset)) return fail('EINVAL');
  const hugetlb = has('hugetlb');
  let pages = pagesOf(op.len);
  if (hugetlb) {
    if (op.len % (HPAGE_PMD_NR * PAGE_SIZE) !== 0 && (has('fixed') || has('fixed_noreplace'))) return fail('EINVAL');
    pages = Math.ceil(pages / HPAGE_PMD_NR) * HPAGE_PMD_NR;
  }
  if (pages > TASK_SIZE_PAGES) return fail('ENOMEM');
  const fixed = has('fixed');
  let start: number;
  if (op.result !== undefined) {
    // The recorded kernel chose this address: place it there (a MAP_FIXED replay).
    if (!pageAligned(op.result)) return fail('EINVAL');
    start = op.result / PAGE_SIZE;
  } else if (fixed || has('fixed_noreplace')) {
    // __get_unmapped_area: beyond TASK_SIZE is ENOMEM (checked first), then an unaligned address
    // EINVAL; security_mmap_addr: below mmap_min_addr EPERM (cap_mmap_addr, without CAP_SYS_RAWIO).
    if (op.addr > TASK_SIZE - pages * PAGE_SIZE) return fail('ENOMEM');
    if (!pageAligned(op.addr)) return fail('EINVAL');
    start = op.addr / PAGE_SIZE;
    if (op.addr < MMAP_MIN_ADDR) return fail('EPERM');
    if (!fixed && mm.vmas.intersecting(start, start + pages).length > 0) return fail('EEXIST');
  } else {
    const hint = Math.floor(op.addr / PAGE_SIZE);
    const align = hugetlb ? HPAGE_PMD_NR : 1;
    if (hint > 0 && hint % align === 0 && hint + pages <= TASK_SIZE_PAGES && mm.vmas.intersecting(hint, hint + pages).length === 0) {
      start = hint;
    } else {
      const gap = mm.vmas.findGapTopDown(pages + align - 1, MMAP_BASE_VPN, MMAP_MIN_ADDR / PAGE_SIZE);
      if (gap === null) return fail('ENOMEM');
      start = Math.floor((gap + align - 1) / align) * align;
    }
  }
  const end = start + pages;
  if (mm.vmas.splitRefused(start, end)) return fail('EINVAL');
  if (mm.vmas.intersecting(start, end).length > 0) unmapRange(mm, start, end);

  let flags = protFlags(op.prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (shared) flags |= VM_SHARED | VM_MAYSHARE;
  if (hugetlb) flags |= VM_HUGETLB;
  if (has('noreserve')) flags |= VM_NORESERVE;
  // __mmap_region: accountable_mapping() — private writable, not MAP_NORESERVE, not hugetlb.
  if (!hugetlb && (flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE) flags |= VM_ACCOUNT;
  const obj = backingObject(mm, op.backing, shared, pages);
  const cand = new Vma(mm.pid, start, end, flags, obj, obj === null ? start : op.offset / PAGE_SIZE);
  cand.uffdWhy = lostRegistrationWhy(mm, start, end);
  const vma = insertMerging(mm, cand, Why.NEW_VMA);
  if (has('populate')) mmPopulate(mm, vma, start, end, (flags & VM_WRITE) !== 0 && !shared);
  return sys.result(mm.pid, 'mmap', args, start * PAGE_SIZE, null);
}

/**
 * do_vmi_munmap: split at the edges, zap (markers dropped), remove the VMAs, free page tables no VMA
 * covers any more, and forget the per-page bookkeeping of the unmapped pages.
 */
export function unmapRange(mm: Mm, start: number, end: number): void {
  const victims = mm.vmas.isolate(start, end);
  for (const v of victims) {
    zapRange(mm, v, v.start, v.end, ZAP_UNMAP);
    queueUnmapEvent(mm, v);
    noteLostRegistration(mm, v);
    mm.vmas.remove(v);
  }
  mm.newWithoutLeaf.remove(start, end);
  for (const leaf of mm.leavesIn(start, end)) {
    const lo = Math.max(start, leaf.base) - leaf.base;
    const hi = Math.min(end, leaf.base + PTRS_PER_PTE) - leaf.base;
    leaf.gt.fill(0, lo, hi);
    leaf.sdWhy.fill(0, lo, hi);
    leaf.uwWhy.fill(0, lo, hi);
    leaf.cWhy.fill(0, lo, hi);
    if (mm.vmas.intersecting(leaf.base, leaf.base + PTRS_PER_PTE).length === 0) {
      if (leaf.pmd !== 0) {
        mm.sys.count(CTR.pte_tables_freed);
        mm.sys.sink.change(mm.pid, leaf.base, 1, leaf.pmd, 0, Path.ZAP_UNMAP);
        leaf.pmd = 0;
      }
      mm.dropLeaf(leaf);
    }
  }
}

/** munmap(2). */
export function doMunmap(mm: Mm, addr: number, len: number): number {
  const args = `${hex(addr)}, ${len}`;
  if (!pageAligned(addr) || len === 0 || addr / PAGE_SIZE + pagesOf(len) > TASK_SIZE_PAGES)
    return mm.sys.result(mm.pid, 'munmap', args, -1, 'EINVAL');
  if (mm.vmas.splitRefused(addr / PAGE_SIZE, addr / PAGE_SIZE + pagesOf(len))) return mm.sys.result(mm.pid, 'munmap', args, -1, 'EINVAL');
  unmapRange(mm, addr / PAGE_SIZE, addr / PAGE_SIZE + pagesOf(len));
  return mm.sys.result(mm.pid, 'munmap', args, 0, null);
}

/** brk(2) → do_brk_flags: growing the heap sets VM_SOFTDIRTY on the whole heap VMA. */
export function doBrk(mm: Mm, addr: number): number {
  const cur = mm.brk * PAGE_SIZE;
  const done = (ret: number) => mm.sys.result(mm.pid, 'brk', hex(addr), ret, null);
  if (addr === 0 || addr < mm.brkStart * PAGE_SIZE) return done(cur);
  const newBrk = pagesOf(addr);
  const oldBrk = mm.brk;
  if (newBrk < oldBrk) unmapRange(mm, newBrk, oldBrk);
  else if (newBrk > oldBrk) {
    if (mm.vmas.intersecting(oldBrk, newBrk).length > 0) return done(cur);
    const heap = new Vma(mm.pid, oldBrk, newBrk, VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT, null, oldBrk);
    heap.isBrk = true;
    insertMerging(mm, heap, Why.BRK);
  }
  mm.brk = newBrk;
  return done(newBrk * PAGE_SIZE);
}

/**
 * vma_modify_flags → vma_merge_existing_range: after `v`'s flags changed, merge it with prev/next when
 * compatible. The survivor's flags are `flags` (the modified VMA's, VM_SOFTDIRTY included) unless
 * the profile makes VM_SOFTDIRTY sticky, in which case it is ORed from all merged VMAs.
 */
export function mergeAfterFlagChange(mm: Mm, v: Vma, flags: number): Vma {
  const sticky = mm.sys.profile.stickySoftDirtyMerge;
  const intoUnfaulted = mm.sys.profile.mergeFaultedIntoUnfaulted;
  /** vmg->anon_vma: the modified range's, for both neighbours. */
  const srcAnon = v.anonVma;
  let sd = flags & VM_SOFTDIRTY;
  let sdWhy = v.sdWhy;
  const prev = mm.vmas.endingAt(v.start);
  if (prev !== null && canMerge(prev, v) && anonMergeableInto(intoUnfaulted, srcAnon, prev)) {
    if (sticky && prev.flags & VM_SOFTDIRTY) {
      sd = VM_SOFTDIRTY;
      sdWhy = prev.sdWhy;
    }
    materializeNewContent(mm, prev);
    materializeNewContent(mm, v);
    mm.vmas.absorb(prev, v, (flags & ~VM_SOFTDIRTY) | sd);
    prev.sdWhy = sd && !(flags & VM_SOFTDIRTY) ? sdWhy : Why.VMA_MERGE;
    v = prev;
  }
  const next = mm.vmas.startingAt(v.end);
  if (next !== null && canMerge(v, next) && anonMergeableInto(intoUnfaulted, srcAnon, next)) {
    if (sticky && next.flags & VM_SOFTDIRTY) sd = VM_SOFTDIRTY;
    materializeNewContent(mm, v);
    materializeNewContent(mm, next);
    mm.vmas.absorb(v, next, (flags & ~VM_SOFTDIRTY) | sd);
    v.sdWhy = Why.VMA_MERGE;
  }
  return v;
}
