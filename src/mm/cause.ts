/**
 * Why a page-table entry changed: the kernel path that changed it. Every PTE/PMD change event carries
 * one of these codes; the store keeps them in a lookup table with these labels.
 */
export const Path = {
  /** The CPU set the accessed/dirty bit on an access through a present entry. */
  HW_ACCESS: 1,
  /** mm/memory.c:do_anonymous_page (first touch of anon memory). */
  DO_ANONYMOUS_PAGE: 2,
  /** mm/memory.c:do_read_fault / do_cow_fault / do_shared_fault (file and shmem). */
  DO_FAULT: 3,
  /** mm/memory.c:handle_pte_marker (uffd-wp marker, or a stale one cleared). */
  HANDLE_PTE_MARKER: 4,
  /** mm/memory.c:do_wp_page reusing the page (wp_page_reuse). */
  WP_PAGE_REUSE: 5,
  /** mm/memory.c:wp_page_copy (CoW, zero page). */
  WP_PAGE_COPY: 6,
  /** mm/memory.c:do_wp_page, async uffd-wp: UW cleared in place. */
  DO_WP_PAGE_UFFD_ASYNC: 7,
  /** mm/memory.c:do_swap_page. */
  DO_SWAP_PAGE: 8,
  /** mm/huge_memory.c:do_huge_pmd_anonymous_page. */
  DO_HUGE_PMD_ANONYMOUS_PAGE: 9,
  /** mm/huge_memory.c:do_huge_pmd_wp_page. */
  DO_HUGE_PMD_WP_PAGE: 10,
  /** mm/huge_memory.c:__split_huge_pmd_locked. */
  SPLIT_HUGE_PMD: 11,
  /** fs/proc/task_mmu.c:clear_soft_dirty / clear_soft_dirty_pmd (clear_refs 4). */
  CLEAR_SOFT_DIRTY: 12,
  /** fs/proc/task_mmu.c:clear_refs_pte_range young clearing (clear_refs 1..3). */
  CLEAR_REFS_YOUNG: 13,
  /** mm/mprotect.c:change_pte_range from mprotect. */
  MPROTECT: 14,
  /** mm/mprotect.c:change_pte_range with MM_CP_UFFD_WP (UFFDIO_WRITEPROTECT mode WP). */
  UFFD_WP: 15,
  /** mm/mprotect.c:change_pte_range with MM_CP_UFFD_WP_RESOLVE (un-protect). */
  UFFD_WP_RESOLVE: 16,
  /** fs/proc/task_mmu.c:make_uffd_wp_pte/pmd (PAGEMAP_SCAN with PM_SCAN_WP_MATCHING). */
  PAGEMAP_SCAN_WP: 17,
  /** mm/memory.c:zap_pte_range for MADV_DONTNEED / MADV_FREE discard. */
  ZAP_DONTNEED: 18,
  /** mm/memory.c:zap_pte_range for munmap / exit (markers dropped). */
  ZAP_UNMAP: 19,
  /** MADV_REMOVE hole punch (truncation drops markers). */
  ZAP_REMOVE: 20,
  /** mm/mremap.c:move_ptes (move_soft_dirty_pte). */
  MOVE_PTES: 21,
  /** mm/mremap.c:move_normal_pmd / move_huge_pmd (whole table or THP moved). */
  MOVE_PMD: 22,
  /** mm/memory.c:copy_page_range at fork (both parent and child entries). */
  COPY_PAGE_RANGE: 23,
  /** mm/rmap.c:try_to_unmap_one (MADV_PAGEOUT / reclaim). */
  RECLAIM: 24,
  /** mm/khugepaged.c:collapse_huge_page (MADV_COLLAPSE). */
  COLLAPSE: 25,
  /** fs/userfaultfd.c:userfaultfd_clear_vma (UFFDIO_UNREGISTER, close of the uffd). */
  UFFD_CLEAR_VMA: 26,
  /** Page-table allocation without an entry change (WP on a hole with markers): level PMD. */
  PTE_ALLOC: 27,
  /** mm/gup.c pinning (FOLL_PIN; the fault it takes is recorded under its own path). */
  GUP: 28,
  /** mm/hugetlb.c:hugetlb_fault / hugetlb_no_page / hugetlb_wp. */
  HUGETLB_FAULT: 29,
  /** MADV_POPULATE_READ/WRITE and MAP_POPULATE (faults taken by the kernel). */
  POPULATE: 30,
} as const;
export type PathCode = (typeof Path)[keyof typeof Path];

export const PATH_LABELS: Record<number, string> = Object.fromEntries(Object.entries(Path).map(([k, v]) => [v, k.toLowerCase()]));

/**
 * Why a tracker's answer for a page is what it is when it differs from the truth. Kept per page and
 * per mechanism (soft-dirty, uffd-wp), set by the kernel path that made the tracker see a change that
 * was not a write, or lose one that was. Labels name the kernel rule (docs/kernel-rules.md §3).
 */
export const Why = {
  /** Armed by the last reset (clear_refs, WRITEPROTECT, WP_MATCHING scan): no reason yet. */
  ARMED: 0,
  /** A write the mechanism saw. */
  WRITE: 1,
  /** VM_SOFTDIRTY set on a new mapping (__mmap_region / __mmap_complete). */
  NEW_VMA: 2,
  /** VM_SOFTDIRTY on an existing VMA that a new mapping merged into or expanded. */
  VMA_MERGE: 3,
  /** VM_SOFTDIRTY from brk growth (do_brk_flags). */
  BRK: 4,
  /** SD set on a whole PMD-mapped THP by one store (do_huge_pmd_wp_page / pmd_mkdirty). */
  THP_GRANULARITY: 5,
  /** SD set on every subpage when a dirty PMD is split (__split_huge_pmd_locked, x86 pte_mkdirty). */
  THP_SPLIT_DIRTY: 6,
  /** SD set by mremap (move_soft_dirty_pte), or uffd-wp state cleared by mremap. */
  MREMAP_MOVE: 7,
  /** State dropped by MADV_DONTNEED (zap_pte_range). */
  DONTNEED_ZAP: 8,
  /** Anon pte_none / hole not write-protected: uffd-wp without WP_UNPOPULATED markers. */
  UNPOPULATED: 9,
  /** The zero page was mapped without uffd-wp, so the CoW that replaces it sends no message. */
  ZERO_PAGE: 10,
  /** The VMA lost its uffd registration (mremap without EVENT_REMAP, munmap + mmap). */
  REGISTRATION_LOST: 11,
  /** A VMA that appeared after the monitor's last registration pass (untracked). */
  NEW_VMA_UNREGISTERED: 12,
  /** Inherited by a fork child (copy_page_range copies SD; UW dropped without EVENT_FORK). */
  FORK_CHILD: 13,
  /** clear_refs skipped a pinned writable page (pte_is_pinned). */
  PINNED: 14,
  /** SD set on a collapsed THP (collapse_huge_page pmd_mkdirty). */
  COLLAPSE: 15,
  /** State lost when the PTE was reclaimed (shmem/file PTE cleared). */
  RECLAIM: 16,
  /** hugetlb: soft-dirty is read from VM_SOFTDIRTY only (pagemap_hugetlb_range). */
  HUGETLB: 17,
  /** uffd closed or unregistered: all UW and markers reset (userfaultfd_clear_vma). */
  UFFD_CLOSED: 18,
  /** MADV_REMOVE hole punch. */
  MADV_REMOVE: 19,
  /** Content changed through another mapping or the file (alias store, pwrite): no PTE here saw it. */
  ALIAS_WRITE: 20,
  /** A device wrote the page by DMA. */
  DMA: 21,
  /** The memory type cannot be registered for this mode (vma_can_userfault). */
  NOT_REGISTRABLE: 22,
  /** A PAGEMAP_SCAN with WP_MATCHING skipped, or failed with EPERM on, a non-async VMA. */
  SCAN_SKIPPED: 23,
  /** The write faulted in kernel mode on a USER_MODE_ONLY uffd and failed with EFAULT. */
  USER_MODE_ONLY: 24,
  /** The page was unmapped or remapped with new content (GT_c only). */
  REMAPPED: 25,
  /** clear_refs 4 is whole-mm: another consumer's reset cleared SD on this page outside its range (D27). */
  CLEAR_REFS_WHOLE_MM: 26,
  /** Another userfaultfd of the process owns the VMA: the tracker's UFFDIO_REGISTER got EBUSY. */
  OTHER_UFFD: 27,
  /** uffd-wp on hugetlb is per huge page: one store makes all its subpages written. */
  HUGETLB_GRANULARITY: 28,
  /**
   * The kernel has no zero page (mm_forbids_zeropage): a read fault allocated the page dirty and
   * writable, so it reads soft-dirty without a store and, mapped without UW, no later store faults.
   */
  READ_ALLOC: 29,
  /**
   * MADV_POPULATE_WRITE or MAP_POPULATE (of a private writable mapping) faulted the page in for write
   * (faultin_page with FOLL_WRITE): dirty, soft-dirty and no longer write-protected, but nothing was stored.
   */
  POPULATE_WRITE: 30,
  /**
   * Another consumer's UFFDIO_WRITEPROTECT or PAGEMAP_SCAN(WP_MATCHING) changed the page's uffd-wp
   * protection (a raw call of the trace: it acts on any WP-registered VMA of the process).
   */
  OTHER_CONSUMER_WP: 32,
  /** The page was added to its VMA by an in-place mremap growth (vma_expand): no reset armed it. */
  MREMAP_GROW: 33,
  /** Anything the model could not attribute (a bug if it shows up). */
  OTHER: 31,
} as const;
export type WhyCode = (typeof Why)[keyof typeof Why];

export const WHY_LABELS: Record<number, string> = {
  [Why.ARMED]: 'armed',
  [Why.WRITE]: 'write',
  [Why.NEW_VMA]: 'new-vma-softdirty',
  [Why.VMA_MERGE]: 'vma-merge-softdirty',
  [Why.BRK]: 'brk-softdirty',
  [Why.THP_GRANULARITY]: 'thp-granularity',
  [Why.THP_SPLIT_DIRTY]: 'thp-split-dirty-carry',
  [Why.MREMAP_MOVE]: 'mremap-move',
  [Why.DONTNEED_ZAP]: 'dontneed-zap',
  [Why.UNPOPULATED]: 'unpopulated-no-marker',
  [Why.ZERO_PAGE]: 'zero-page',
  [Why.REGISTRATION_LOST]: 'registration-lost',
  [Why.NEW_VMA_UNREGISTERED]: 'new-vma-unregistered',
  [Why.FORK_CHILD]: 'fork-child',
  [Why.PINNED]: 'pinned-page',
  [Why.COLLAPSE]: 'thp-collapse',
  [Why.RECLAIM]: 'reclaim',
  [Why.HUGETLB]: 'hugetlb-softdirty-blind',
  [Why.UFFD_CLOSED]: 'uffd-closed',
  [Why.MADV_REMOVE]: 'madv-remove',
  [Why.ALIAS_WRITE]: 'alias-write',
  [Why.DMA]: 'dma-write',
  [Why.NOT_REGISTRABLE]: 'not-registrable',
  [Why.SCAN_SKIPPED]: 'scan-skipped-vma',
  [Why.USER_MODE_ONLY]: 'user-mode-only-efault',
  [Why.REMAPPED]: 'remapped',
  [Why.CLEAR_REFS_WHOLE_MM]: 'clear-refs-whole-mm',
  [Why.OTHER_UFFD]: 'owned-by-other-uffd',
  [Why.HUGETLB_GRANULARITY]: 'hugetlb-granularity',
  [Why.READ_ALLOC]: 'read-fault-alloc',
  [Why.POPULATE_WRITE]: 'populate-write',
  [Why.OTHER_CONSUMER_WP]: 'other-consumer-wp',
  [Why.MREMAP_GROW]: 'mremap-grow',
  [Why.OTHER]: 'other',
};
