/**
 * The userfaultfd syscall and ioctls that matter for write-protect tracking (fs/userfaultfd.c,
 * mm/userfaultfd.c; docs/kernel-rules.md §2.3–§2.5, §2.8). Byte addresses in, errno recorded.
 */
import { Path, Why } from '../mm/cause.js';
import type { Mm } from '../mm/mm.js';
import { mergeAfterFlagChange } from '../mm/mmap.js';
import { hex } from '../mm/hex.js';
import { MM_CP_TRY_CHANGE_WRITABLE, MM_CP_UFFD_WP, MM_CP_UFFD_WP_RESOLVE, changeProtection } from '../mm/mprotect.js';
import { vmaWantsManualPteWriteUpgrade } from '../mm/predicates.js';
import {
  HPAGE_PMD_NR,
  MMAP_MIN_ADDR,
  PAGE_SIZE,
  TASK_SIZE,
  UFFD_API,
  UFFD_FEATURE_WP_ASYNC,
  UFFD_FEATURE_WP_UNPOPULATED,
  UFFDIO_REGISTER_MODE_MINOR,
  UFFDIO_REGISTER_MODE_MISSING,
  UFFDIO_REGISTER_MODE_WP,
  UFFDIO_WRITEPROTECT_MODE_DONTWAKE,
  UFFDIO_WRITEPROTECT_MODE_WP,
} from '../mm/uapi.js';
import { VM_MAYWRITE, VM_SOFTDIRTY, VM_UFFD_ALL, VM_UFFD_MINOR, VM_UFFD_MISSING, VM_UFFD_WP, type Vma } from '../mm/vma.js';
import type { UffdFlag } from '../trace/types.js';
import { UffdCtx } from '../mm/uffd-ctx.js';
import { CTR } from '../mm/counters.js';

/** Feature bits a kernel profile supports (UFFD_API_FEATURES masked by what the build has). */
export function supportedFeatures(mm: Mm): number {
  const p = mm.sys.profile;
  let f = (1 << 13) - 1; // PAGEFAULT_FLAG_WP .. WP_HUGETLBFS_SHMEM (v5.19)
  if (p.wpUnpopulated) f |= UFFD_FEATURE_WP_UNPOPULATED | (1 << 14); // + POISON (v6.6)
  if (p.wpAsync) f |= UFFD_FEATURE_WP_ASYNC | (1 << 16); // + MOVE (v6.8)
  return f;
}

/** userfaultfd(2): a new context owned by this process, installed as `fd`. */
export function uffdUserfaultfd(mm: Mm, fd: number, flags: UffdFlag[]): number {
  const ctx = new UffdCtx(mm.sys.newUffdId(), mm.pid, fd, flags.includes('user_mode_only'), flags.includes('nonblock'));
  mm.fds.set(fd, ctx);
  return mm.sys.result(mm.pid, 'userfaultfd', flags.join('|') || '0', fd, null);
}

function ctxOf(mm: Mm, fd: number): UffdCtx | null {
  return mm.fds.get(fd) ?? null;
}

/**
 * The mm a context works on (ctx->mm): the process that created it — a uffd inherited through fork
 * still registers and write-protects the parent's address space. Null once that process is gone
 * (mmget_not_zero fails).
 */
function ctxMm(mm: Mm, ctx: UffdCtx): Mm | null {
  const owner = mm.sys.mms.get(ctx.pid);
  return owner !== undefined && !owner.exited ? owner : null;
}

/**
 * UFFDIO_API: api must be 0xAA; only the first successful call counts (a failed one does not use it
 * up, as probed); unsupported feature bits → EINVAL; WP_ASYNC implies WP_UNPOPULATED.
 */
export function uffdioApi(mm: Mm, fd: number, api: number, features: number): number {
  const args = `fd=${fd}, api=${hex(api)}, features=${hex(features)}`;
  const ctx = ctxOf(mm, fd);
  if (ctx === null) return mm.sys.result(mm.pid, 'UFFDIO_API', args, -1, 'EBADF');
  if (ctx.apiDone || api !== UFFD_API || (features & ~supportedFeatures(mm)) !== 0) {
    return mm.sys.result(mm.pid, 'UFFDIO_API', args, -1, 'EINVAL');
  }
  if (features & UFFD_FEATURE_WP_ASYNC) features |= UFFD_FEATURE_WP_UNPOPULATED;
  ctx.features = features;
  ctx.apiDone = true;
  return mm.sys.result(mm.pid, 'UFFDIO_API', args, 0, null);
}

/** validate_range(): page-aligned start and len, len > 0, inside [mmap_min_addr, TASK_SIZE]. */
function validRange(start: number, len: number): boolean {
  return start % PAGE_SIZE === 0 && len % PAGE_SIZE === 0 && len > 0 && start >= MMAP_MIN_ADDR && start + len <= TASK_SIZE;
}

/** mm/userfaultfd.c:vma_can_userfault. */
function vmaCanUserfault(vma: Vma, vmFlags: number, wpAsync: boolean): boolean {
  if (vmFlags & VM_UFFD_MINOR && !(vma.isHugetlb || vma.isShmem)) return false;
  if (wpAsync && vmFlags === VM_UFFD_WP) return true;
  return vma.isAnon || vma.isHugetlb || vma.isShmem;
}

/**
 * UFFDIO_REGISTER: every VMA in range is checked first (EINVAL memory type, EPERM !VM_MAYWRITE,
 * EBUSY other context, hugetlb alignment); then VM_UFFD_* and the context are set, splitting and
 * merging at the edges. No PTE is touched: pages are not protected until WRITEPROTECT (§2.4).
 */
export function uffdioRegister(mm: Mm, fd: number, start: number, len: number, mode: number): number {
  const args = `fd=${fd}, ${hex(start)}+${len}, mode=${mode}`;
  const fail = (e: string) => mm.sys.result(mm.pid, 'UFFDIO_REGISTER', args, -1, e);
  mm.sys.count(CTR.uffdio_register_calls);
  const ctx = ctxOf(mm, fd);
  if (ctx === null) return fail('EBADF');
  if (!ctx.apiDone) return fail('EINVAL');
  const known = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP | UFFDIO_REGISTER_MODE_MINOR;
  if (mode === 0 || (mode & ~known) !== 0) return fail('EINVAL');
  if (!validRange(start, len)) return fail('EINVAL');
  const owner = ctxMm(mm, ctx);
  if (owner === null) return fail('ESRCH');
  mm = owner;
  const vmFlags =
    (mode & UFFDIO_REGISTER_MODE_MISSING ? VM_UFFD_MISSING : 0) |
    (mode & UFFDIO_REGISTER_MODE_WP ? VM_UFFD_WP : 0) |
    (mode & UFFDIO_REGISTER_MODE_MINOR ? VM_UFFD_MINOR : 0);
  const s = start / PAGE_SIZE;
  const e = s + len / PAGE_SIZE;
  const vmas = mm.vmas.intersecting(s, e);
  if (vmas.length === 0) return fail('EINVAL');
  // A hugetlb VMA at either end: the range must start and end on huge-page boundaries.
  if (mm.vmas.splitRefused(s, e)) return fail('EINVAL');
  for (const v of vmas) {
    if (!vmaCanUserfault(v, vmFlags, ctx.wpAsync)) return fail('EINVAL');
    if (!(v.flags & VM_MAYWRITE)) return fail('EPERM');
    if (v.uffd !== null && v.uffd !== ctx) return fail('EBUSY');
    if (v.isHugetlb && Math.min(e, v.end) % HPAGE_PMD_NR !== 0) return fail('EINVAL');
  }
  // userfaultfd_register_range: VMA by VMA; one already registered to this context with these modes
  // is left alone (no split); the walk resumes after the (possibly merged) VMA.
  for (let cursor = s; cursor < e; ) {
    const v = mm.vmas.intersecting(cursor, e)[0];
    if (v === undefined) break;
    if (v.uffd === ctx && (v.flags & vmFlags) === vmFlags) {
      cursor = v.end;
      continue;
    }
    const lo = Math.max(cursor, v.start);
    const merges = pieceMerges(mm, v, lo);
    let piece = mm.vmas.isolate(lo, Math.min(e, v.end)).find((x) => x.start === lo)!;
    const flags = (piece.flags & ~VM_UFFD_ALL) | vmFlags;
    piece.flags = flags;
    piece.uffd = ctx;
    piece.uffdWhy = Why.ARMED;
    if (merges) piece = mergeRegistered(mm, piece, flags);
    cursor = piece.end;
  }
  return mm.sys.result(mm.pid, 'UFFDIO_REGISTER', args, 0, null);
}

/**
 * userfaultfd_(un)register: does the piece of `v` from page `lo` on merge with its neighbours? Before
 * v6.4 vma_merge got v's own pgoff, which fits only a piece that starts at v's start
 * (uffdRegisterMergesCutPiece).
 */
function pieceMerges(mm: Mm, v: Vma, lo: number): boolean {
  return lo === v.start || mm.sys.profile.uffdRegisterMergesCutPiece;
}

/**
 * The registered piece merges with its neighbours (mergeAfterFlagChange). The 6.12 profile keeps the
 * surviving neighbour's VM_SOFTDIRTY instead of the piece's (uffdRegisterMergeKeepsTargetSoftDirty).
 */
function mergeRegistered(mm: Mm, piece: Vma, flags: number): Vma {
  if (!mm.sys.profile.uffdRegisterMergeKeepsTargetSoftDirty) return mergeAfterFlagChange(mm, piece, flags);
  const [lo, hi] = [piece.start, piece.end];
  const side = (v: Vma | null) => (v === null ? null : { sd: v.flags & VM_SOFTDIRTY, why: v.sdWhy });
  const prev = side(mm.vmas.endingAt(lo));
  const next = side(mm.vmas.startingAt(hi));
  const merged = mergeAfterFlagChange(mm, piece, flags);
  const target = merged.start < lo ? prev : merged.end > hi ? next : null;
  if (target !== null) {
    merged.flags = (merged.flags & ~VM_SOFTDIRTY) | target.sd;
    merged.sdWhy = target.why;
  }
  return merged;
}

/**
 * mm/userfaultfd.c:uffd_wp_range: write-protect (MM_CP_UFFD_WP) or un-protect (MM_CP_UFFD_WP_RESOLVE,
 * upgrading to writable where the VMA wants manual upgrades, v6.3+).
 */
export function uffdWpRange(mm: Mm, vma: Vma, start: number, end: number, enable: boolean, path: number, why: number): number {
  let cp = enable ? MM_CP_UFFD_WP : MM_CP_UFFD_WP_RESOLVE;
  if (!enable && vmaWantsManualPteWriteUpgrade(mm, vma) && mm.sys.profile.uffdResolveMakesWritable) cp |= MM_CP_TRY_CHANGE_WRITABLE;
  const r = changeProtection(mm, vma, start, end, cp, path, why);
  return r.walked;
}

/**
 * UFFDIO_WRITEPROTECT → mwriteprotect_range: EAGAIN while mmap_changing; EINVAL for bad mode bits
 * (WP|DONTWAKE together) or range; ENOENT when a VMA in range is not WP-registered — VMAs before it
 * were already changed (probed) — or, before v6.5, when the range leaves its first VMA.
 * `why` labels un-protects (the sync monitor passes Why.WRITE).
 */
export function uffdioWriteprotect(mm: Mm, fd: number, start: number, len: number, mode: number, why: number = Why.ARMED): number {
  mm.sys.count(CTR.uffdio_writeprotect_calls);
  const errno = writeprotect(mm, fd, start, len, mode, why);
  // The text of the op row only when result() writes one: the sync monitor un-protects quietly at every WP fault.
  const sys = mm.sys;
  const args = sys.opSink === null || (sys.quiet && errno === null) ? '' : `fd=${fd}, ${hex(start)}+${len}, mode=${mode}`;
  return sys.result(mm.pid, 'UFFDIO_WRITEPROTECT', args, 0, errno);
}

/** uffdioWriteprotect's work: the errno, or null once the range is done. */
function writeprotect(mm: Mm, fd: number, start: number, len: number, mode: number, why: number): string | null {
  const ctx = ctxOf(mm, fd);
  if (ctx === null) return 'EBADF';
  if (!ctx.apiDone) return 'EINVAL';
  if (ctx.mmapChanging > 0) return 'EAGAIN';
  if ((mode & ~(UFFDIO_WRITEPROTECT_MODE_WP | UFFDIO_WRITEPROTECT_MODE_DONTWAKE)) !== 0) return 'EINVAL';
  if (mode & UFFDIO_WRITEPROTECT_MODE_WP && mode & UFFDIO_WRITEPROTECT_MODE_DONTWAKE) return 'EINVAL';
  if (!validRange(start, len)) return 'EINVAL';
  const owner = ctxMm(mm, ctx);
  if (owner === null) return 'ESRCH';
  mm = owner;
  const enable = (mode & UFFDIO_WRITEPROTECT_MODE_WP) !== 0;
  const s = start / PAGE_SIZE;
  const e = s + len / PAGE_SIZE;
  const vmas = mm.vmas.intersecting(s, e);
  if (vmas.length === 0) return 'ENOENT';
  if (!mm.sys.profile.writeprotectMultiVma && (vmas.length > 1 || vmas[0]!.start > s || vmas[0]!.end < e)) return 'ENOENT';
  for (const v of vmas) {
    if (!(v.flags & VM_UFFD_WP)) return 'ENOENT';
    if (v.isHugetlb && (s % HPAGE_PMD_NR !== 0 || e % HPAGE_PMD_NR !== 0)) return 'EINVAL';
    const walked = uffdWpRange(
      mm,
      v,
      Math.max(s, v.start),
      Math.min(e, v.end),
      enable,
      enable ? Path.UFFD_WP : Path.UFFD_WP_RESOLVE,
      enable ? Why.ARMED : why,
    );
    mm.sys.count(CTR.uffdio_writeprotect_entries, walked);
  }
  return null;
}

/**
 * fs/userfaultfd.c:userfaultfd_clear_vma: un-protect WP VMAs (markers and UW reset) — on close only
 * from v6.8/6.9 — then drop the registration and merge (unless `merges` is false: a piece cut from
 * inside a VMA before v6.4, see uffdRegisterMergesCutPiece).
 */
function clearVma(mm: Mm, v: Vma, start: number, end: number, resetPtes: boolean, merges = true): Vma {
  if (resetPtes && v.flags & VM_UFFD_WP) uffdWpRange(mm, v, start, end, false, Path.UFFD_CLEAR_VMA, Why.UFFD_CLOSED);
  const flags = v.flags & ~VM_UFFD_ALL;
  v.flags = flags;
  v.uffd = null;
  v.uffdWhy = Why.UFFD_CLOSED;
  return merges ? mergeAfterFlagChange(mm, v, flags) : v;
}

/**
 * UFFDIO_UNREGISTER over [start, start+len) → userfaultfd_unregister: EINVAL when no VMA intersects
 * the range, when one of them fails vma_can_userfault(vma, vma->vm_flags, ctx's wp_async) — e.g.
 * an unregistered regular-file VMA — or is registered to another context (the "prevent
 * unregistering VMAs through a different userfaultfd" check, kreplay-probed on 6.18; without it,
 * profile.uffdUnregisterChecksCtx off, another context's VMAs are unregistered too). Nothing is
 * changed then. Otherwise every registered VMA in range is split at the range edges and cleared
 * (userfaultfd_clear_vma); VMAs without a context are skipped, not split.
 */
export function uffdioUnregister(mm: Mm, fd: number, start: number, len: number): number {
  const args = `fd=${fd}, ${hex(start)}+${len}`;
  const ctx = ctxOf(mm, fd);
  if (ctx === null) return mm.sys.result(mm.pid, 'UFFDIO_UNREGISTER', args, -1, 'EBADF');
  if (!ctx.apiDone || !validRange(start, len)) return mm.sys.result(mm.pid, 'UFFDIO_UNREGISTER', args, -1, 'EINVAL');
  const owner = ctxMm(mm, ctx);
  if (owner === null) return mm.sys.result(mm.pid, 'UFFDIO_UNREGISTER', args, -1, 'ESRCH');
  mm = owner;
  const s = start / PAGE_SIZE;
  const e = s + len / PAGE_SIZE;
  const vmas = mm.vmas.intersecting(s, e);
  const checksCtx = mm.sys.profile.uffdUnregisterChecksCtx;
  if (
    vmas.length === 0 ||
    mm.vmas.splitRefused(s, e) ||
    vmas.some((v) => !vmaCanUserfault(v, v.flags & VM_UFFD_ALL, ctx.wpAsync) || (checksCtx && v.uffd !== null && v.uffd !== ctx))
  ) {
    return mm.sys.result(mm.pid, 'UFFDIO_UNREGISTER', args, -1, 'EINVAL');
  }
  for (let cursor = s; cursor < e; ) {
    const v = mm.vmas.intersecting(cursor, e)[0];
    if (v === undefined) break;
    if (v.uffd === null) {
      cursor = v.end;
      continue;
    }
    const lo = Math.max(cursor, v.start);
    const merges = pieceMerges(mm, v, lo);
    const piece = mm.vmas.isolate(lo, Math.min(e, v.end)).find((x) => x.start === lo)!;
    cursor = clearVma(mm, piece, piece.start, piece.end, true, merges).end;
  }
  return mm.sys.result(mm.pid, 'UFFDIO_UNREGISTER', args, 0, null);
}

/** close(2) of a userfaultfd → userfaultfd_release: every VMA of the context is unregistered. */
export function uffdClose(mm: Mm, fd: number): number {
  const ctx = ctxOf(mm, fd);
  if (ctx === null) return mm.sys.result(mm.pid, 'close', `fd=${fd}`, -1, 'EBADF');
  mm.fds.delete(fd);
  // fork shares the file: the context is released with its last reference (userfaultfd_release).
  const held = [...mm.sys.mms.values()].some((o) => !o.exited && [...o.fds.values()].includes(ctx));
  if (!held) releaseCtx(mm, ctx);
  return mm.sys.result(mm.pid, 'close', `fd=${fd}`, 0, null);
}

export function releaseCtx(mm: Mm, ctx: UffdCtx): void {
  ctx.released = true;
  const owner = mm.sys.mms.get(ctx.pid) ?? mm;
  for (const v of [...owner.vmas.list]) if (v.uffd === ctx) clearVma(owner, v, v.start, v.end, mm.sys.profile.uffdCloseResetsPtes);
}
