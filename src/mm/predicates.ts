/**
 * Derived predicates of docs/kernel-rules.md §1.2, each named after the kernel helper it models.
 */
import type { Mm } from './mm.js';
import { SD, UW } from './pte.js';
import { type Vma, VM_HUGEPAGE, VM_HUGETLB, VM_MAYSHARE, VM_NOHUGEPAGE, VM_SHARED, VM_SOFTDIRTY, VM_UFFD_WP, VM_WRITE } from './vma.js';
import type { Sysfs } from './system.js';
import { PTRS_PER_PTE } from './uapi.js';

/**
 * mm/internal.h:vma_soft_dirty_enabled — tracking is on when VM_SOFTDIRTY is clear, and never
 * without CONFIG_MEM_SOFT_DIRTY (VM_SOFTDIRTY is then 0: the IS_ENABLED check comes first).
 */
export const vmaSoftDirtyEnabled = (mm: Mm, vma: Vma): boolean => mm.sys.profile.softDirty && (vma.flags & VM_SOFTDIRTY) === 0;

/** The VMA reads soft-dirty as a whole: VM_SOFTDIRTY, which is 0 without CONFIG_MEM_SOFT_DIRTY. */
export const vmaSoftDirtyFlag = (mm: Mm, vma: Vma): boolean => mm.sys.profile.softDirty && (vma.flags & VM_SOFTDIRTY) !== 0;

/** mm/internal.h:pte_needs_soft_dirty_wp. */
export const pteNeedsSoftDirtyWp = (mm: Mm, vma: Vma, pte: number): boolean => vmaSoftDirtyEnabled(mm, vma) && (pte & SD) === 0;

/** include/linux/userfaultfd_k.h:userfaultfd_wp. */
export const userfaultfdWp = (vma: Vma): boolean => (vma.flags & VM_UFFD_WP) !== 0;

/** userfaultfd_wp_async. */
export const userfaultfdWpAsync = (vma: Vma): boolean => vma.uffd?.wpAsync === true;

/** userfaultfd_pte_wp: the fault path only honours UW inside a WP-registered VMA. */
export const userfaultfdPteWp = (vma: Vma, pte: number): boolean => userfaultfdWp(vma) && (pte & UW) !== 0;

/** userfaultfd_wp_unpopulated. */
export const userfaultfdWpUnpopulated = (vma: Vma): boolean => userfaultfdWp(vma) && vma.uffd?.wpUnpopulated === true;

/** userfaultfd_wp_use_markers: file, shmem and hugetlb always; anon only with WP_UNPOPULATED. */
export const userfaultfdWpUseMarkers = (vma: Vma): boolean => userfaultfdWp(vma) && (!vma.isAnon || userfaultfdWpUnpopulated(vma));

/** Does the backing file have ->page_mkwrite and dirty accounting? Regular files yes, shmem no. */
const fileWantsWritenotify = (vma: Vma): boolean => vma.obj !== null && vma.obj.kind === 'file';

/** mm/mmap.c:vma_wants_writenotify — shared writable mappings whose first write must fault. */
export function vmaWantsWritenotify(mm: Mm, vma: Vma): boolean {
  if ((vma.flags & (VM_WRITE | VM_SHARED)) !== (VM_WRITE | VM_SHARED)) return false;
  if (fileWantsWritenotify(vma)) return true;
  if (vmaSoftDirtyEnabled(mm, vma) && !vma.isHugetlb) return true;
  if (userfaultfdWp(vma)) return true;
  return false;
}

/** vm_page_prot grants write: shared writable mappings without writenotify. Private mappings never (PAGE_COPY). */
export const vmPageProtWritable = (mm: Mm, vma: Vma): boolean =>
  (vma.flags & (VM_WRITE | VM_SHARED)) === (VM_WRITE | VM_SHARED) && !vmaWantsWritenotify(mm, vma);

/** include/linux/mm.h:vma_wants_manual_pte_write_upgrade. */
export const vmaWantsManualPteWriteUpgrade = (mm: Mm, vma: Vma): boolean =>
  (vma.flags & VM_SHARED) !== 0 ? vmaWantsWritenotify(mm, vma) : (vma.flags & VM_WRITE) !== 0;

/**
 * thp_vma_allowable_order(PMD_ORDER) + thp_vma_suitable_order for an anon fault in slot `slot`:
 * may the fault install a PMD-mapped THP?
 */
export function thpAllowed(vma: Vma, slot: number, sysfs: Sysfs): boolean {
  if (!vma.isAnon || (vma.flags & (VM_HUGETLB | VM_NOHUGEPAGE)) !== 0 || (vma.flags & VM_MAYSHARE) !== 0) return false;
  const start = slot * PTRS_PER_PTE;
  if (start < vma.start || start + PTRS_PER_PTE > vma.end) return false;
  if (sysfs.thp === 'always') return true;
  return sysfs.thp === 'madvise' && (vma.flags & VM_HUGEPAGE) !== 0;
}
