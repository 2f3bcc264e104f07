/**
 * GUP pins, DMA and pwrite against kernel rules: kernel-semantics.md §2.1.10, D21, D22, D23;
 * docs/kernel-source-notes.md Q15.
 */
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../src/kernel/profile.js';
import { ACCESS_OK, accessPage } from '../src/mm/access.js';
import { Path, Why } from '../src/mm/cause.js';
import { PteEventSink } from '../src/mm/events.js';
import type { Leaf } from '../src/mm/leaf.js';
import { GT_C, GT_W } from '../src/mm/leaf.js';
import type { Mm } from '../src/mm/mm.js';
import { doMmap } from '../src/mm/mmap.js';
import { MM_CP_UFFD_WP, changeProtection } from '../src/mm/mprotect.js';
import { setPmd, setPte } from '../src/mm/pgtable.js';
import {
  A, D, EXCL, KIND_MASK, MARKER, NONE, PG_ANON, PMD_TABLE, PRESENT, SD, SWAP, UW, W,
} from '../src/mm/pte.js';
import { DEFAULT_SYSFS, System, type Sysfs } from '../src/mm/system.js';
import { UFFD_FEATURE_WP_ASYNC, UFFD_FEATURE_WP_UNPOPULATED } from '../src/mm/uapi.js';
import { VM_SOFTDIRTY, VM_UFFD_WP, type Vma } from '../src/mm/vma.js';
import { UffdCtx } from '../src/trackers/uffd-ctx.js';
import type { Backing, MmapFlag, Prot } from '../src/trace/types.js';
import { doDmaWrite, doPin, doPwrite, doUnpin, pinnedPages, setKernelFaultResolver } from '../src/mm/gup.js';
import { MM_CP_UFFD_WP_RESOLVE } from '../src/mm/mprotect.js';
import { doFork } from '../src/mm/fork.js';
import { COUNTER_INDEX } from '../src/lanes/results.js';

/* ---- shared test helpers (copied into each 30-mm-* file) ---- */
const PG = 4096;
/** A 2 MiB-aligned test address (page number). */
const BV = 0x7f0000000000 / PG;

function setup(profile = '6.18', sysfs: Partial<Sysfs> = {}): { sys: System; mm: Mm } {
  const sys = new System(0, resolveProfile(profile), { ...DEFAULT_SYSFS, ...sysfs }, new PteEventSink(0, null));
  return { sys, mm: sys.mm(1)! };
}

interface MapOpts { shared?: boolean; backing?: Backing; prot?: Prot; offset?: number; populate?: boolean }
function map(mm: Mm, vpn: number, pages: number, o: MapOpts = {}): Vma {
  const flags: MmapFlag[] = [o.shared ? 'shared' : 'private', 'fixed'];
  if (!o.backing || o.backing.kind === 'anon') flags.push('anonymous');
  if (o.populate) flags.push('populate');
  const r = doMmap(mm, {
    op: 'mmap', pid: mm.pid, addr: vpn * PG, len: pages * PG, prot: o.prot ?? { read: true, write: true, exec: false },
    flags, backing: o.backing ?? { kind: 'anon' }, offset: o.offset ?? 0,
  });
  expect(r).toBe(vpn * PG);
  return mm.vmas.find(vpn)!;
}

/** The entry mapping page `vpn`: its PTE, or the huge PMD, or 0 for a hole. */
function entry(mm: Mm, vpn: number): number {
  const l = mm.leafOf(vpn);
  if (l === undefined || l.pmd === 0) return 0;
  return l.pmd === PMD_TABLE ? l.pte[vpn - l.base]! : l.pmd;
}
function leafOf(mm: Mm, vpn: number): { leaf: Leaf; i: number } {
  const leaf = mm.leafOf(vpn)!;
  return { leaf, i: vpn - leaf.base };
}
const gt = (mm: Mm, vpn: number): number => { const l = mm.leafOf(vpn); return l ? l.gt[vpn - l.base]! : 0; };
const sdWhy = (mm: Mm, vpn: number): number => mm.leafOf(vpn)!.sdWhy[vpn - mm.leafOf(vpn)!.base]!;
const uwWhy = (mm: Mm, vpn: number): number => mm.leafOf(vpn)!.uwWhy[vpn - mm.leafOf(vpn)!.base]!;
const cWhy = (mm: Mm, vpn: number): number => mm.leafOf(vpn)!.cWhy[vpn - mm.leafOf(vpn)!.base]!;
const has = (e: number, bits: number): boolean => (e & bits) === bits;

function store(mm: Mm, vpn: number): void {
  expect(accessPage(mm, vpn, true, false, mm.pid)).toBe(ACCESS_OK);
}
function load(mm: Mm, vpn: number): void {
  expect(accessPage(mm, vpn, false, false, mm.pid)).toBe(ACCESS_OK);
}

/** clear_refs "4" as fs/proc/task_mmu.c does it (clear_soft_dirty / clear_soft_dirty_pmd), plus a truth reset. */
function clearRefs(mm: Mm): void {
  for (const v of mm.vmas.list) { v.flags &= ~VM_SOFTDIRTY; v.newContent = false; }
  for (const l of mm.leaves.values()) {
    if (l.pmd !== 0 && l.pmd !== PMD_TABLE && (l.pmd & KIND_MASK) === PRESENT) setPmd(mm, l, l.pmd & ~(W | SD), Path.CLEAR_SOFT_DIRTY, Why.ARMED);
    if (l.pmd === PMD_TABLE) {
      for (let i = 0; i < 512; i++) {
        const e = l.pte[i]!;
        if ((e & KIND_MASK) === PRESENT) setPte(mm, l, i, e & ~(W | SD), Path.CLEAR_SOFT_DIRTY, Why.ARMED);
        else if ((e & KIND_MASK) === SWAP) setPte(mm, l, i, e & ~SD, Path.CLEAR_SOFT_DIRTY, Why.ARMED);
      }
    }
    l.gt.fill(0);
    l.cWhy.fill(0);
  }
}

/** UFFDIO_API + REGISTER(MODE_WP) + WRITEPROTECT(MODE_WP) over the VMA, done directly on the state. */
function armUffd(mm: Mm, vma: Vma, features: number, opts: { userModeOnly?: boolean; from?: number; to?: number } = {}): UffdCtx {
  const ctx = new UffdCtx(mm.sys.newUffdId(), mm.pid, 10 + mm.fds.size, opts.userModeOnly ?? false, false);
  ctx.apiDone = true;
  ctx.features = features;
  mm.fds.set(ctx.fd, ctx);
  vma.uffd = ctx;
  vma.flags |= VM_UFFD_WP;
  changeProtection(mm, vma, opts.from ?? vma.start, opts.to ?? vma.end, MM_CP_UFFD_WP, Path.UFFD_WP, Why.ARMED);
  for (const l of mm.leaves.values()) l.gt.fill(0);
  return ctx;
}
const ASYNC = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;

describe('pin_user_pages (mm/gup.c, §2.1.10, D21)', () => {
  it('a write pin faults in kernel mode (W D SD), sets MMF_HAS_PINNED and the folio pin count; truth: a kernel store', () => {
    const { sys, mm } = setup();
    map(mm, BV, 2);
    expect(doPin(mm, BV * PG, 2 * PG, true, true)).toBe(2);
    expect(mm.hasPinned).toBe(true);
    const pfn = leafOf(mm, BV).leaf.pfn[leafOf(mm, BV).i]!;
    expect(sys.frames.pins[pfn]).toBe(1);
    expect(sys.frames.maybePinned(pfn)).toBe(true);
    expect(has(entry(mm, BV), PRESENT | W | D | SD | EXCL)).toBe(true);
    expect(gt(mm, BV)).toBe(GT_W | GT_C);
    expect(pinnedPages(mm, BV)).toEqual([pfn]);
    expect(doUnpin(mm, BV * PG, 2 * PG)).toBe(2);
    expect(sys.frames.pins[pfn]).toBe(0);
    expect(mm.hasPinned).toBe(true); // MMF_HAS_PINNED is sticky
  });

  it('a write pin on a sync uffd-wp page with UFFD_USER_MODE_ONLY fails EFAULT; nothing stays pinned', () => {
    const { sys, mm } = setup();
    const v = map(mm, BV, 2);
    store(mm, BV);
    store(mm, BV + 1);
    armUffd(mm, v, 0, { userModeOnly: true, from: BV + 1, to: BV + 2 });
    expect(doPin(mm, BV * PG, 2 * PG, true, false)).toBe(-1);
    const pfn = leafOf(mm, BV).leaf.pfn[leafOf(mm, BV).i]!;
    expect(sys.frames.pins[pfn]).toBe(0);
    expect(pinnedPages(mm, BV)).toEqual([]);
  });

  it('a read pin of a page shared after fork unshares it (gup_must_unshare → wp_page_copy unshare: RO, SD kept, not dirty)', () => {
    const { sys, mm } = setup();
    map(mm, BV, 1);
    store(mm, BV);
    doFork(mm, 2);
    const old = leafOf(mm, BV).leaf.pfn[leafOf(mm, BV).i]!;
    const truth = gt(mm, BV);
    expect(doPin(mm, BV * PG, PG, false, false)).toBe(1);
    const e = entry(mm, BV);
    expect(has(e, PRESENT | EXCL | SD)).toBe(true);
    expect(e & (W | D)).toBe(0);
    expect(leafOf(mm, BV).leaf.pfn[leafOf(mm, BV).i]).not.toBe(old);
    expect(gt(mm, BV)).toBe(truth); // a read pin is no store
    expect(sys.mm(2)).toBeDefined();
  });

  it('errno: no VMA → EFAULT; a write pin of a read-only VMA → EFAULT (check_vma_flags)', () => {
    const { mm } = setup();
    map(mm, BV, 1, { prot: { read: true, write: false, exec: false } });
    expect(doPin(mm, (BV + 10) * PG, PG, false, false)).toBe(-1);
    expect(doPin(mm, BV * PG, PG, true, false)).toBe(-1);
    expect(doPin(mm, BV * PG, PG, false, false)).toBe(1);
  });
});

describe('DMA into pinned pages and pwrite (content truth only, D21–D23)', () => {
  it('a DMA write changes content truth (dma-write) with no PTE change; an unpinned page is an IOMMU fault (EFAULT)', () => {
    const { sys, mm } = setup();
    map(mm, BV, 2);
    doPin(mm, BV * PG, PG, true, true);
    store(mm, BV + 1);
    clearRefs(mm);
    const before = entry(mm, BV);
    const writes = sys.counters[COUNTER_INDEX.pte_writes]!;
    expect(doDmaWrite(mm, BV * PG, PG)).toBe(PG);
    expect(entry(mm, BV)).toBe(before);
    expect(sys.counters[COUNTER_INDEX.pte_writes]).toBe(writes);
    expect(gt(mm, BV)).toBe(GT_C);
    expect(cWhy(mm, BV)).toBe(Why.DMA);
    expect(doDmaWrite(mm, BV * PG, 2 * PG)).toBe(-1);
    expect(gt(mm, BV + 1)).toBe(0);
  });

  it('D23: pwrite to a file marks every mapping that shows the page (alias-write), not a private CoW copy', () => {
    const { sys, mm } = setup();
    const file: Backing = { kind: 'file', name: 'data' };
    map(mm, BV, 2, { shared: true, backing: file });
    map(mm, BV + 100, 2, { backing: file });
    load(mm, BV);
    load(mm, BV + 100);
    store(mm, BV + 101); // CoW: private anon copy
    clearRefs(mm);
    expect(doPwrite(sys, file, 0, 2 * PG)).toBe(2 * PG);
    expect(gt(mm, BV)).toBe(GT_C);
    expect(cWhy(mm, BV)).toBe(Why.ALIAS_WRITE);
    expect(gt(mm, BV + 100)).toBe(GT_C);
    expect(gt(mm, BV + 101)).toBe(0);
    expect(entry(mm, BV) & SD).toBe(0);
    expect(doPwrite(sys, { kind: 'anon' }, 0, 1)).toBe(-1);
  });
});

describe('kernel-mode sync uffd-wp faults under GUP (handle_userfault sleeps until resolved)', () => {
  it('a write pin resumes once the lane resolves the fault (setKernelFaultResolver); without one it ends with EINTR', () => {
    const { sys, mm } = setup();
    const v = map(mm, BV, 1);
    store(mm, BV);
    const ctx = armUffd(mm, v, 0);
    expect(doPin(mm, BV * PG, PG, true, false)).toBe(-1);
    expect(ctx.queue.length).toBe(1);
    setKernelFaultResolver(sys, (m, vpn) => {
      changeProtection(m, m.vmas.find(vpn)!, vpn, vpn + 1, MM_CP_UFFD_WP_RESOLVE, Path.UFFD_WP_RESOLVE, Why.WRITE);
    });
    expect(doPin(mm, BV * PG, PG, true, false)).toBe(1);
    expect(ctx.queue.length).toBe(2);
    expect(has(entry(mm, BV), PRESENT | W)).toBe(true);
    expect(entry(mm, BV) & UW).toBe(0);
  });
});
