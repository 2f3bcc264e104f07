/** Non-cooperative userfaultfd events (UNMAP, REMOVE, REMAP) and registration loss bookkeeping. */
import { Why, type WhyCode } from './cause.js';
import type { Mm } from './mm.js';
import {
  UFFD_EVENT_REMAP,
  UFFD_EVENT_REMOVE,
  UFFD_EVENT_UNMAP,
  UFFD_FEATURE_EVENT_REMAP,
  UFFD_FEATURE_EVENT_REMOVE,
  UFFD_FEATURE_EVENT_UNMAP,
} from './uapi.js';
import { VM_UFFD_WP, type Vma } from './vma.js';
import type { UffdCtx } from './uffd-ctx.js';
import { CTR } from './counters.js';

const MAX_LOST = 1024;

function queue(mm: Mm, ctx: UffdCtx, event: number, vpn: number, vpn2: number, pages = 0): void {
  const msg = { event, flags: 0, vpn, vpn2, pages, tid: mm.pid, t: mm.sys.now };
  ctx.queue.push(msg);
  mm.sys.count(CTR.uffd_msgs);
  mm.sys.uffdListener?.onMessage(ctx, msg);
}

/** userfaultfd_unmap_prep/complete: UFFD_EVENT_UNMAP with UFFD_FEATURE_EVENT_UNMAP. */
export function queueUnmapEvent(mm: Mm, v: Vma): void {
  if (v.uffd && v.uffd.features & UFFD_FEATURE_EVENT_UNMAP) queue(mm, v.uffd, UFFD_EVENT_UNMAP, v.start, v.end);
}

/** userfaultfd_remove: UFFD_EVENT_REMOVE for MADV_DONTNEED/REMOVE with UFFD_FEATURE_EVENT_REMOVE. */
export function queueRemoveEvent(mm: Mm, v: Vma, start: number, end: number): void {
  if (v.uffd && v.uffd.features & UFFD_FEATURE_EVENT_REMOVE) queue(mm, v.uffd, UFFD_EVENT_REMOVE, start, end);
}

/** mremap_userfaultfd_complete(from, to, len): UFFD_EVENT_REMAP with UFFD_FEATURE_EVENT_REMAP (len in pages). */
export function queueRemapEvent(mm: Mm, ctx: UffdCtx, from: number, to: number, pages: number): void {
  if (ctx.features & UFFD_FEATURE_EVENT_REMAP) queue(mm, ctx, UFFD_EVENT_REMAP, from, to, pages);
}

/** Remember that a WP-registered range was unmapped, to label a later mapping there (D4). */
export function noteLostRegistration(mm: Mm, v: Vma): void {
  if (!(v.flags & VM_UFFD_WP)) return;
  if (mm.lostRegistrations.length >= MAX_LOST) mm.lostRegistrations.shift();
  mm.lostRegistrations.push({ start: v.start, end: v.end });
}

/** Why a new mapping over [start, end) is unregistered: it replaced a registered one, or it is just new. */
export function lostRegistrationWhy(mm: Mm, start: number, end: number): WhyCode {
  return mm.lostRegistrations.some((r) => r.start < end && r.end > start) ? Why.REGISTRATION_LOST : Why.NEW_VMA_UNREGISTERED;
}
