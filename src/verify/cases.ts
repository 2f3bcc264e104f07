/**
 * The hand-written differential sequences (kreplay commands, offsets relative to kreplay's base, in
 * pages with a 'p' suffix): run on this machine's kernel by test/95-kreplay-diff.test.ts, recorded
 * on the VM kernels by `npm run verify:vm` (test/fixtures/kernel-<release>/) and replayed against
 * the recordings by test/96-kernel-fixtures.test.ts.
 */
/** Observations over [off, off+n) pages: pagemap, a full and a fast PAGEMAP_SCAN, the VMAs. */
export const look = (off: number, n: number): string[] => [
  `pagemap ${off}p ${n}`,
  `pagemap_scan ${off}p ${off + n}p 0 0 0 0 0x17f 1024 0`,
  `pagemap_scan ${off}p ${off + n}p 0 0 2 0 2 1024 0`,
  'maps',
];
const anon = (off: number, n: number, prot = 'rw', extra = '') => `mmap ${off}p ${n}p ${prot} private|anonymous|fixed${extra}`;
const ASYNC = 0x8000;
const WPU = 0x2000;
const REMAP = 0x4;
const uffd = (fd: number, features: number) => [`userfaultfd ${fd} cloexec|nonblock`, `uffdio_api ${fd} 0xaa ${features}`];
const arm = (fd: number, off: number, n: number) => [`uffdio_register ${fd} ${off}p ${n}p 2`, `uffdio_writeprotect ${fd} ${off}p ${n}p 1`];
const P = 1024; // a PMD-aligned offset for the small cases

export const CASES: Record<string, string[]> = {
  'D1 control, async and sync': [
    anon(P, 4), 'write 1024p', 'write 1025p', ...uffd(3, ASYNC), ...arm(3, P, 4), ...look(P, 4),
    'write 1024p', 'write 1024p', ...look(P, 4),
    anon(P + 512, 4), 'write 1536p', 'write 1537p', ...uffd(4, 0), ...arm(4, P + 512, 4), 'write 1536p', 'messages',
    'write 1536p', 'messages', ...look(P + 512, 4),
  ],
  'D5 mprotect round trip keeps uffd-wp': [
    anon(P, 4), 'write 1024p', 'write 1025p', ...uffd(3, ASYNC), ...arm(3, P, 4), 'write 1025p',
    `mprotect ${P}p 4p r`, ...look(P, 4), `mprotect ${P}p 4p rw`, ...look(P, 4),
    'write 1024p', 'write 1025p', 'write 1026p', ...look(P, 4),
    `mprotect ${P}p 4p -`, `mprotect ${P}p 4p rw`, ...look(P, 4), 'write 1024p', ...look(P, 4),
  ],
  'D7/D8 MADV_DONTNEED on anon drops UW (async and sync)': [
    anon(P, 4), 'write 1024p', 'write 1025p', ...uffd(3, ASYNC), ...arm(3, P, 4),
    `madvise ${P}p 1p dontneed`, ...look(P, 4), 'write 1024p', ...look(P, 4),
    anon(P + 512, 4), 'write 1536p', ...uffd(4, WPU), ...arm(4, P + 512, 4),
    `madvise ${P + 512}p 1p dontneed`, 'write 1536p', 'messages', ...look(P + 512, 4),
  ],
  'D10/D11 never-touched anon: sync, sync+WP_UNPOPULATED, async': [
    anon(P, 4), ...uffd(3, 0), ...arm(3, P, 4), ...look(P, 4),
    'write 1024p', 'messages', 'read 1025p', 'messages', 'write 1025p', 'messages', ...look(P, 4),
    anon(P + 512, 4), ...uffd(4, WPU), ...arm(4, P + 512, 4), ...look(P + 512, 4),
    'write 1536p', 'messages', 'read 1537p', ...look(P + 512, 4), 'write 1537p', 'messages', ...look(P + 512, 4),
    anon(P + 1024, 4), ...uffd(5, ASYNC), ...arm(5, P + 1024, 4), 'write 2048p', 'read 2049p', ...look(P + 1024, 4),
    'write 2049p', ...look(P + 1024, 4),
  ],
  'D14 mremap to a non-PMD-aligned address, with and without EVENT_REMAP': [
    anon(P, 4), 'write 1024p', 'write 1025p', 'write 1026p', 'write 1027p', ...uffd(3, ASYNC), ...arm(3, P, 4), 'write 1025p',
    `mremap ${P}p 4p 4p maymove|fixed ${P + 700}p`, ...look(P + 700, 4),
    `pagemap_scan ${P + 700}p ${P + 704}p 2 0 2 0 2 1024 0`, `pagemap_scan ${P + 700}p ${P + 704}p 1 0 2 0 2 1024 0`,
    `uffdio_writeprotect 3 ${P + 700}p 4p 1`, 'write 1726p', ...look(P + 700, 4),
    anon(P + 2048, 4), 'write 3072p', 'write 3073p', 'write 3074p', 'write 3075p', ...uffd(4, ASYNC | REMAP), ...arm(4, P + 2048, 4),
    'write 3073p', `mremap ${P + 2048}p 4p 4p maymove|fixed ${P + 2700}p`, 'messages', ...look(P + 2700, 4),
    `pagemap_scan ${P + 2700}p ${P + 2704}p 2 0 2 0 2 1024 0`, `uffdio_writeprotect 4 ${P + 2700}p 4p 1`, 'write 3724p', ...look(P + 2700, 4),
  ],
  'UFFD_EVENT_REMAP from, to and len: shrinking, growing and DONTUNMAP moves': [
    anon(P, 16), 'write 1024p', ...uffd(3, REMAP), `uffdio_register 3 ${P}p 16p 2`,
    `mremap ${P}p 16p 8p maymove|fixed ${P + 100}p`, 'messages', 'maps',
    anon(P + 512, 8), 'write 1536p', ...uffd(4, REMAP), `uffdio_register 4 ${P + 512}p 8p 2`, anon(P + 520, 1, 'r'),
    `mremap ${P + 512}p 8p 16p maymove|fixed ${P + 600}p`, 'messages', 'maps',
    anon(P + 1024, 8), ...uffd(5, REMAP), `uffdio_register 5 ${P + 1024}p 8p 2`,
    `mremap ${P + 1024}p 8p 8p maymove|fixed|dontunmap ${P + 1100}p`, 'messages',
  ],
  'D26 close(uffd) and UFFDIO_UNREGISTER mid-epoch': [
    anon(P, 4), 'write 1024p', 'write 1025p', ...uffd(3, ASYNC), ...arm(3, P, 4), 'close 3', ...look(P, 4),
    `pagemap_scan ${P}p ${P + 4}p 2 0 2 0 2 1024 0`, 'write 1025p', ...look(P, 4),
    anon(P + 512, 4), 'write 1536p', 'write 1537p', ...uffd(4, ASYNC), ...arm(4, P + 512, 4),
    `uffdio_unregister 4 ${P + 512}p 4p`, ...look(P + 512, 4), 'write 1537p', 'write 1538p', ...look(P + 512, 4),
  ],
  'D28 [async A][non-async B][async C]': [
    anon(P, 6), 'write 1024p', 'write 1025p', 'write 1026p', 'write 1027p', 'write 1028p', 'write 1029p',
    ...uffd(3, ASYNC), ...arm(3, P, 2), ...arm(3, P + 4, 2), 'write 1024p', 'write 1025p', 'write 1028p', 'write 1029p',
    `pagemap_scan ${P}p ${P + 6}p 3 0 2 0 2 1024 0`, ...look(P, 6),
    `pagemap_scan ${P}p ${P + 6}p 2 0 2 0 2 1024 0`, `pagemap_scan ${P}p ${P + 6}p 1 0 2 0 2 1024 0`, ...look(P, 6),
    `pagemap_scan ${P}p ${P + 6}p 0 0 2 0 2 1024 0`, ...uffd(4, 0), `uffdio_register 4 ${P + 2}p 2p 2`,
    `pagemap_scan ${P}p ${P + 6}p 3 0 2 0 2 1024 0`, ...look(P, 6),
  ],
  'HOLES and SCANARGS: none PTEs, table holes, pure re-protect, vec_len and max_pages': [
    anon(P, 1024), ...uffd(3, ASYNC), `uffdio_register 3 ${P}p 1024p 2`, `uffdio_writeprotect 3 ${P}p 4p 1`,
    `pagemap ${P}p 1024`, `pagemap_scan ${P}p ${P + 1024}p 0 0 2 0 2 1024 0`, `pagemap_scan ${P}p ${P + 1024}p 0 0 0 0 0x17f 1024 0`,
    `pagemap_scan ${P}p ${P + 1024}p 1 0 0 0 0 0 0`, `pagemap ${P}p 1024`,
    'write 1025p', 'write 1026p', 'write 1027p', 'write 1029p', 'write 1030p',
    `pagemap_scan ${P}p ${P + 8}p 0 0 2 0 2 1024 2`, `pagemap_scan ${P}p ${P + 8}p 0 0 2 0 2 1 0`,
    `pagemap_scan ${P}p ${P + 8}p 0 0 0 0 0x17f 2 0`, `pagemap_scan ${P}p ${P + 8}p 0 2 2 0 2 1024 0`,
    `pagemap_scan ${P}p ${P + 8}p 1 0 2 0 2 1024 1`, `pagemap ${P}p 8`, `pagemap_scan ${P}p ${P + 8}p 1 0 0 2 2 1 0`, `pagemap ${P}p 8`,
    `pagemap_scan ${P}p 0x${((P + 5) * 4096 + 1).toString(16)} 0 0 2 0 2 1024 0`, `pagemap_scan 0x${(P * 4096 + 1).toString(16)} ${P + 8}p 0 0 2 0 2 1024 0`,
    `pagemap_scan ${P + 8}p ${P}p 0 0 2 0 2 1024 0`, `pagemap_scan ${P}p ${P + 8}p 0 0 2 0 2 1024 0 95`,
    `pagemap_scan ${P}p ${P + 8}p 4 0 2 0 2 1024 0`, `pagemap_scan ${P}p ${P + 8}p 0 0 0x200 0 2 1024 0`,
    `pagemap_scan ${P}p ${P + 8}p 0 0 2 0 2 1 0 96 1`,
    `madvise ${P + 512}p 512p dontneed`, `pagemap_scan ${P}p ${P + 1024}p 0 0 2 0 2 1024 0`,
  ],
  'D9/D20 shmem: DONTNEED and PAGEOUT leave markers on protected pages': [
    `mmap ${P}p 4p rw shared|fixed memfd:m`, 'write 1024p', 'write 1025p', ...uffd(3, ASYNC), ...arm(3, P, 4), 'write 1024p',
    ...look(P, 4), `madvise ${P}p 2p dontneed`, ...look(P, 4), 'read 1025p', ...look(P, 4), 'write 1025p', ...look(P, 4),
    `mmap ${P + 512}p 4p rw shared|fixed memfd:n`, 'write 1536p', 'write 1537p', ...uffd(4, ASYNC), ...arm(4, P + 512, 4), 'write 1536p',
    `madvise ${P + 512}p 2p pageout`, ...look(P + 512, 4), 'read 1537p', ...look(P + 512, 4),
    `mmap ${P + 1024}p 4p rw shared|anonymous|fixed`, 'write 2048p', 'write 2049p', ...uffd(5, 0), ...arm(5, P + 1024, 4),
    'write 2048p', 'messages', `madvise ${P + 1024}p 2p dontneed`, 'read 2049p', 'messages', 'write 2049p', 'messages',
    'write 2048p', 'messages', ...look(P + 1024, 4),
  ],
};

/** Regressions: each sequence is a mismatch the fuzzer found (the fix is named in the key). */
export const REGRESSIONS: Record<string, string[]> = {
  'mremap: a same-size no-op and a shrink do not check the VMA extent; FIXED moves span VMAs (remap_move, v6.17)': [
    anon(P, 8), 'write 1024p', 'write 1030p', `mprotect ${P + 4}p 2p r`, `mremap ${P - 2}p 6p 6p 0`, `mremap ${P + 2}p 6p 3p 0`, 'maps',
    anon(P, 8), 'write 1024p', 'write 1030p', `mprotect ${P + 4}p 2p r`, `munmap ${P + 6}p 1p`,
    `mremap ${P + 2}p 8p 8p maymove|fixed ${P + 700}p`, 'maps', `pagemap ${P + 700}p 10`, `pagemap ${P}p 10`,
    `mremap ${P + 700}p 8p 8p maymove|fixed ${P + 600}p`, 'maps', `mremap ${P + 590}p 8p 8p maymove|fixed ${P + 300}p`,
    ...uffd(3, ASYNC), ...arm(3, P, 2), `mremap ${P}p 4p 4p maymove|fixed ${P + 900}p`, 'maps',
  ],
  'UFFDIO_UNREGISTER: no split of unregistered VMAs; EINVAL for no VMA, another context, an unregistered file VMA': [
    anon(P, 8), 'write 1024p', ...uffd(3, ASYNC), ...uffd(4, 0), ...arm(3, P, 2), `uffdio_register 4 ${P + 4}p 2p 2`,
    `uffdio_unregister 4 ${P}p 3p`, 'maps', `pagemap ${P}p 4`, `uffdio_unregister 3 ${P + 1}p 2p`, 'maps', `pagemap ${P}p 4`,
    `uffdio_unregister 3 ${P - 2}p 1p`, `uffdio_unregister 3 ${P + 100}p 1p`, 'maps',
    `mmap ${P + 200}p 4p rw shared|fixed file:f`, `uffdio_unregister 3 ${P + 198}p 4p`, `uffdio_unregister 4 ${P + 200}p 4p`,
    `uffdio_register 3 ${P + 200}p 4p 2`, `uffdio_unregister 4 ${P + 200}p 4p`, `uffdio_unregister 3 ${P + 200}p 4p`, 'maps',
  ],
  'UFFDIO_REGISTER and mprotect over several VMAs: merges do not lose the next VMA; unchanged VMAs are not split': [
    anon(P, 12), 'write 1024p', `mprotect ${P + 4}p 2p r`, `mprotect ${P + 8}p 2p r`, ...uffd(3, 0),
    `uffdio_register 3 ${P + 2}p 2p 2`, `uffdio_register 3 ${P}p 8p 2`, 'maps', `pagemap ${P}p 12`,
    `mprotect ${P + 2}p 8p rw`, 'maps', `mprotect ${P + 4}p 2p r`, `mprotect ${P}p 12p r`, 'maps',
    `munmap ${P + 6}p 1p`, `mprotect ${P}p 12p rw`, 'maps', `mprotect ${P + 7}p 2p rw`, 'maps',
  ],
  'mmap MAP_FIXED / MAP_FIXED_NOREPLACE beyond TASK_SIZE is ENOMEM, also unaligned (__get_unmapped_area checks the end before the alignment)': [
    'mmap 0x600000000000 1p rw private|anonymous|fixed', 'mmap 0x5ffffffff000 1p rw private|anonymous|fixed',
    'mmap 0x5ffffffff000 1p rw private|anonymous|fixed_noreplace', 'mmap 0x5ffffffff001 1p rw private|anonymous|fixed',
    'mmap 0x5fffffffe000 2p rw private|anonymous|fixed', 'mmap 0x1001 1p rw private|anonymous|fixed', 'mmap 0 0x800000000000 rw private|anonymous',
  ],
  'mmap between two pieces of one VMA merges with both (are_anon_vmas_compatible)': [
    anon(P, 16), 'write 1024p', 'write 1039p', ...uffd(3, WPU), `uffdio_register 3 ${P + 8}p 7p 2`, 'maps',
    anon(P + 1, 14), 'maps', `pagemap ${P}p 16`,
  ],  'a new VMA reuses its neighbour\'s anon_vma on first fault, so mprotect merges them later (find_mergeable_anon_vma)': [
    anon(504, 16), 'write 513p', 'mprotect 507p 12p r', anon(510, 12), 'write 516p', 'mprotect 509p 13p -', 'maps',
  ],
  'PAGEOUT drops a clean shmem page from the page cache (__remove_mapping); a dirty one stays (no swap)': [
    'mmap 511p 4p r shared|fixed|populate memfd:m 7p', 'madvise 507p 12p pageout', 'mmap 510p 6p rw private|fixed memfd:m 6p',
    'read 515p', 'pagemap 500p 24', 'mmap 600p 4p rw shared|fixed memfd:n 0', 'write 600p', 'write 601p', 'read 602p',
    'madvise 600p 4p pageout', 'pagemap 600p 4', 'mmap 700p 4p r shared|fixed memfd:n 0', 'read 703p', 'pagemap 700p 4', 'maps',
  ],
  'shared anonymous memory is as large as its mmap: a fault beyond it after a growing mremap is SIGBUS (shmem_get_folio_gfp)': [
    'mmap 518p 4p rw shared|anonymous|fixed', 'mremap 520p 2p 6p maymove|fixed 4098p', 'write 4099p', 'write 4102p', 'read 4103p',
    'kwrite 4102p', 'pagemap 4096p 10', 'maps',
  ],
  'MADV_REMOVE keeps uffd-wp markers and leaves one for a UW shmem PTE (unmap_mapping_pages: no ZAP_FLAG_DROP_MARKER)': [
    ...uffd(3, WPU | 0x80), 'mmap 506p 9p rw shared|anonymous|fixed|populate', 'uffdio_register 3 506p 5p 2', 'uffdio_writeprotect 3 506p 4p 1',
    'madvise 509p 1p remove', 'pagemap 500p 24',
    ...uffd(4, WPU), 'mmap 4105p 13p rw shared|fixed memfd:m 5p', 'uffdio_register 4 4105p 13p 2', 'write 4106p',
    'uffdio_writeprotect 4 4105p 13p 1', 'madvise 4105p 13p remove', 'pagemap 4100p 24', 'read 4106p', 'pagemap 4100p 24', 'maps',
  ],
  'MADV_COLLAPSE of shmem is not modelled (collapse_file): the comparison stops there': [
    'mmap 6144p 512p rw shared|anonymous|fixed|populate', 'madvise 6144p 512p collapse', 'pagemap 6144p 512',
  ],
};

export const THP_CASES: Record<string, string[]> = {
  'kwrite stores data: a THP split by FREE / COLD keeps that subpage, the rest become the zero page (try_to_map_unused_to_zeropage)': [
    anon(2048, 512), 'madvise 2048p 512p hugepage', 'kwrite 2195p', 'madvise 2304p 256p free', 'pagemap 2048p 512',
    anon(4096, 512), 'madvise 4096p 512p hugepage', 'kwrite 4117p', 'madvise 4096p 256p cold', 'pagemap 4096p 512',
  ],
  'a PMD split in a PROT_NONE VMA makes PROT_NONE PTEs (vm_page_prot in __split_huge_pmd_locked)': [
    anon(2048, 512), 'madvise 2048p 512p hugepage', 'write 2051p', 'mprotect 2048p 512p -', anon(2466, 8), 'read 2381p', 'write 2051p',
    'mprotect 2048p 418p r', 'read 2051p', ...look(2048, 512),
  ],
  'MADV_COLLAPSE of read-only and PROT_NONE ranges succeeds in 6.18 (no SCAN_PAGE_RO); the PMD follows vm_page_prot': [
    anon(2048, 512), 'write 2051p', 'mprotect 2048p 512p r', 'madvise 2048p 512p collapse', 'write 2051p', ...look(2048, 512),
    anon(4096, 512), 'write 4099p', 'mprotect 4096p 512p -', 'madvise 4096p 512p collapse', 'read 4099p', ...look(4096, 512),
    'mprotect 4096p 512p rw', 'read 4099p', 'pagemap 4096p 512',
  ],
  'PAGEOUT after the first half of a THP was replaced: freed subpage ids are not reused, the new pages stay': [
    anon(2048, 512), 'madvise 2048p 512p hugepage', 'write 2051p', anon(2048, 256, 'rw', '|populate'), 'madvise 2048p 512p pageout',
    ...look(2048, 512),
  ],
  'MADV_COLLAPSE: EINVAL inside one 2 MiB slot, without anon_vma, for a VMA smaller than 2 MiB': [
    anon(2048, 512), `madvise 2048p 512p hugepage`, `madvise 2048p 512p collapse`, 'write 2050p', `madvise 2100p 10p collapse`,
    `madvise 2048p 10p collapse`, `madvise 2100p 460p collapse`, `madvise 2048p 512p collapse`, `madvise 100p 10p collapse`,
    anon(4096, 100), 'write 4096p', `madvise 4096p 100p hugepage`, `madvise 4096p 100p collapse`, ...look(2048, 512),
  ],
  'THP folio split: COLD / FREE of part of a THP, PAGEOUT of a whole one without swap, zero subpages become the zero page': [
    anon(2048, 512), `madvise 2048p 512p hugepage`, 'write 2051p', 'write 2300p', ...uffd(3, ASYNC), ...arm(3, 2048, 512),
    `madvise 2048p 256p cold`, ...look(2048, 512), 'write 2052p', ...look(2048, 512),
    anon(4096, 512), `madvise 4096p 512p hugepage`, 'write 4100p', `madvise 4200p 10p free`, ...look(4096, 512),
    anon(6144, 512), `madvise 6144p 512p hugepage`, 'write 6150p', `madvise 6144p 512p pageout`, ...look(6144, 512),
    anon(8192, 512), `madvise 8192p 512p hugepage`, 'write 8193p', `mprotect 8192p 10p r`, `madvise 8300p 10p cold`, ...look(8192, 512),
  ],
  'a VMA boundary inside a THP splits the PMD (vma_adjust_trans_huge): register, mprotect, munmap': [
    anon(2048, 512), `madvise 2048p 512p hugepage`, 'write 2051p', ...uffd(3, ASYNC), `uffdio_register 3 2048p 256p 2`, ...look(2048, 512),
    anon(4096, 512), `madvise 4096p 512p hugepage`, 'read 4100p', `mprotect 4096p 100p r`, ...look(4096, 512),
    anon(6144, 512), `madvise 6144p 512p hugepage`, 'write 6150p', `munmap 6200p 1p`, ...look(6144, 512),
  ],
  'D16 THP: arm a PMD THP, store a subpage (async and sync), huge zero page': [
    anon(2048, 512), `madvise 2048p 512p hugepage`, `madvise 2048p 512p populate_write`, ...uffd(3, ASYNC), ...arm(3, 2048, 512),
    ...look(2048, 512), 'write 2055p', ...look(2048, 512), 'write 2056p', `pagemap_scan 2048p 2560p 1 0 2 0 2 1024 0`, ...look(2048, 512),
    anon(4096, 512), `madvise 4096p 512p hugepage`, `madvise 4096p 512p populate_write`, ...uffd(4, 0), ...arm(4, 4096, 512),
    'write 4103p', 'messages', ...look(4096, 512),
    anon(6144, 512), `madvise 6144p 512p hugepage`, ...uffd(5, ASYNC), ...arm(5, 6144, 512), 'write 6151p', ...look(6144, 512),
    anon(8192, 512), `madvise 8192p 512p hugepage`, ...uffd(6, 0), ...arm(6, 8192, 512), 'write 8199p', 'messages', ...look(8192, 512),
    anon(10240, 512), `madvise 10240p 512p hugepage`, 'read 10240p', ...look(10240, 512), ...uffd(7, ASYNC), ...arm(7, 10240, 512),
    ...look(10240, 512), 'write 10247p', ...look(10240, 512),
  ],
};


/** Soft-dirty observations over [off, off+n): pagemap (bit 55), a scan with PAGE_IS_SOFT_DIRTY (no guard: 6.12 refuses it), the VMAs. */
export const lookSd = (off: number, n: number): string[] => [
  `pagemap ${off}p ${n}`, `pagemap_scan ${off}p ${off + n}p 0 0 0 0 0xff 1024 0`, 'maps',
];

/**
 * Soft-dirty rules (docs/kernel-rules.md §2.2), first checked against real kernels in qemu (6.1,
 * 6.12; the host's 6.18.44 runs them with CONFIG_MEM_SOFT_DIRTY off: nothing ever reads soft-dirty
 * and clear_refs 4 write-protects nothing). Not covered: the pinned-page skip of clear_refs
 * (pte_is_pinned needs a FOLL_PIN from userspace: io_uring fixed buffers, which kreplay does not do).
 */
export const SOFT_DIRTY_CASES: Record<string, string[]> = {
  'VM_SOFTDIRTY on a new VMA, cleared by clear_refs 4; a store sets the PTE bit; a read maps the zero page clean': [
    anon(P, 4), ...lookSd(P, 4), 'write 1024p', 'clear_refs 4', ...lookSd(P, 4), 'write 1025p', 'read 1026p', 'write 1024p', ...lookSd(P, 4),
    'clear_refs 4', 'write 1024p', 'write 1024p', ...lookSd(P, 4),
  ],
  'a new VMA merged with a cleared neighbour makes the whole VMA soft-dirty (__mmap_complete)': [
    anon(P, 4), 'write 1024p', 'clear_refs 4', ...lookSd(P, 8), anon(P + 4, 4), ...lookSd(P, 8),
    'clear_refs 4', anon(P - 2, 2), ...lookSd(P - 2, 10), 'clear_refs 4', `munmap ${P + 2}p 1p`, ...lookSd(P - 2, 10),
  ],
  'mprotect split and merge back: VM_SOFTDIRTY of the pieces (sticky only from v6.19)': [
    anon(P, 8), 'write 1024p', 'write 1029p', 'clear_refs 4', `mprotect ${P + 2}p 2p r`, ...lookSd(P, 8),
    anon(P + 3, 1, 'r'), ...lookSd(P, 8), `mprotect ${P + 2}p 2p rw`, ...lookSd(P, 8), 'write 1026p', 'write 1027p', ...lookSd(P, 8),
    'clear_refs 4', `mprotect ${P}p 8p r`, `mprotect ${P}p 8p rw`, 'write 1025p', ...lookSd(P, 8),
  ],
  'mremap moves set soft-dirty on the moved entries (move_soft_dirty_pte); growing in place': [
    anon(P, 4), 'write 1024p', 'write 1026p', 'clear_refs 4', `mremap ${P}p 4p 4p maymove|fixed ${P + 700}p`, ...lookSd(P + 700, 4),
    'clear_refs 4', `mremap ${P + 700}p 4p 8p 0`, ...lookSd(P + 700, 8), 'clear_refs 4', `mremap ${P + 700}p 2p 2p maymove|fixed ${P + 300}p`,
    ...lookSd(P + 300, 2), ...lookSd(P + 700, 8),
    anon(P + 1024, 4), 'write 2048p', 'clear_refs 4', `mremap ${P + 1024}p 4p 4p maymove|fixed|dontunmap ${P + 1100}p`, ...lookSd(P + 1024, 4), ...lookSd(P + 1100, 4),
  ],
  'clear_refs values: 1-3 and 5 leave soft-dirty alone, bad values are EINVAL, 4 again after a store': [
    anon(P, 2), 'write 1024p', 'clear_refs 1', 'clear_refs 2', 'clear_refs 3', 'clear_refs 5', ...lookSd(P, 2),
    'clear_refs 0', 'clear_refs 6', 'clear_refs -1', 'clear_refs 0x4', 'clear_refs 4x', 'clear_refs +4', 'clear_refs 0004', ...lookSd(P, 2),
    'write 1025p', ...lookSd(P, 2),
  ],
  'fork keeps soft-dirty; a store after fork copies the page (soft-dirty), the child keeps it alive': [
    anon(P, 4), 'write 1024p', 'write 1025p', 'clear_refs 4', 'fork', ...lookSd(P, 4), 'write 1024p', ...lookSd(P, 4),
    'clear_refs 4', 'write 1025p', 'read 1026p', ...lookSd(P, 4), 'reap', 'clear_refs 4', 'write 1026p', ...lookSd(P, 4),
    'fork', 'fork', 'write 1027p', 'reap', 'clear_refs 4', 'write 1027p', ...lookSd(P, 4),
  ],
  'shmem: clear_refs 4 write-protects shared pages; the next store faults and sets soft-dirty': [
    `mmap ${P}p 4p rw shared|fixed memfd:m`, 'write 1024p', 'read 1025p', ...lookSd(P, 4), 'clear_refs 4', ...lookSd(P, 4),
    'write 1024p', 'write 1025p', ...lookSd(P, 4), `mmap ${P + 8}p 4p rw shared|anonymous|fixed`, 'write 1032p', 'clear_refs 4',
    'write 1033p', `madvise ${P + 8}p 4p dontneed`, ...lookSd(P + 8, 4), 'read 1032p', ...lookSd(P + 8, 4),
  ],
  'soft-dirty beside uffd-wp async: clear_refs 4 and WP_MATCHING scans are independent': [
    anon(P, 4), 'write 1024p', 'write 1025p', ...uffd(3, ASYNC), ...arm(3, P, 4), 'clear_refs 4', ...lookSd(P, 4),
    'write 1024p', ...lookSd(P, 4), `pagemap_scan ${P}p ${P + 4}p 1 0 0x80 0 0x82 1024 0`, ...lookSd(P, 4),
    'clear_refs 4', 'write 1025p', `pagemap_scan ${P}p ${P + 4}p 0 0 0 0x82 0x82 1024 0`, `pagemap_scan ${P}p ${P + 4}p 0 0x80 0x80 0 0xff 1024 0`,
  ],
  'swap-less MADV_PAGEOUT and DONTNEED: a dropped page faults back clean or soft-dirty': [
    anon(P, 4), 'write 1024p', 'write 1025p', 'clear_refs 4', `madvise ${P}p 1p dontneed`, `madvise ${P + 1}p 1p pageout`, ...lookSd(P, 4),
    'read 1024p', 'read 1025p', ...lookSd(P, 4), 'write 1024p', ...lookSd(P, 4),
  ],
};

/** Soft-dirty with THP (needs THP enabled or madvise). */
export const SOFT_DIRTY_THP_CASES: Record<string, string[]> = {
  'THP: soft-dirty is per PMD; clear_refs 4 write-protects the PMD; a split carries the PMD bits to every PTE': [
    anon(2048, 512), 'madvise 2048p 512p hugepage', 'write 2050p', ...lookSd(2048, 512), 'clear_refs 4', ...lookSd(2048, 512),
    'write 2300p', ...lookSd(2048, 512), `mprotect 2048p 4p r`, ...lookSd(2048, 512), 'clear_refs 4', 'write 2100p', ...lookSd(2048, 512),
    anon(4096, 512), 'madvise 4096p 512p hugepage', 'write 4100p', 'clear_refs 4', 'madvise 4096p 256p cold', ...lookSd(4096, 512),
    anon(6144, 512), 'madvise 6144p 512p hugepage', 'read 6150p', ...lookSd(6144, 512), 'clear_refs 4', 'write 6150p', ...lookSd(6144, 512),
  ],
  'THP: mremap of a whole PMD keeps it huge and soft-dirty (move_soft_dirty_pmd); fork of a THP': [
    anon(2048, 512), 'madvise 2048p 512p hugepage', 'write 2050p', 'clear_refs 4', 'mremap 2048p 512p 512p maymove|fixed 6144p',
    ...lookSd(6144, 512), 'clear_refs 4', 'fork', 'write 6200p', ...lookSd(6144, 512), 'reap',
    'clear_refs 4', 'mremap 6144p 512p 512p maymove|fixed 4100p', ...lookSd(4100, 512),
  ],
};
