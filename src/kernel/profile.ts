/**
 * Kernel profiles: version-gated behaviour (docs/kernel-rules.md §0.3) and the config
 * or boot switches that change what the mm does. A lane runs one profile; `--kernel` picks it and
 * `--kernel-opt key=value` overrides single switches (`zeroPage=false`, or `zero_page=off`).
 */
export interface KernelProfile {
  name: string;
  /**
   * CONFIG_MEM_SOFT_DIRTY (on in every profile; Debian's 6.1 and 6.12 kernels have it, verified in
   * qemu). Off (`soft_dirty=off`, probed on the host: its 6.18.44 has it compiled out): _PAGE_SOFT_DIRTY
   * and VM_SOFTDIRTY are 0, so pagemap bit 55 and PAGE_IS_SOFT_DIRTY always read 0,
   * vma_soft_dirty_enabled() is false (no soft-dirty write-protection, shared mappings need no
   * writenotify for it), and clear_refs 4 returns its byte count having done nothing
   * (clear_soft_dirty / clear_soft_dirty_pmd are empty stubs in fs/proc/task_mmu.c).
   */
  softDirty: boolean;
  /**
   * A read fault on private anon memory maps the shared zero page (do_anonymous_page) or the huge
   * zero page (do_huge_pmd_anonymous_page); MADV_POPULATE_READ faults the same way. Off where the
   * kernel forbids it at fault time (mm_forbids_zeropage(): s390 KVM guests with storage keys; the
   * vendor boot parameter `pvm_no_zero_page=1`, probed): the read allocates a fresh exclusive page,
   * mapped dirty and writable where VM_WRITE, so it reads soft-dirty and no later store faults.
   */
  zeroPage: boolean;
  /**
   * A folio split maps subpages that hold no data to the shared zero page and frees them
   * (RMP_USE_SHARED_ZEROPAGE → try_to_map_unused_to_zeropage, v6.12). Off before v6.12 and where
   * mm_forbids_zeropage() (s390); `pvm_no_zero_page=1` leaves it on (probed on 6.18.44).
   */
  splitUnusedToZeroPage: boolean;
  /** UFFD_FEATURE_WP_UNPOPULATED exists (v6.4, 2bad466cc9d9). */
  wpUnpopulated: boolean;
  /** UFFD_FEATURE_WP_ASYNC and the PAGEMAP_SCAN ioctl exist (v6.7). */
  wpAsync: boolean;
  pagemapScan: boolean;
  /** PAGE_IS_GUARD / pagemap bit 58 (v6.15). */
  guardMarkers: boolean;
  /** close(uffd) resets UW bits and markers (v6.8/6.9 + stable, "reset ptes when close()"). */
  uffdCloseResetsPtes: boolean;
  /** mremap without EVENT_REMAP clears UW and drops markers, no whole-table moves (v6.13/6.14 + stable). */
  mremapClearsUffdWp: boolean;
  /** VM_SOFTDIRTY propagates on mprotect/mremap merges (v6.19, "mm: propagate VM_SOFTDIRTY on merge"). */
  stickySoftDirtyMerge: boolean;
  /** PAGEMAP_SCAN generic path reports pte_none as WRITTEN (2026 fix 07b4377; present in 6.18.44, probed). */
  pagemapScanNoneIsWritten: boolean;
  /** PAGEMAP_SCAN reports holes (no page table) inside non-hugetlb uffd-wp VMAs as WRITTEN, and
   *  WP_MATCHING arms them with markers (2026 stable follow-up; present in 6.18.44, probed). */
  pagemapScanHoleIsWritten: boolean;
  /** A PMD split (not a folio split: see migrationEntryDirty) carries the PMD dirty bit to the PTEs
   *  with pte_mkdirty, setting SD on x86 (v6.0, reverted in v6.1-rc, back later). Checked in qemu:
   *  6.12.118 carries it, 6.1.176 does not (a THP shared with a fork child, written: the PTEs of the
   *  split read clean). */
  thpSplitCarriesDirty: boolean;
  /** pte_mkuffd_wp()/pmd_mkuffd_wp() also clear W (v6.2). */
  mkuffdWpClearsWrite: boolean;
  /** PAGEMAP_SCAN huge zero PMD reported as PFNZERO (~v6.16). */
  pagemapScanHugeZeroPfnzero: boolean;
  /** MADV_DONTNEED frees a PTE table left empty (CONFIG_PT_RECLAIM, x86 v6.14). */
  ptReclaim: boolean;
  /** A write to the huge zero PMD allocates a THP (do_huge_zero_wp_pmd); older kernels split and copy 4 KiB. */
  hugeZeroWpAllocatesThp: boolean;
  /** Un-WP upgrades exclusive anon PTEs to writable (MM_CP_TRY_CHANGE_WRITABLE in uffd_wp_range, v6.3). */
  uffdResolveMakesWritable: boolean;
  /** can_change_pte_writable() for private anon needs no hardware-dirty PTE (v6.2). */
  privateUpgradeWithoutDirty: boolean;
  /** UFFDIO_WRITEPROTECT may span several VMAs (v6.5); before, a range beyond one VMA is ENOENT. */
  writeprotectMultiVma: boolean;
  /** mremap realigns a move down to a PMD boundary so the first table moves whole (try_realign_addr, v6.7). */
  mremapRealignPmd: boolean;
  /** An equal-size MREMAP_FIXED move may span several VMAs and gaps (remap_move, v6.17). */
  mremapMultiVma: boolean;
  /**
   * UFFD_EVENT_REMAP's len is what moved: after a shrinking move, the new length (vma_remap_struct,
   * v6.16; kreplay-checked on 6.18.44). Before, it is the syscall's page-aligned old_len.
   */
  remapEventLenMoved: boolean;
  /** FOLL_LONGTERM|FOLL_WRITE pins of shared regular-file mappings are refused (v6.4). */
  longtermPinSharedFileRefused: boolean;
  /** khugepaged / MADV_COLLAPSE refuse a range without a writable PTE (SCAN_PAGE_RO); gone in v6.18
   *  ("mm: Enable khugepaged to operate on non-writable VMAs"; kreplay-checked on 6.18.44). */
  collapseNeedsWritable: boolean;
  /**
   * MADV_POPULATE_(READ|WRITE) stops at the first hole with ENOMEM (madvise_populate over the whole
   * range, v6.10: 631426ba1d45 "make MADV_POPULATE_(READ|WRITE) handle VM_FAULT_RETRY properly").
   * Before, it ran per VMA inside madvise_walk_vmas: a hole only made the final answer ENOMEM, the
   * VMAs after it were populated too, and a later VMA's EINVAL won (checked in qemu on 6.1.176).
   */
  populateStopsAtHole: boolean;
  /**
   * A range with an anon_vma merges into a neighbour without one (is_mergeable_anon_vma case 1,
   * "mm/vma: fix incorrectly disallowed anonymous VMA merges", v6.16). Before, the neighbour's empty
   * anon_vma_chain is not list_is_singular, so only equal anon_vmas merge: a faulted range stays
   * apart from an unfaulted VMA after mprotect, UFFDIO_(UN)REGISTER, madvise or an mremap move
   * (checked in qemu: 6.1.176 and 6.12.118 keep them apart, 6.18.44 merges).
   */
  mergeFaultedIntoUnfaulted: boolean;
  /**
   * UFFDIO_REGISTER and UFFDIO_UNREGISTER give vma_merge the page offset of the range's start
   * ("mm/uffd: allow vma to merge as much as possible", v6.4). Before, the VMA's own vm_pgoff: a piece
   * that starts inside a VMA merges with neither neighbour and is split off (checked in qemu on
   * 6.1.176: fuzz seed 1123); a piece that starts at a VMA's start merges as usual.
   */
  uffdRegisterMergesCutPiece: boolean;
  /**
   * mprotect of an anonymous VMA that never had an anon_vma to read-only drops its VM_ACCOUNT charge
   * ("mm/mprotect: allow unfaulted VMAs to be unaccounted on mprotect()", v6.7). Before, the flag
   * stays, so a piece made writable once and PROT_NONE again keeps apart from its unaccounted
   * neighbours (checked in qemu on 6.1.176: fuzz seed 1325 of verify --vm 6.1 --seed 1000 --ops 60).
   */
  mprotectUnaccountsUnfaulted: boolean;
  /**
   * A piece that UFFDIO_REGISTER merges into a neighbour leaves the neighbour's VM_SOFTDIRTY as it was
   * (the piece's is dropped). Observed in qemu on 6.12.118 only (fuzz seed 9075 of verify --vm 6.12
   * --seed 9000 --ops 100 and hand-made cases: a soft-dirty piece merging into a clean registered VMA
   * reads clean, a clean piece merging into a soft-dirty one reads dirty); 6.1.176 gives the merged
   * VMA the piece's flags, as mprotect does everywhere and as the later source does
   * (userfaultfd_set_vm_flags with the piece's flags). UFFDIO_UNREGISTER merges keep the piece's on
   * 6.12 too. The 6.12 source line behind it is not located.
   */
  uffdRegisterMergeKeepsTargetSoftDirty: boolean;
  /**
   * mmap_region merges a new mapping by checking next first and then prev against the anon_vma of
   * the VMA chosen so far (v6.1-v6.11: "Check next" / "Check prev" before vma_expand; v6.12 moved to
   * vma_merge_new_range, which checks prev and next each against the new range). With a faulted next
   * and an unfaulted prev the new range joins next only (checked in qemu on 6.1.176: fuzz seed 5519 of
   * verify --vm 6.1 --seed 5000 --ops 60; 6.12.118 and 6.18.44 join both).
   */
  mmapMergesNextFirst: boolean;
  /**
   * copy_vma's new VMA merges with its neighbours by the usual rules, its own source VMA included (an
   * unfaulted anon source gives the copy pgoff = its new address, so the two can line up): 6.1.176 and
   * the host's 6.18.44 in qemu/kreplay. Off (6.12.118): after MREMAP_DONTUNMAP the copy does not merge
   * into its source (other neighbours still merge), and the copy of a VMA registered to a userfaultfd
   * without EVENT_REMAP merges with nothing (fuzz seeds 126, 1000, 9240 and hand-made cases; a plain
   * move or EVENT_REMAP merge as usual). The 6.12 source lines behind it are not located.
   */
  mremapCopyMergesFreely: boolean;
  /** UFFDIO_UNREGISTER refuses (EINVAL) a range with VMAs of another userfaultfd ("userfaultfd:
   *  prevent unregistering VMAs through a different userfaultfd", v6.16-ish; kreplay-checked: on in
   *  6.18.44, absent in 6.12.118 and 6.1.176, which unregister the other context's VMAs). */
  uffdUnregisterChecksCtx: boolean;
  /**
   * A folio split restores the PTEs from migration entries that carry the dirty bit
   * (make_migration_entry_dirty → pte_mkdirty, which sets SD on x86) only where the swap entry has
   * room for it (migration_entry_supports_ad(): not with the L1TF swap-offset limit, as in qemu's
   * TCG CPU: probed). Off: a folio split keeps the PMD's soft-dirty, nothing more.
   */
  migrationEntryDirty: boolean;
}

const V6_18: KernelProfile = {
  name: '6.18',
  softDirty: true,
  zeroPage: true,
  splitUnusedToZeroPage: true,
  wpUnpopulated: true,
  wpAsync: true,
  pagemapScan: true,
  guardMarkers: true,
  uffdCloseResetsPtes: true,
  mremapClearsUffdWp: true,
  stickySoftDirtyMerge: false,
  pagemapScanNoneIsWritten: true,
  pagemapScanHoleIsWritten: true,
  thpSplitCarriesDirty: true,
  mkuffdWpClearsWrite: true,
  pagemapScanHugeZeroPfnzero: true,
  ptReclaim: true,
  hugeZeroWpAllocatesThp: true,
  uffdResolveMakesWritable: true,
  privateUpgradeWithoutDirty: true,
  writeprotectMultiVma: true,
  mremapRealignPmd: true,
  mremapMultiVma: true,
  remapEventLenMoved: true,
  longtermPinSharedFileRefused: true,
  collapseNeedsWritable: false,
  populateStopsAtHole: true,
  mergeFaultedIntoUnfaulted: true,
  uffdRegisterMergesCutPiece: true,
  mprotectUnaccountsUnfaulted: true,
  mmapMergesNextFirst: false,
  uffdRegisterMergeKeepsTargetSoftDirty: false,
  mremapCopyMergesFreely: true,
  uffdUnregisterChecksCtx: true,
  migrationEntryDirty: true,
};

export const PROFILES: Record<string, KernelProfile> = {
  '6.1': {
    ...V6_18,
    name: '6.1',
    splitUnusedToZeroPage: false,
    wpUnpopulated: false,
    wpAsync: false,
    pagemapScan: false,
    guardMarkers: false,
    uffdCloseResetsPtes: false,
    mremapClearsUffdWp: false,
    mkuffdWpClearsWrite: false,
    pagemapScanHugeZeroPfnzero: false,
    ptReclaim: false,
    pagemapScanNoneIsWritten: false,
    pagemapScanHoleIsWritten: false,
    hugeZeroWpAllocatesThp: false,
    uffdResolveMakesWritable: false,
    privateUpgradeWithoutDirty: false,
    writeprotectMultiVma: false,
    mremapRealignPmd: false,
    mremapMultiVma: false,
    remapEventLenMoved: false,
    longtermPinSharedFileRefused: false,
    collapseNeedsWritable: true,
    uffdUnregisterChecksCtx: false,
    thpSplitCarriesDirty: false,
    populateStopsAtHole: false,
    mergeFaultedIntoUnfaulted: false,
    uffdRegisterMergesCutPiece: false,
    mprotectUnaccountsUnfaulted: false,
    mmapMergesNextFirst: true,
  },
  /**
   * 6.12 LTS (Debian 13, RHEL 10): 6.18 without the switches that came later (guard markers v6.15,
   * PT_RECLAIM v6.14, the huge-zero write fault allocating a THP v6.15, multi-VMA mremap v6.17,
   * collapse of read-only ranges v6.18, the unregister context check). Checked in qemu on Debian's
   * 6.12.118 (tools/vm/record.mjs, test/96-kernel-fixtures.test.ts), whose stable backports have the
   * mremap uffd-wp clearing, the huge zero PMD as PFNZERO and the 2026 PAGEMAP_SCAN none/hole
   * WRITTEN fixes.
   */
  '6.12': {
    ...V6_18,
    name: '6.12',
    guardMarkers: false,
    ptReclaim: false,
    hugeZeroWpAllocatesThp: false,
    mremapMultiVma: false,
    collapseNeedsWritable: true,
    uffdUnregisterChecksCtx: false,
    remapEventLenMoved: false,
    mergeFaultedIntoUnfaulted: false,
    mremapCopyMergesFreely: false,
    uffdRegisterMergeKeepsTargetSoftDirty: true,
  },
  /** 6.18 as released: before the 2026 PAGEMAP_SCAN none/hole fixes. */
  '6.18.0': { ...V6_18, name: '6.18.0', pagemapScanNoneIsWritten: false, pagemapScanHoleIsWritten: false },
  /** 6.18 stable as probed on 6.18.44 (tools/probes, docs/kernel-probes.md). */
  '6.18': V6_18,
  '6.19': { ...V6_18, name: '6.19', stickySoftDirtyMerge: true },
};

/** The real kernel each profile was checked against (docs/verified-kernels.md), for `--kernel`'s help. */
export const PROFILE_VERIFIED_ON: Record<string, string> = {
  '6.1': 'verified on Debian 6.1.176 in qemu',
  '6.12': 'verified on Debian 6.12.118 in qemu',
  '6.18.0': 'from the source: 6.18 before the 2026 PAGEMAP_SCAN fixes',
  '6.18': 'verified on 6.18.44',
  '6.19': 'from the source',
};

/** "6.1 (verified on …), 6.12 (…), …": the profiles as `--kernel` lists them. */
export const profileList = (): string =>
  Object.keys(PROFILES)
    .map((n) => `${n} (${PROFILE_VERIFIED_ON[n] ?? 'from the source'})`)
    .join(', ');

export const DEFAULT_PROFILE = '6.18';

const ON = new Set(['true', '1', 'on', 'yes']);
const OFF = new Set(['false', '0', 'off', 'no']);
/** `zero_page` → `zeroPage`: options may be spelled as the kernel spells its parameters. */
const camel = (key: string): string => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Resolve a profile name plus `key=value` overrides, or throw a RangeError naming what is wrong. */
export function resolveProfile(name: string, overrides: string[] = []): KernelProfile {
  const base = PROFILES[name];
  if (!base) throw new RangeError(`unknown kernel profile "${name}" (expected one of ${Object.keys(PROFILES).join(', ')})`);
  const p: KernelProfile = { ...base };
  for (const o of overrides) {
    const m = /^(\w+)=(\w+)$/.exec(o);
    const key = m ? camel(m[1]!) : '';
    const value = m ? m[2]!.toLowerCase() : '';
    if (!m || !(key in p) || key === 'name' || !(ON.has(value) || OFF.has(value))) {
      throw new RangeError(
        `bad kernel option "${o}" (expected key=on|off (or true|false) with key one of ${Object.keys(p)
          .filter((k) => k !== 'name')
          .join(', ')})`,
      );
    }
    (p as unknown as Record<string, boolean>)[key] = ON.has(value);
    p.name = `${p.name}+${o}`;
  }
  return p;
}
