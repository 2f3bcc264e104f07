/**
 * fork(2) and exit (kernel/fork.c:dup_mmap, fs/userfaultfd.c:dup_userfaultfd, mm/memory.c:
 * copy_page_range, mm/huge_memory.c:copy_huge_pmd, mm/hugetlb.c:copy_hugetlb_page_range;
 * kernel/exit.c → mm/mmap.c:exit_mmap; docs/kernel-rules.md §2.16, D12, D13; source notes Q9).
 */
import { Path, Why } from './cause.js';
import { PF_ANON, PF_DIRTY } from './frames.js';
import { releaseAllPins } from './gup.js';
import type { Leaf } from './leaf.js';
import type { Mm } from './mm.js';
import { NO_WHY, flushTlbMm, installPte, pteAlloc, setPmd, setPte } from './pgtable.js';
import { userfaultfdWp } from './predicates.js';
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
  PMD_TABLE,
  POISON,
  PRESENT,
  SD,
  SWAP,
  UW,
  W,
  isPresent,
} from './pte.js';
import type { System } from './system.js';
import { isHugeEntry, splitHugePmd } from './thp.js';
import { UffdCtx } from './uffd-ctx.js';
import { HPAGE_PMD_NR, PTRS_PER_PTE, UFFD_EVENT_FORK, UFFD_FEATURE_EVENT_FORK } from './uapi.js';
import { VM_DONTCOPY, VM_HUGETLB, VM_LOCKED, VM_PFNMAP, VM_SHARED, VM_SOFTDIRTY, VM_UFFD_ALL, VM_WRITE, Vma } from './vma.js';
import { ZAP_UNMAP, zapRange } from './zap.js';
import { CTR } from './counters.js';

/**
 * Contexts created by dup_userfaultfd for fork children (UFFD_FEATURE_EVENT_FORK), by id. The
 * UFFD_EVENT_FORK message names the new context by `vpn` = its id (and `vpn2` = the child pid); a
 * monitor that reads the message looks the context up here (the kernel installs a new fd for it in
 * the reader's process at read time).
 */
const forkCtxRegistry = new WeakMap<System, Map<number, UffdCtx>>();

export function forkedUffdCtx(sys: System, id: number): UffdCtx | undefined {
  return forkCtxRegistry.get(sys)?.get(id);
}

/**
 * A process whose fork is not in the trace (it ran before tracing began, or was started by a process
 * the trace does not show): `fork` with parent pid 0 creates it with an empty address space and no
 * fds, as the kernel's first user process starts. Returns the pid or -1 (EAGAIN: the pid exists).
 */
export function doSpawn(sys: System, pid: number): number {
  const args = `child=${pid}`;
  if (sys.mms.has(pid) || pid <= 0) return sys.result(0, 'fork', args, -1, 'EAGAIN');
  sys.createMm(pid);
  return sys.result(0, 'fork', args, pid, null);
}

/**
 * fork(2) → dup_mmap: the child gets a copy of every VMA except VM_DONTCOPY ones (VM_LOCKED is not
 * inherited), with its own anon_vma where the parent had one; dup_userfaultfd runs before
 * copy_page_range (so the child's VM_UFFD_WP decides what is copied); one flush_tlb_mm of the parent
 * at the end. The child inherits the parent's fd table (its uffd fds name the parent's contexts),
 * heap bounds, and no MMF_HAS_PINNED. Its ground truth starts empty: the child's reference content is
 * what it had at fork. Returns the child pid or -1.
 */
export function doFork(parent: Mm, childPid: number): number {
  const sys = parent.sys;
  const args = `child=${childPid}`;
  if (parent.exited) return sys.result(parent.pid, 'fork', args, -1, 'ESRCH');
  if (sys.mms.has(childPid) || childPid <= 0) return sys.result(parent.pid, 'fork', args, -1, 'EAGAIN');
  const child = sys.createMm(childPid);
  child.brkStart = parent.brkStart;
  child.brk = parent.brk;
  for (const [fd, ctx] of parent.fds) child.fds.set(fd, ctx);
  const fctxs = new Map<UffdCtx, UffdCtx>();
  for (const src of [...parent.vmas.list]) {
    if (src.flags & VM_DONTCOPY) continue;
    const dst = new Vma(childPid, src.start, src.end, src.flags & ~VM_LOCKED, src.obj, src.pgoff);
    dst.anonVma = src.anonVma !== 0 ? sys.newAnonVma() : 0;
    dst.anonVmaChained = src.anonVma !== 0; // anon_vma_fork: linked to the parent's anon_vmas too
    dst.uffd = src.uffd;
    dst.sdWhy = src.flags & VM_SOFTDIRTY ? Why.FORK_CHILD : src.sdWhy;
    dst.uffdWhy = src.uffdWhy;
    dst.isBrk = src.isBrk;
    dst.newContent = false;
    dupUserfaultfd(sys, dst, fctxs);
    child.vmas.insert(dst);
    dst.obj?.mappings.add(dst);
    copyPageRange(parent, child, dst, src);
  }
  flushTlbMm(parent);
  // dup_userfaultfd_complete: one UFFD_EVENT_FORK per parent context (fork waits until it is read).
  for (const [octx, nctx] of fctxs) {
    let reg = forkCtxRegistry.get(sys);
    if (reg === undefined) forkCtxRegistry.set(sys, (reg = new Map()));
    reg.set(nctx.id, nctx);
    const msg = { event: UFFD_EVENT_FORK, flags: 0, vpn: nctx.id, vpn2: childPid, pages: 0, tid: parent.pid, t: sys.now };
    octx.queue.push(msg);
    sys.count(CTR.uffd_msgs);
    sys.uffdListener?.onMessage(octx, msg);
  }
  return sys.result(parent.pid, 'fork', args, childPid, null);
}

/**
 * dup_userfaultfd: without UFFD_FEATURE_EVENT_FORK the child VMA is unregistered
 * (userfaultfd_reset_ctx); with it, one new context per parent context, same flags and features.
 */
function dupUserfaultfd(sys: System, dst: Vma, fctxs: Map<UffdCtx, UffdCtx>): void {
  const octx = dst.uffd;
  if (octx === null) return;
  if ((octx.features & UFFD_FEATURE_EVENT_FORK) === 0) {
    dst.uffd = null;
    dst.flags &= ~VM_UFFD_ALL;
    dst.uffdWhy = Why.FORK_CHILD;
    return;
  }
  let nctx = fctxs.get(octx);
  if (nctx === undefined) {
    nctx = new UffdCtx(sys.newUffdId(), dst.pid, -1, octx.userModeOnly, octx.nonblock);
    nctx.apiDone = octx.apiDone;
    nctx.features = octx.features;
    fctxs.set(octx, nctx);
  }
  dst.uffd = nctx;
}

/** vma_needs_copy: WP-registered child VMA, hugetlb/VM_PFNMAP, or an anon_vma; otherwise faults refill. */
function vmaNeedsCopy(dst: Vma, src: Vma): boolean {
  return userfaultfdWp(dst) || (src.flags & (VM_PFNMAP | VM_HUGETLB)) !== 0 || src.anonVma !== 0;
}

/**
 * The page is pinned and the child must not share it (__folio_try_dup_anon_rmap fails):
 * PageAnonExclusive && folio_needs_cow_for_dma (COW mapping, MMF_HAS_PINNED, folio_maybe_dma_pinned).
 */
function mustCopyEarly(parent: Mm, src: Vma, entry: number, pfn: number): boolean {
  return (entry & PAGE_MASK) === PG_ANON && (entry & EXCL) !== 0 && src.isCow && parent.hasPinned && parent.sys.frames.maybePinned(pfn);
}

/** copy_page_range(dst_vma, src_vma). */
function copyPageRange(parent: Mm, child: Mm, dst: Vma, src: Vma): void {
  if (!vmaNeedsCopy(dst, src)) return;
  const dstWp = userfaultfdWp(dst);
  for (let slot = Math.floor(src.start / PTRS_PER_PTE); slot * PTRS_PER_PTE < src.end; slot++) {
    const sl = parent.leafAt(slot);
    if (sl === undefined || sl.pmd === 0) continue;
    const a = Math.max(src.start, sl.base) - sl.base;
    const b = Math.min(src.end, sl.base + PTRS_PER_PTE) - sl.base;
    if (isHugeEntry(sl.pmd)) {
      if (src.isHugetlb) {
        copyHugetlbEntry(parent, child, src, sl, dstWp);
        continue;
      }
      // copy_huge_pmd: skipped for a non-anon child VMA (refilled on fault).
      if (!dst.isAnon) continue;
      const present = isPresent(sl.pmd);
      const zero = (sl.pmd & PAGE_MASK) === PG_ZERO;
      if (present && !zero && mustCopyEarly(parent, src, sl.pmd, sl.pmdPfn)) {
        // "Page maybe pinned: split and retry the fault on PTEs": copied at PTE level below.
        splitHugePmd(parent, sl);
      } else {
        copyHugePmd(parent, child, sl, dstWp);
        continue;
      }
    }
    const dl = child.ensureLeaf(slot);
    pteAlloc(child, dl, Path.COPY_PAGE_RANGE);
    // The child's table is the parent's, none entries included: so is the reason for what it shows.
    dl.sdWhy.fill(Why.FORK_CHILD, a, b);
    dl.uwWhy.fill(Why.FORK_CHILD, a, b);
    for (let i = a; i < b; i++) copyPte(parent, child, src, dst, sl, dl, i, dstWp);
  }
}

/**
 * One PTE (copy_present_ptes / copy_present_page / copy_nonpresent_pte). The child's entries carry
 * sdWhy = uwWhy = FORK_CHILD (its SD is inherited, not its own writes; its UW state is the parent's).
 */
function copyPte(parent: Mm, child: Mm, src: Vma, dst: Vma, sl: Leaf, dl: Leaf, i: number, dstWp: boolean): void {
  const frames = parent.sys.frames;
  const e = sl.pte[i]!;
  const kind = e & KIND_MASK;
  if (kind === NONE) return;
  if (kind === MARKER) {
    // copy_pte_marker: guard and poison always, uffd-wp only into a WP-registered child VMA.
    let m = e & (GUARD | POISON);
    if (e & UW && dstWp) m |= UW;
    if (m !== 0) {
      setPte(child, dl, i, MARKER | m, Path.COPY_PAGE_RANGE, Why.FORK_CHILD);
      dl.uwWhy[i] = Why.FORK_CHILD;
    }
    return;
  }
  const pfn = sl.pfn[i]!;
  if (kind === SWAP) {
    // Swap entries become shared (the parent's exclusive marker is cleared); migration entries are copied.
    let c = e;
    if (!(e & MIGRATION) && e & EXCL) {
      setPte(parent, sl, i, e & ~EXCL, Path.COPY_PAGE_RANGE, NO_WHY);
      c &= ~EXCL;
    }
    if (!dstWp) c &= ~UW;
    installPte(child, dl, i, c, pfn, Path.COPY_PAGE_RANGE, Why.FORK_CHILD);
    dl.uwWhy[i] = Why.FORK_CHILD;
    return;
  }
  if (mustCopyEarly(parent, src, e, pfn)) {
    // copy_present_page: the child gets its own copy now, maybe_mkwrite(pte_mkdirty()) — SD=1 — and
    // UW when the source had it and the child VMA is WP-registered. The parent keeps W and exclusivity.
    if (dst.anonVma === 0) dst.anonVma = child.sys.newAnonVma();
    const copy = frames.alloc(PF_ANON | PF_DIRTY);
    let c = PRESENT | PG_ANON | A | D | SD | EXCL | (dst.flags & VM_WRITE ? W : 0);
    if (dstWp && e & UW) c = (c | UW) & ~W;
    installPte(child, dl, i, c, copy, Path.COPY_PAGE_RANGE, Why.FORK_CHILD);
    dl.sdWhy[i] = Why.FORK_CHILD;
    dl.uwWhy[i] = Why.FORK_CHILD;
    return;
  }
  // __copy_present_ptes: share the page.
  let p = e;
  if ((e & PAGE_MASK) === PG_ANON) p &= ~EXCL; // folio_try_dup_anon_rmap: no longer exclusive
  let c = p;
  if (src.isCow && e & W) {
    p &= ~W; // wrprotect_ptes in the parent
    c &= ~W;
  }
  if (p !== e) setPte(parent, sl, i, p, Path.COPY_PAGE_RANGE, NO_WHY);
  if (src.flags & VM_SHARED) c &= ~D; // pte_mkclean: D only, SD stays
  c &= ~A; // pte_mkold
  if (!dstWp) c &= ~UW; // pte_clear_uffd_wp
  installPte(child, dl, i, c, pfn, Path.COPY_PAGE_RANGE, Why.FORK_CHILD);
  dl.uwWhy[i] = Why.FORK_CHILD;
}

/**
 * copy_huge_pmd for an anon THP or the huge zero PMD: the parent's PMD is write-protected
 * (pmdp_set_wrprotect) and its folio no longer exclusive; the child's is the same entry with UW
 * cleared unless WP-registered, write-protected and old. SD is copied.
 */
function copyHugePmd(parent: Mm, child: Mm, sl: Leaf, dstWp: boolean): void {
  const frames = parent.sys.frames;
  const pmd = sl.pmd;
  if (!isPresent(pmd)) return; // PMD migration entries are not modelled
  const zero = (pmd & PAGE_MASK) === PG_ZERO;
  if (!zero) {
    for (let k = 0; k < HPAGE_PMD_NR; k++) {
      frames.get(sl.pmdPfn + k);
      frames.map(sl.pmdPfn + k);
    }
  }
  setPmd(parent, sl, pmd & ~(W | EXCL), Path.COPY_PAGE_RANGE, NO_WHY);
  let c = pmd & ~(W | A | EXCL);
  if (!dstWp) c &= ~UW;
  const dl = child.ensureLeaf(sl.index);
  dl.pmdPfn = sl.pmdPfn;
  setPmd(child, dl, c, Path.COPY_PAGE_RANGE, Why.FORK_CHILD);
  dl.uwWhy.fill(Why.FORK_CHILD);
}

/**
 * copy_hugetlb_page_range for one huge entry: markers per copy_pte_marker; present: COW mappings
 * write-protect both sides, UW cleared unless the child is WP-registered (no mkold); a pinned
 * exclusive anon hugetlb folio is copied at once (hugetlb_install_folio: writable, dirty).
 */
function copyHugetlbEntry(parent: Mm, child: Mm, src: Vma, sl: Leaf, dstWp: boolean): void {
  const frames = parent.sys.frames;
  const e = sl.pmd;
  const dl = child.ensureLeaf(sl.index);
  const kind = e & KIND_MASK;
  if (kind === MARKER) {
    let m = e & (GUARD | POISON);
    if (e & UW && dstWp) m |= UW;
    if (m !== 0) setPmd(child, dl, MARKER | m, Path.COPY_PAGE_RANGE, Why.FORK_CHILD);
    return;
  }
  if (kind !== PRESENT) {
    dl.pmdPfn = sl.pmdPfn;
    for (let k = 0; k < HPAGE_PMD_NR; k++) frames.get(sl.pmdPfn + k);
    setPmd(child, dl, dstWp ? e : e & ~UW, Path.COPY_PAGE_RANGE, Why.FORK_CHILD);
    return;
  }
  if (mustCopyEarly(parent, src, e, sl.pmdPfn)) {
    const base = frames.allocLarge(HPAGE_PMD_NR, PF_ANON | PF_DIRTY);
    for (let k = 0; k < HPAGE_PMD_NR; k++) {
      frames.get(base + k);
      frames.map(base + k);
    }
    let c = PRESENT | PG_ANON | A | D | SD | EXCL | W;
    if (dstWp && e & UW) c = (c | UW) & ~W;
    dl.pmdPfn = base;
    setPmd(child, dl, c, Path.COPY_PAGE_RANGE, Why.FORK_CHILD);
    return;
  }
  for (let k = 0; k < HPAGE_PMD_NR; k++) {
    frames.get(sl.pmdPfn + k);
    frames.map(sl.pmdPfn + k);
  }
  let p = e;
  if ((e & PAGE_MASK) === PG_ANON) p &= ~EXCL;
  let c = p;
  if (src.isCow && e & W) {
    p &= ~W;
    c &= ~W;
  }
  if (p !== e) setPmd(parent, sl, p, Path.COPY_PAGE_RANGE, NO_WHY);
  if (!dstWp) c &= ~UW;
  dl.pmdPfn = sl.pmdPfn;
  setPmd(child, dl, c, Path.COPY_PAGE_RANGE, Why.FORK_CHILD);
  dl.uwWhy.fill(Why.FORK_CHILD);
}

/**
 * Process exit → exit_mmap: every VMA zapped like munmap (markers dropped, no UFFD_EVENT_UNMAP: exit
 * does not notify), page tables freed, the process's pins released (their owner goes away), and its
 * userfaultfds closed — a context is released when no live process holds it any more (the VMAs it
 * was registered on are gone with this mm). The mm leaves sys.mms.
 */
export function doExit(mm: Mm): number {
  const sys = mm.sys;
  if (mm.exited) return sys.result(mm.pid, 'exit', '', -1, 'ESRCH');
  for (const v of [...mm.vmas.list]) {
    zapRange(mm, v, v.start, v.end, ZAP_UNMAP);
    mm.vmas.remove(v);
  }
  // free_pgtables walks the address space upwards: tables are freed in address order.
  for (const leaf of [...mm.leaves.values()].sort((a, b) => a.index - b.index)) {
    if (leaf.pmd !== 0) {
      if (leaf.pmd === PMD_TABLE) sys.count(CTR.pte_tables_freed);
      sys.sink.change(mm.pid, leaf.base, 1, leaf.pmd, 0, Path.ZAP_UNMAP);
      leaf.pmd = 0;
    }
    mm.dropLeaf(leaf);
  }
  releaseAllPins(mm);
  const others = [...sys.mms.values()].filter((o) => o !== mm);
  for (const ctx of mm.fds.values()) {
    const held = others.some((o) => [...o.fds.values()].includes(ctx));
    if (!held && ctx.pid === mm.pid) ctx.released = true;
  }
  for (const ctx of forkCtxRegistry.get(sys)?.values() ?? []) if (ctx.pid === mm.pid) ctx.released = true;
  mm.fds.clear();
  mm.exited = true;
  sys.mms.delete(mm.pid);
  return sys.result(mm.pid, 'exit', '', 0, null);
}
