/**
 * get_user_pages / pin_user_pages (mm/gup.c), device DMA into pinned pages and pwrite(2) into a
 * page cache (docs/kernel-rules.md §2.1.10, D21–D23).
 *
 * GUP does not go through the MMU: follow_page_mask() looks at the entry and, when it does not allow
 * the access (none, marker, swap, read-only for FOLL_WRITE, a shared anon page for a read pin that
 * must be unshared), faultin_page() calls handle_mm_fault() in kernel mode (no FAULT_FLAG_USER) and
 * the lookup is retried. It never sets the hardware A/D bits of the PTE (FOLL_TOUCH marks the folio).
 */
import type { Backing } from '../trace/types.js';
import { Path, Why } from './cause.js';
import { anonVmaPrepare, handleMmFault } from './fault.js';
import { FAULT_BLOCKED, FAULT_DONE } from './fault-types.js';
import { PF_ANON, PF_DIRTY } from './frames.js';
import { GT_C, GT_W, type Leaf } from './leaf.js';
import type { Mm } from './mm.js';
import { markObjectPages, markWritten } from './access.js';
import { hex } from './hex.js';
import { NO_WHY, clearPte, flushTlbRange, installPte, setPte } from './pgtable.js';
import { A, EXCL, KIND_MASK, PAGE_MASK, PG_ANON, PG_ZERO, PMD_TABLE, PRESENT, PROTNONE, SD, UW, W, pteMkUffdWp, isPresent } from './pte.js';
import type { System } from './system.js';
import { isHugeEntry } from './thp.js';
import { PAGE_SIZE, PTRS_PER_PTE } from './uapi.js';
import { VM_EXEC, VM_MAYREAD, VM_PFNMAP, VM_READ, VM_SHARED, VM_UFFD_WP, VM_WRITE, type Vma } from './vma.js';
import { CTR } from './counters.js';

/** Outcome of faulting one page in (faultinPage). */
export const GUP_OK = 0;
/** No VMA covers the page (__get_user_pages: -EFAULT; madvise_populate: -ENOMEM). */
export const GUP_NO_VMA = 1;
/** check_vma_flags refused the VMA (permissions, VM_PFNMAP). */
export const GUP_BAD_VMA = 2;
/** The fault failed: VM_FAULT_SIGBUS/SIGSEGV, or a sync uffd-wp fault on a USER_MODE_ONLY ctx (-EFAULT). */
export const GUP_FAULT = 3;
/** A sync uffd-wp fault queued a message and the monitor has not resolved it. */
export const GUP_BLOCKED = 4;

/** How often a blocked kernel fault is retried after the (synchronous) monitor had its chance. */
const BLOCKED_RETRIES = 4;

/** A page id mapped at `vpn`, or -1 (no present entry). */
function pageAt(mm: Mm, vpn: number): number {
  const leaf = mm.leafOf(vpn);
  if (leaf === undefined) return -1;
  const i = vpn - leaf.base;
  if (isHugeEntry(leaf.pmd)) {
    if (!isPresent(leaf.pmd)) return -1;
    return (leaf.pmd & PAGE_MASK) === PG_ZERO ? 0 : leaf.pmdPfn + i; // the huge zero page is page 0 here
  }
  if (leaf.pmd !== PMD_TABLE) return -1;
  return isPresent(leaf.pte[i]!) ? leaf.pfn[i]! : -1;
}

/**
 * mm/gup.c:check_vma_flags for the FOLL_* set in use: VM_IO/VM_PFNMAP refused; FOLL_WRITE needs
 * VM_WRITE (no FOLL_FORCE here); a read needs VM_READ.
 */
function checkVmaFlags(vma: Vma, write: boolean, force: boolean): boolean {
  if (vma.flags & VM_PFNMAP) return false;
  if (write) return (vma.flags & VM_WRITE) !== 0;
  return (vma.flags & VM_READ) !== 0 || (force && (vma.flags & VM_MAYREAD) !== 0);
}

/**
 * follow_page_mask's verdict on the current entry: may GUP take the page as it is? A read pin
 * (FOLL_PIN without FOLL_WRITE) of an anon page that is not exclusive must unshare first
 * (gup_must_unshare), so that the pin and the page mapped here cannot diverge later.
 */
function entryAllows(leaf: Leaf, i: number, write: boolean, pin: boolean, vma: Vma): 'ok' | 'fault' | 'unshare' {
  const e = isHugeEntry(leaf.pmd) ? leaf.pmd : leaf.pmd === PMD_TABLE ? leaf.pte[i]! : 0;
  if ((e & (KIND_MASK | PROTNONE)) !== PRESENT) return 'fault';
  if (write) return (e & W) !== 0 ? 'ok' : 'fault';
  if (pin && vma.isCow && (e & PAGE_MASK) === PG_ANON && (e & EXCL) === 0 && !isHugeEntry(leaf.pmd)) return 'unshare';
  return 'ok';
}

/**
 * do_wp_page with FAULT_FLAG_UNSHARE (no uffd-wp check for an unshare): reuse the page if nobody
 * else holds it (mark it exclusive), otherwise wp_page_copy in unshare mode — a private copy mapped
 * read-only that keeps SD and UW of the old entry and is not made dirty.
 */
function unshareAnon(mm: Mm, vma: Vma, leaf: Leaf, i: number): void {
  const frames = mm.sys.frames;
  const e = leaf.pte[i]!;
  const pfn = leaf.pfn[i]!;
  if (!frames.isLarge(pfn) && frames.refs[pfn] === 1 && frames.mapcount[pfn] === 1) {
    setPte(mm, leaf, i, e | EXCL, Path.GUP, NO_WHY);
    return;
  }
  mm.sys.count(CTR.fault_cow);
  anonVmaPrepare(mm, vma);
  const copy = frames.alloc(PF_ANON | (frames.flags[pfn]! & PF_DIRTY));
  let entry = PRESENT | PG_ANON | (e & A) | EXCL | (e & SD);
  if (e & UW) entry = pteMkUffdWp(entry);
  clearPte(mm, leaf, i, 0, Path.WP_PAGE_COPY, NO_WHY);
  installPte(mm, leaf, i, entry, copy, Path.WP_PAGE_COPY, NO_WHY);
  flushTlbRange(mm, 1);
}

/**
 * faultin_page loop for one page: look at the entry, fault in kernel mode until GUP can take the
 * page (`force`: FOLL_FORCE for a read of a non-readable VMA). A blocked sync uffd-wp fault is retried (the kernel sleeps in handle_userfault and retries
 * after the monitor's wake-up; the lane's monitor answers synchronously).
 */
export function faultinPage(mm: Mm, vpn: number, write: boolean, pin: boolean, tid: number, force = false): number {
  const slot = Math.floor(vpn / PTRS_PER_PTE);
  const i = vpn - slot * PTRS_PER_PTE;
  let blocked = 0;
  for (let pass = 0; pass < 16; pass++) {
    const vma = mm.vmas.find(vpn);
    if (vma === null) return GUP_NO_VMA;
    if (!checkVmaFlags(vma, write, force)) return GUP_BAD_VMA;
    const leaf = mm.leafAt(slot);
    if (leaf !== undefined) {
      const verdict = entryAllows(leaf, i, write, pin, vma);
      if (verdict === 'ok') return GUP_OK;
      if (verdict === 'unshare') {
        unshareAnon(mm, vma, leaf, i);
        continue;
      }
    }
    const r = handleMmFault({ mm, vma, vpn, leaf: leaf ?? mm.ensureLeaf(slot), i, write, kernel: true, tid });
    if (r === FAULT_DONE) continue;
    if (r === FAULT_BLOCKED) {
      // handle_userfault: the syscall's thread sleeps until the monitor resolves the fault, then GUP
      // retries. The lane may resolve it at once (UffdListener.resolveKernelFault); a monitor that answered
      // synchronously is seen below. Still protected after that: nobody will wake us.
      mm.sys.uffdListener?.resolveKernelFault?.(mm, vpn);
      const l = mm.leafAt(slot)!;
      const e = isHugeEntry(l.pmd) ? l.pmd : l.pte[i]!;
      if (++blocked > BLOCKED_RETRIES || ((e & UW) !== 0 && (vma.flags & VM_UFFD_WP) !== 0)) return GUP_BLOCKED;
      continue;
    }
    return GUP_FAULT;
  }
  return GUP_FAULT;
}

/** A store by the kernel on the user's behalf through this mapping: write and content truth (as a CPU store). */
export function markKernelStore(mm: Mm, vpn: number): void {
  const leaf = mm.ensureLeaf(Math.floor(vpn / PTRS_PER_PTE));
  markWritten(mm, leaf, vpn - leaf.base, vpn);
}

/* Pins taken per process, by page: the page ids GUP returned (unpin acts on those, not on what is mapped later). */
const pinTable = new WeakMap<Mm, Map<number, number[]>>();

function pinsOf(mm: Mm): Map<number, number[]> {
  let m = pinTable.get(mm);
  if (m === undefined) {
    m = new Map();
    pinTable.set(mm, m);
  }
  return m;
}

/** The page ids pinned at `vpn` by this process (most recent last). */
export function pinnedPages(mm: Mm, vpn: number): readonly number[] {
  return pinTable.get(mm)?.get(vpn) ?? [];
}

function releasePin(mm: Mm, vpn: number): boolean {
  const list = pinTable.get(mm)?.get(vpn);
  if (list === undefined || list.length === 0) return false;
  const pfn = list.pop()!;
  if (list.length === 0) pinTable.get(mm)!.delete(vpn);
  const frames = mm.sys.frames;
  if (pfn !== 0) {
    frames.unpin(pfn);
    frames.put(pfn);
  }
  return true;
}

/**
 * pin_user_pages(FOLL_PIN [|FOLL_WRITE] [|FOLL_LONGTERM]) over [addr, addr+len): fault every page in
 * (kernel mode), take a pin (folio pincount, plus a reference) on each and set MMF_HAS_PINNED. As a
 * caller such as io_uring does, a partial pin is undone and the call fails. A write pin counts as a
 * kernel store into the page for the truth (the brief's convention: pins are taken to be written).
 * FOLL_LONGTERM|FOLL_WRITE on a shared regular-file mapping is refused since v6.4
 * (writable_file_mapping_allowed: -EFAULT).
 */
export function doPin(mm: Mm, addr: number, len: number, write: boolean, longterm: boolean, tid = mm.pid): number {
  const sys = mm.sys;
  const args = `${hex(addr)}, ${len}, ${write ? 'write' : 'read'}${longterm ? '|longterm' : ''}`;
  const fail = (errno: string) => sys.result(mm.pid, 'pin_user_pages', args, -1, errno);
  const start = Math.floor(addr / PAGE_SIZE);
  const end = Math.ceil((addr + len) / PAGE_SIZE);
  if (len <= 0) return sys.result(mm.pid, 'pin_user_pages', args, 0, null);
  const taken: number[] = [];
  const undo = (errno: string): number => {
    for (const vpn of taken) releasePin(mm, vpn);
    return fail(errno);
  };
  mm.hasPinned = true;
  for (let vpn = start; vpn < end; vpn++) {
    const vma = mm.vmas.find(vpn);
    if (
      vma !== null &&
      longterm &&
      write &&
      vma.obj !== null &&
      vma.obj.kind === 'file' &&
      vma.flags & VM_SHARED &&
      mm.sys.profile.longtermPinSharedFileRefused
    )
      return undo('EFAULT');
    const r = faultinPage(mm, vpn, write, true, tid);
    if (r === GUP_BLOCKED) return undo('EINTR');
    if (r !== GUP_OK) return undo('EFAULT');
    const pfn = pageAt(mm, vpn);
    if (pfn < 0) return undo('EFAULT');
    if (write) {
      markKernelStore(mm, vpn);
      if (pfn !== 0) sys.frames.flags[pfn]! |= PF_DIRTY;
    }
    if (pfn !== 0) {
      sys.frames.pin(pfn);
      sys.frames.get(pfn);
    }
    const m = pinsOf(mm);
    let list = m.get(vpn);
    if (list === undefined) m.set(vpn, (list = []));
    list.push(pfn);
    taken.push(vpn);
  }
  return sys.result(mm.pid, 'pin_user_pages', args, end - start, null);
}

/** unpin_user_pages over [addr, addr+len): drop the most recent pin of each page. MMF_HAS_PINNED stays set. */
export function doUnpin(mm: Mm, addr: number, len: number): number {
  const args = `${hex(addr)}, ${len}`;
  const start = Math.floor(addr / PAGE_SIZE);
  const end = Math.ceil((addr + len) / PAGE_SIZE);
  let n = 0;
  for (let vpn = start; vpn < end; vpn++) if (releasePin(mm, vpn)) n++;
  return mm.sys.result(mm.pid, 'unpin_user_pages', args, n, null);
}

/**
 * A device writes [addr, addr+len) of pinned memory by DMA. Only content truth changes (GT_c, cause
 * DMA) on every mapping of the pinned pages: this mapping if it still maps the page, the same page in
 * other processes (fork sharing, same address), and every mapping of a file/shmem page. No PTE
 * changes, no fault, no tracker sees it. A page of the range that has no pin is not written (an
 * IOMMU fault): the op then reports EFAULT after writing the pinned ones.
 */
export function doDmaWrite(mm: Mm, addr: number, len: number): number {
  const sys = mm.sys;
  const args = `${hex(addr)}, ${len}`;
  const start = Math.floor(addr / PAGE_SIZE);
  const end = Math.ceil((addr + len) / PAGE_SIZE);
  let missing = false;
  for (let vpn = start; vpn < end; vpn++) {
    const list = pinTable.get(mm)?.get(vpn);
    if (list === undefined || list.length === 0) {
      missing = true;
      continue;
    }
    const pfn = list[list.length - 1]!;
    if (pfn === 0) continue; // the zero page is never written
    sys.frames.flags[pfn]! |= PF_DIRTY;
    markPageEverywhere(sys, pfn, vpn, Why.DMA);
  }
  return missing ? sys.result(mm.pid, 'dma_write', args, -1, 'EFAULT') : sys.result(mm.pid, 'dma_write', args, len, null);
}

/** GT_c on every mapping of page `pfn` the simulator can find (rmap stand-in). */
function markPageEverywhere(sys: System, pfn: number, vpn: number, why: number): void {
  const owner = sys.frames.ownerOf(pfn);
  if (owner !== undefined) {
    for (const o of sys.objects.values()) {
      if (o.id === owner.obj) {
        markObjectPages(sys, o, owner.index, 1, why, null);
        return;
      }
    }
  }
  for (const m of sys.mms.values()) {
    const leaf = m.leafOf(vpn);
    if (leaf === undefined) continue;
    const i = vpn - leaf.base;
    const mapped = isHugeEntry(leaf.pmd)
      ? (leaf.pmd & PAGE_MASK) !== PG_ZERO && leaf.pmdPfn + i === pfn
      : leaf.pmd === PMD_TABLE && leaf.pfn[i] === pfn && leaf.pte[i] !== 0;
    if (!mapped) continue;
    leaf.gt[i]! |= GT_C;
    leaf.cWhy[i] = why;
  }
}

/**
 * pwrite(2) of [offset, offset+len) to a file or memfd: the page cache pages change (created if
 * needed, marked dirty), and every mapping that shows them — shared ones, and private ones that have
 * not CoW'd the page — gets GT_c with cause ALIAS_WRITE. No PTE changes.
 */
export function doPwrite(sys: System, backing: Backing, offset: number, len: number, pid = 1): number {
  const args = `${backing.kind === 'anon' ? 'anon' : backing.name}, ${offset}, ${len}`;
  if (backing.kind === 'anon') return sys.result(pid, 'pwrite', args, -1, 'EBADF');
  if (offset < 0 || len < 0) return sys.result(pid, 'pwrite', args, -1, 'EINVAL');
  if (len === 0) return sys.result(pid, 'pwrite', args, 0, null);
  const obj = sys.object(backing.kind === 'file' ? 'file' : 'shmem', backing.name);
  const first = Math.floor(offset / PAGE_SIZE);
  const last = Math.ceil((offset + len) / PAGE_SIZE);
  for (let k = first; k < last; k++) {
    const id = obj.getPage(sys.frames, k);
    sys.frames.flags[id]! |= PF_DIRTY;
  }
  markObjectPages(sys, obj, first, last - first, Why.ALIAS_WRITE, null);
  return sys.result(pid, 'pwrite', args, len, null);
}

/** Drop every pin this process holds (its pinning subsystem is torn down at exit). */
export function releaseAllPins(mm: Mm): void {
  const m = pinTable.get(mm);
  if (m === undefined) return;
  for (const vpn of [...m.keys()]) while (releasePin(mm, vpn));
  pinTable.delete(mm);
}

/**
 * The write fault of a populate set the page's tracker reasons as for a store; nothing was stored
 * (no GT_w), so a tracker that reports the page reports it because of the populate.
 */
export function labelPopulatedForWrite(mm: Mm, vpn: number): void {
  const leaf = mm.leafOf(vpn);
  if (leaf === undefined) return;
  const i = vpn - leaf.base;
  if ((leaf.gt[i]! & GT_W) !== 0) return;
  if (leaf.sdWhy[i] === Why.WRITE) leaf.sdWhy[i] = Why.POPULATE_WRITE;
  if (leaf.uwWhy[i] === Why.WRITE) leaf.uwWhy[i] = Why.POPULATE_WRITE;
}

/**
 * mm/gup.c:__mm_populate → populate_vma_page_range for MAP_POPULATE: FOLL_WRITE only for private
 * writable mappings (the caller passes it), otherwise a read fault with FOLL_FORCE when the VMA is
 * accessible at all; VM_IO/VM_PFNMAP skipped; errors ignored (the rest of the VMA is skipped).
 */
export function mmPopulate(mm: Mm, vma: Vma, start: number, end: number, write: boolean): void {
  if (vma.flags & VM_PFNMAP) return;
  const force = !write && (vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) !== 0;
  for (let vpn = start; vpn < end; vpn++) {
    if (faultinPage(mm, vpn, write, false, mm.pid, force) !== GUP_OK) return;
    if (write) labelPopulatedForWrite(mm, vpn);
  }
}
