/**
 * Compare a lane's reported dirty set with ground truth, page by page, and name the reason for every
 * false page (src/mm/cause.ts Why codes, docs/kernel-rules.md §3).
 */
import { Why, WHY_LABELS } from '../mm/cause.js';
import { GT_C, GT_W, type Leaf } from '../mm/leaf.js';
import type { Mm } from '../mm/mm.js';
import { userfaultfdWpUseMarkers } from '../mm/predicates.js';
import { PTRS_PER_PTE } from '../mm/uapi.js';
import { VM_SOFTDIRTY, VM_UFFD_WP, type Vma } from '../mm/vma.js';
import type { CollectResult } from './results.js';
import { CollectPagesBuilder, cpBits, type CollectPages } from './collect-pages.js';
import type { TrackerKind } from './config.js';
import type { PageRanges } from './ranges.js';
import type { UffdCtx } from '../mm/uffd-ctx.js';
import { MONITOR_FD } from './drivers/uffd-monitor.js';

/** The accuracy part of a collect result. */
export type Evaluation = Pick<CollectResult, 'reported' | 'trueW' | 'trueC' | 'tp' | 'fp' | 'fn' | 'fpC' | 'fnC' | 'fpWhy' | 'fnWhy'>;

/**
 * The tracker-side reason for page i of `leaf` (or of a leaf-less slot) in `vma`. `own` is the
 * lane's uffd monitor context in this process (undefined before it has one).
 */
function whyOf(kind: TrackerKind, vma: Vma, leaf: Leaf | undefined, i: number, reported: boolean, own: UffdCtx | undefined): number {
  if (kind === 'soft-dirty') {
    if (reported && vma.flags & VM_SOFTDIRTY) return vma.sdWhy;
    const w = leaf ? leaf.sdWhy[i]! : Why.ARMED;
    if (w > Why.WRITE) return w;
    if (vma.isHugetlb) return Why.HUGETLB;
    return Why.OTHER;
  }
  // Another userfaultfd of the process owns the VMA: the lane's register got EBUSY, or the VMA was
  // registered by the other one before the lane's monitor came to it.
  if (vma.uffdWhy === Why.OTHER_UFFD || (vma.uffd !== null && vma.uffd !== own)) return Why.OTHER_UFFD;
  if (reported && vma.isHugetlb) return Why.HUGETLB_GRANULARITY;
  const w = leaf ? leaf.uwWhy[i]! : Why.ARMED;
  if (w > Why.WRITE) return w;
  if (vma.uffd === null || !(vma.flags & VM_UFFD_WP)) return vma.uffdWhy > Why.WRITE ? vma.uffdWhy : Why.NEW_VMA_UNREGISTERED;
  // uffd-wp on hugetlb works per huge page: a reset of part of one fails (EINVAL) and re-arms nothing.
  if (vma.isHugetlb) return Why.HUGETLB_GRANULARITY;
  if (!userfaultfdWpUseMarkers(vma)) return Why.UNPOPULATED;
  return Why.OTHER;
}

function contentWhy(vma: Vma, leaf: Leaf, i: number): number {
  const w = leaf.cWhy[i]!;
  if (w > Why.WRITE) return w;
  return vma.newContent ? Why.REMAPPED : Why.OTHER;
}

const bump = (o: Record<string, number>, why: number, n: number) => {
  const k = WHY_LABELS[why] ?? `why-${why}`;
  o[k] = (o[k] ?? 0) + n;
};

/** The page list builder of every evaluation of this thread (evaluate() takes its runs out before it returns). */
const builder = new CollectPagesBuilder();

/** The running tallies of one evaluation and its run-length encoded page list. */
class Tally {
  readonly ev: Evaluation = { reported: 0, trueW: 0, trueC: 0, tp: 0, fp: 0, fn: 0, fpC: 0, fnC: 0, fpWhy: {}, fnWhy: {} };
  readonly pages = builder;

  constructor() {
    builder.clear();
  }

  add(vpn: number, count: number, reported: boolean, gtW: boolean, gtC: boolean, why: number): void {
    const ev = this.ev;
    if (reported) ev.reported += count;
    if (gtW) ev.trueW += count;
    if (gtC) ev.trueC += count;
    if (reported && gtW) ev.tp += count;
    if (reported && !gtW) {
      ev.fp += count;
      bump(ev.fpWhy, why, count);
    }
    if (!reported && gtW) {
      ev.fn += count;
      bump(ev.fnWhy, why, count);
    }
    if (reported && !gtC) ev.fpC += count;
    if (!reported && gtC) ev.fnC += count;
    if (!reported && !gtW && !gtC) return; // nothing to say about a clean, unreported page
    this.pages.push(vpn, count, cpBits(reported, gtW, gtC), why);
  }
}

/**
 * Walk the pages of every VMA of `mm` inside [start, end) in address order, in spans where the
 * reported state is constant. Slots without a leaf are handled in blocks (no GT_w, no per-page
 * reasons; GT_c from the mm's spans), so a sparse terabyte VMA costs little; in a span that is not reported and holds no new
 * content only pages with some truth are looked at.
 */
export function evaluate(mm: Mm, start: number, end: number, reportedSet: PageRanges, kind: TrackerKind): Evaluation & { pages: CollectPages } {
  const tally = new Tally();
  const own = mm.fds.get(MONITOR_FD);
  const r = reportedSet.r;
  let ri = 0;
  for (const vma of mm.vmas.intersecting(start, end)) {
    const hi = Math.min(end, vma.end);
    let p = Math.max(start, vma.start);
    while (p < hi) {
      while (ri < r.length && r[ri + 1]! <= p) ri += 2;
      const reported = ri < r.length && r[ri]! <= p;
      const until = ri >= r.length ? hi : Math.min(hi, reported ? r[ri + 1]! : r[ri]!);
      evaluateSpan(tally, mm, vma, p, until, reported, kind, own);
      p = until;
    }
  }
  return { ...tally.ev, pages: tally.pages.take() };
}

/** Pages [p, until) of `vma`, all with the same reported state. */
function evaluateSpan(
  tally: Tally,
  mm: Mm,
  vma: Vma,
  p: number,
  until: number,
  reported: boolean,
  kind: TrackerKind,
  own: UffdCtx | undefined,
): void {
  const anyTruth = reported || vma.newContent;
  while (p < until) {
    const slot = Math.floor(p / PTRS_PER_PTE);
    const slotEnd = Math.min(until, (slot + 1) * PTRS_PER_PTE);
    const leaf = mm.leafAt(slot);
    if (leaf === undefined) {
      evaluateLeaflessSlot(tally, mm, vma, p, slotEnd, reported, kind, own);
      p = slotEnd;
      continue;
    }
    const gts = leaf.gt;
    const base = leaf.base;
    // Loop over the index in the leaf (a small integer; a page number would be boxed at every step).
    for (let i = p - base, iEnd = slotEnd - base; i < iEnd; i++) {
      const gt = gts[i]!;
      if (gt === 0 && !anyTruth) continue;
      const gtW = (gt & GT_W) !== 0;
      const gtC = (gt & GT_C) !== 0 || vma.newContent;
      let why = 0;
      if (reported !== gtW) why = whyOf(kind, vma, leaf, i, reported, own);
      else if (reported !== gtC) why = contentWhy(vma, leaf, i);
      tally.add(base + i, 1, reported, gtW, gtC, why);
    }
    p = slotEnd;
  }
}

/**
 * Pages [p, slotEnd) of a slot without a leaf: no GT_w and no per-page reasons; GT_c (cause REMAPPED)
 * where the VMA is new as a whole or the mm keeps the pages as new without a leaf.
 */
function evaluateLeaflessSlot(
  tally: Tally,
  mm: Mm,
  vma: Vma,
  p: number,
  slotEnd: number,
  reported: boolean,
  kind: TrackerKind,
  own: UffdCtx | undefined,
): void {
  const why = reported ? whyOf(kind, vma, undefined, 0, true, own) : 0;
  if (vma.newContent || mm.newWithoutLeaf.empty) {
    addLeafless(tally, p, slotEnd, reported, vma.newContent, why);
    return;
  }
  const spans = mm.newWithoutLeaf.within(p, slotEnd);
  for (let k = 0; k < spans.length; k += 2) {
    addLeafless(tally, p, spans[k]!, reported, false, why);
    addLeafless(tally, spans[k]!, spans[k + 1]!, reported, true, why);
    p = spans[k + 1]!;
  }
  addLeafless(tally, p, slotEnd, reported, false, why);
}

/** Pages [from, to) without a leaf: no GT_w; a reported block gets the tracker's reason, new content REMAPPED. */
function addLeafless(tally: Tally, from: number, to: number, reported: boolean, gtC: boolean, trackerWhy: number): void {
  if (to > from) tally.add(from, to - from, reported, false, gtC, reported ? trackerWhy : gtC ? Why.REMAPPED : 0);
}
