/**
 * The page cache side of fallocate(FALLOC_FL_PUNCH_HOLE), which MADV_REMOVE calls through
 * vfs_fallocate (docs/kernel-rules.md §2.15): mm/truncate.c:truncate_pagecache_range for a file,
 * mm/shmem.c:shmem_fallocate for shmem (the same two steps), fs/hugetlbfs/inode.c:hugetlbfs_punch_hole.
 */
import { markObjectPages } from './access.js';
import { Why } from './cause.js';
import type { MemObject } from './object.js';
import type { System } from './system.js';
import { HPAGE_PMD_NR } from './uapi.js';
import type { Vma } from './vma.js';
import { unmapMappingRange } from './zap.js';

/**
 * truncate_pagecache_range / shmem_fallocate(PUNCH_HOLE) of object pages [index, index+count):
 * unmap_mapping_range (even_cows = false) zaps them in every mapping, then truncate_inode_pages_range
 * / shmem_undo_range drop the cache pages. The range reads zeros, so every mapping that showed them
 * gets GT_c (cause MADV_REMOVE).
 */
export function punchHole(sys: System, obj: MemObject, index: number, count: number): void {
  markObjectPages(sys, obj, index, count, Why.MADV_REMOVE, null);
  unmapMappingRange(sys, obj, index, count);
  obj.punch(sys.frames, index, count);
}

/**
 * hugetlbfs_punch_hole for pages [lo, hi) of hugetlb VMA `v`: only whole huge pages leave the file
 * and the mappings (punchHole); the partial pages around them are zeroed in place
 * (hugetlbfs_zero_partial_page): their content only. The huge-page edges are those of the virtual
 * range (a hugetlb VMA is huge-page aligned).
 */
export function hugetlbfsPunchHole(sys: System, obj: MemObject, v: Vma, lo: number, hi: number): void {
  const hs = Math.min(hi, Math.ceil(lo / HPAGE_PMD_NR) * HPAGE_PMD_NR);
  const he = Math.max(hs, Math.floor(hi / HPAGE_PMD_NR) * HPAGE_PMD_NR);
  if (lo < hs) markObjectPages(sys, obj, v.pgoffOf(lo), hs - lo, Why.MADV_REMOVE, null);
  if (he < hi) markObjectPages(sys, obj, v.pgoffOf(he), hi - he, Why.MADV_REMOVE, null);
  if (hs < he) punchHole(sys, obj, v.pgoffOf(hs), he - hs);
}
