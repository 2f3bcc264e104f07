/**
 * The op path's run-based walks give what a walk page by page gives: change_protection (mprotect,
 * uffd-wp arm and resolve) and the zap (munmap, MADV_DONTNEED) over a whole range against the same
 * call once per page on a twin system: the same entries, reasons, ground truth, change rows, page
 * references and PTE write count (the TLB flush counts differ by design: one flush per call).
 */
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../src/kernel/profile.js';
import { resetTruth } from '../src/lanes/truth.js';
import { Path, Why } from '../src/mm/cause.js';
import { COUNTER_INDEX } from '../src/mm/counters.js';
import { PteEventSink, type PteChangeBatch } from '../src/mm/events.js';
import type { Mm } from '../src/mm/mm.js';
import { changeProtection, MM_CP_TRY_CHANGE_WRITABLE, MM_CP_UFFD_WP, MM_CP_UFFD_WP_RESOLVE } from '../src/mm/mprotect.js';
import { DEFAULT_SYSFS, System } from '../src/mm/system.js';
import { TASK_SIZE_PAGES, UFFD_FEATURE_WP_UNPOPULATED } from '../src/mm/uapi.js';
import { VM_WRITE, type Vma } from '../src/mm/vma.js';
import { ZAP_DONTNEED, ZAP_UNMAP, zapRange } from '../src/mm/zap.js';
import { armUffd, BV, clearRefs, load, map, store } from './helpers/mm.js';

/** A process with a 1 300-page anon VMA over three PMD slots (not slot-aligned) holding runs of every kind of entry. */
function populated(rows: number[][], uffd: boolean): { mm: Mm; v: Vma } {
  const sink = new PteEventSink(0, (b: PteChangeBatch) => {
    for (let i = 0; i < b.n; i++) rows.push([b.vpn[i]!, b.count[i]!, b.level[i]!, b.old[i]!, b.new[i]!, b.path[i]!]);
  });
  // Without PT_RECLAIM: it frees a table only when one zap covers the whole slot, which a per-page zap never does.
  const sys = new System(0, resolveProfile('6.18', ['pt_reclaim=off']), { ...DEFAULT_SYSFS }, sink);
  const mm = sys.mm(1)!;
  const start = BV + 100;
  const v = map(mm, start, 1300);
  // Runs of stored pages (exclusive anon, dirty), loaded ones (the zero page), holes, in varied lengths.
  for (let p = 0, k = 0; p < 1300; k++) {
    const len = 1 + ((k * 37) % 90);
    for (let q = p; q < Math.min(1300, p + len); q++) {
      if (k % 3 === 0) store(mm, start + q);
      else if (k % 3 === 1) load(mm, start + q);
    }
    p += len + (k % 4 === 0 ? 7 : 0);
  }
  // Some pages stored again after the soft-dirty reset: SD set on a part of the runs.
  clearRefs(mm);
  for (let q = 0; q < 1300; q += 11) store(mm, start + q);
  if (uffd) armUffd(mm, v, UFFD_FEATURE_WP_UNPOPULATED, { from: start + 200, to: start + 900 });
  resetTruth(mm, 0, TASK_SIZE_PAGES);
  return { mm, v };
}

/** Everything of `mm` the walks may change, but the TLB flush counters. */
function state(mm: Mm, rows: number[][]): unknown {
  mm.sys.sink.flush();
  const leaves = [...mm.leaves.values()]
    .sort((a, b) => a.index - b.index)
    .map((l) => ({ i: l.index, pmd: l.pmd, pte: [...l.pte], pfn: [...l.pfn], gt: [...l.gt], sd: [...l.sdWhy], uw: [...l.uwWhy], c: [...l.cWhy] }));
  const f = mm.sys.frames;
  return {
    leaves,
    rows,
    mapcount: [...f.mapcount],
    refs: [...f.refs],
    flags: [...f.flags],
    live: f.live,
    pteWrites: mm.sys.counters[COUNTER_INDEX.pte_writes],
  };
}

/** Run `walk` over the VMA's whole range on one system and page by page on a twin; both states. */
function bulkAndPerPage(uffd: boolean, prepare: (mm: Mm, v: Vma) => void, walk: (mm: Mm, v: Vma, from: number, to: number) => void) {
  const out = [true, false].map((bulk) => {
    const rows: number[][] = [];
    const { mm, v } = populated(rows, uffd);
    prepare(mm, v);
    rows.length = 0;
    const [from, to] = [v.start, v.end];
    if (bulk) walk(mm, v, from, to);
    else for (let p = from; p < to; p++) walk(mm, v, p, p + 1);
    return { state: state(mm, rows), rows: rows.length };
  });
  expect(out[0]!.rows).toBeGreaterThan(0);
  expect(out[0]!.state).toEqual(out[1]!.state);
}

describe('change_protection on runs of identical entries', () => {
  it('write-protect (mprotect to read-only): the rows and entries of a per-page walk', () => {
    bulkAndPerPage(
      false,
      (_mm, v) => {
        v.flags &= ~VM_WRITE;
      },
      (mm, v, a, b) => changeProtection(mm, v, a, b, 0, Path.MPROTECT, Why.ARMED),
    );
  });

  it('upgrade to writable (MM_CP_TRY_CHANGE_WRITABLE after a read-only spell)', () => {
    bulkAndPerPage(
      false,
      (mm, v) => {
        v.flags &= ~VM_WRITE;
        changeProtection(mm, v, v.start, v.end, 0, Path.MPROTECT, Why.ARMED);
        v.flags |= VM_WRITE;
      },
      (mm, v, a, b) => changeProtection(mm, v, a, b, MM_CP_TRY_CHANGE_WRITABLE, Path.MPROTECT, Why.ARMED),
    );
  });

  it('uffd-wp arm with markers and resolve over a partly armed range', () => {
    bulkAndPerPage(
      true,
      () => {},
      (mm, v, a, b) => changeProtection(mm, v, a, b, MM_CP_UFFD_WP, Path.UFFD_WP, Why.ARMED),
    );
    bulkAndPerPage(
      true,
      () => {},
      (mm, v, a, b) => changeProtection(mm, v, a, b, MM_CP_UFFD_WP_RESOLVE, Path.UFFD_WP_RESOLVE, Why.WRITE),
    );
  });
});

describe('zap on runs of identical entries (page references dropped in runs)', () => {
  it('munmap and MADV_DONTNEED zaps: the rows, entries and page references of a per-page zap', () => {
    for (const mode of [ZAP_UNMAP, ZAP_DONTNEED])
      bulkAndPerPage(
        true,
        () => {},
        (mm, v, a, b) => zapRange(mm, v, a, b, mode),
      );
  });
});
