/**
 * UAPI constants, as in include/uapi/linux/userfaultfd.h, include/uapi/linux/fs.h and
 * fs/proc/task_mmu.c (docs/kernel-rules.md §0.4).
 */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** Entries per page table (PTRS_PER_PTE) and pages per PMD-mapped THP (HPAGE_PMD_NR). */
export const PTRS_PER_PTE = 512;
export const HPAGE_PMD_NR = 512;
/** x86-64 TASK_SIZE (47-bit user space, 4-level paging). */
export const TASK_SIZE = 0x7ffffffff000;
export const TASK_SIZE_PAGES = TASK_SIZE / PAGE_SIZE;
/** vm.mmap_min_addr default. */
export const MMAP_MIN_ADDR = 0x10000;

/* pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst) */
export const PM_PFN_BITS = 55;
export const PM_SOFT_DIRTY = 55;
export const PM_MMAP_EXCLUSIVE = 56;
export const PM_UFFD_WP = 57;
export const PM_GUARD_REGION = 58;
export const PM_FILE = 61;
export const PM_SWAP = 62;
export const PM_PRESENT = 63;

/* PAGEMAP_SCAN categories */
export const PAGE_IS_WPALLOWED = 1 << 0;
export const PAGE_IS_WRITTEN = 1 << 1;
export const PAGE_IS_FILE = 1 << 2;
export const PAGE_IS_PRESENT = 1 << 3;
export const PAGE_IS_SWAPPED = 1 << 4;
export const PAGE_IS_PFNZERO = 1 << 5;
export const PAGE_IS_HUGE = 1 << 6;
export const PAGE_IS_SOFT_DIRTY = 1 << 7;
export const PAGE_IS_GUARD = 1 << 8;
export const PAGE_CATEGORY_NAMES = ['wpallowed', 'written', 'file', 'present', 'swapped', 'pfnzero', 'huge', 'soft_dirty', 'guard'] as const;

/* PAGEMAP_SCAN flags */
export const PM_SCAN_WP_MATCHING = 1 << 0;
export const PM_SCAN_CHECK_WPASYNC = 1 << 1;
export const PM_SCAN_FLAG_NAMES = ['wp_matching', 'check_wpasync'] as const;
/** sizeof(struct pm_scan_arg) and sizeof(struct page_region). */
export const PM_SCAN_ARG_SIZE = 96;
export const PAGE_REGION_SIZE = 24;

/* userfaultfd */
export const UFFD_API = 0xaa;
export const UFFD_FEATURE_NAMES = [
  'pagefault_flag_wp',
  'event_fork',
  'event_remap',
  'event_remove',
  'missing_hugetlbfs',
  'missing_shmem',
  'event_unmap',
  'sigbus',
  'thread_id',
  'minor_hugetlbfs',
  'minor_shmem',
  'exact_address',
  'wp_hugetlbfs_shmem',
  'wp_unpopulated',
  'poison',
  'wp_async',
  'move',
] as const;
export const UFFD_FEATURE_PAGEFAULT_FLAG_WP = 1 << 0;
export const UFFD_FEATURE_EVENT_FORK = 1 << 1;
export const UFFD_FEATURE_EVENT_REMAP = 1 << 2;
export const UFFD_FEATURE_EVENT_REMOVE = 1 << 3;
export const UFFD_FEATURE_MISSING_HUGETLBFS = 1 << 4;
export const UFFD_FEATURE_MISSING_SHMEM = 1 << 5;
export const UFFD_FEATURE_EVENT_UNMAP = 1 << 6;
export const UFFD_FEATURE_SIGBUS = 1 << 7;
export const UFFD_FEATURE_THREAD_ID = 1 << 8;
export const UFFD_FEATURE_MINOR_HUGETLBFS = 1 << 9;
export const UFFD_FEATURE_MINOR_SHMEM = 1 << 10;
export const UFFD_FEATURE_EXACT_ADDRESS = 1 << 11;
export const UFFD_FEATURE_WP_HUGETLBFS_SHMEM = 1 << 12;
export const UFFD_FEATURE_WP_UNPOPULATED = 1 << 13;
export const UFFD_FEATURE_POISON = 1 << 14;
export const UFFD_FEATURE_WP_ASYNC = 1 << 15;
export const UFFD_FEATURE_MOVE = 1 << 16;

export const UFFDIO_REGISTER_MODE_MISSING = 1;
export const UFFDIO_REGISTER_MODE_WP = 2;
export const UFFDIO_REGISTER_MODE_MINOR = 4;
export const UFFDIO_REGISTER_MODE_NAMES = ['missing', 'wp', 'minor'] as const;
export const UFFDIO_WRITEPROTECT_MODE_WP = 1;
export const UFFDIO_WRITEPROTECT_MODE_DONTWAKE = 2;
export const UFFDIO_WRITEPROTECT_MODE_NAMES = ['wp', 'dontwake'] as const;

export const UFFD_PAGEFAULT_FLAG_WRITE = 1;
export const UFFD_PAGEFAULT_FLAG_WP = 2;
export const UFFD_PAGEFAULT_FLAG_MINOR = 4;

export const UFFD_EVENT_PAGEFAULT = 0x12;
export const UFFD_EVENT_FORK = 0x13;
export const UFFD_EVENT_REMAP = 0x14;
export const UFFD_EVENT_REMOVE = 0x15;
export const UFFD_EVENT_UNMAP = 0x16;

/* clear_refs values (fs/proc/task_mmu.c enum clear_refs_types) */
export const CLEAR_REFS_ALL = 1;
export const CLEAR_REFS_ANON = 2;
export const CLEAR_REFS_MAPPED = 3;
export const CLEAR_REFS_SOFT_DIRTY = 4;
export const CLEAR_REFS_MM_HIWATER_RSS = 5;
export const CLEAR_REFS_LAST = 6;

/** errno values as the kernel returns them (negated in the kernel, positive here). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EAGAIN: 11,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ENOSPC: 28,
} as const;
export type ErrnoName = keyof typeof Errno;
