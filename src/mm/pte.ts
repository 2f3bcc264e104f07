/**
 * Page-table entry state, packed in 16 bits (docs/kernel-rules.md §1.1). The same encoding is used for
 * PTEs, huge PMD entries and hugetlb entries, and it is what the event store records as old/new state.
 *
 *   bits 0-1  kind: NONE (pte_none), MARKER (PTE marker, swap format), PRESENT, SWAP (swap or migration entry)
 *   bit  2    W   hardware writable
 *   bit  3    D   hardware dirty
 *   bit  4    A   hardware accessed (young)
 *   bit  5    SD  soft-dirty (_PAGE_SOFT_DIRTY, or _PAGE_SWP_SOFT_DIRTY in swap format)
 *   bit  6    UW  uffd-wp (_PAGE_UFFD_WP, _PAGE_SWP_UFFD_WP, or PTE_MARKER_UFFD_WP on a marker)
 *   bits 7-8  page: ANON, FILE, SHMEM, ZERO (the shared zero page / huge zero page)
 *   bit  9    EXCL PageAnonExclusive (present anon) / exclusive swap entry
 *   bit 10    GUARD  PTE_MARKER_GUARD
 *   bit 11    POISON PTE_MARKER_POISONED
 *   bit 12    MIGRATION (swap kind: a migration entry)
 *   bit 13    PROTNONE  present but inaccessible (x86 _PAGE_PROTNONE: PROT_NONE mappings)
 *
 * A PMD slot additionally uses bit 15 (PMD_TABLE) to say "points to a PTE table"; a PMD slot of 0 is a
 * hole (no page table at all).
 */
export const KIND_MASK = 0x3;
export const NONE = 0;
export const MARKER = 1;
export const PRESENT = 2;
export const SWAP = 3;

export const W = 1 << 2;
export const D = 1 << 3;
export const A = 1 << 4;
export const SD = 1 << 5;
export const UW = 1 << 6;

export const PAGE_SHIFT_BITS = 7;
export const PAGE_MASK = 0x3 << PAGE_SHIFT_BITS;
export const PG_ANON = 0 << PAGE_SHIFT_BITS;
export const PG_FILE = 1 << PAGE_SHIFT_BITS;
export const PG_SHMEM = 2 << PAGE_SHIFT_BITS;
export const PG_ZERO = 3 << PAGE_SHIFT_BITS;

export const EXCL = 1 << 9;
export const GUARD = 1 << 10;
export const POISON = 1 << 11;
export const MIGRATION = 1 << 12;
export const PROTNONE = 1 << 13;

/** PMD slot flag: a PTE table is installed (pmd_present && !pmd_trans_huge). */
export const PMD_TABLE = 1 << 15;

/** pte_none(). */
export const isNone = (e: number): boolean => (e & KIND_MASK) === NONE;
/** pte_present() (a PROTNONE entry is present too, as on x86). */
export const isPresent = (e: number): boolean => (e & KIND_MASK) === PRESENT;
/** pte_marker_uffd_wp(): a uffd-wp marker (not a swap entry with UW). */
export const isUffdWpMarker = (e: number): boolean => (e & KIND_MASK) === MARKER && (e & UW) !== 0;

/** pte_uffd_wp / pte_swp_uffd_wp_any: the entry carries uffd-wp protection in any form. */
export const hasUffdWp = (e: number): boolean => (e & KIND_MASK) !== NONE && (e & UW) !== 0;
/** pte_soft_dirty / pte_swp_soft_dirty: the entry carries SD in any form (markers included). */
export const hasSoftDirty = (e: number): boolean => (e & KIND_MASK) !== NONE && (e & SD) !== 0;

/** make a uffd-wp marker (make_pte_marker(PTE_MARKER_UFFD_WP)). */
export const UFFD_WP_MARKER = MARKER | UW;

/** pte_mkuffd_wp: on x86 since v6.2 it also write-protects (docs/kernel-rules.md §0.2). */
export const pteMkUffdWp = (e: number): number => (e | UW) & ~W;

/** The single-bit flags of a state word, for the store's lookup table. */
export const PTE_BIT_LABELS: [number, string, string][] = [
  [W, 'W', 'hardware writable'],
  [D, 'D', 'hardware dirty'],
  [A, 'A', 'hardware accessed (young)'],
  [SD, 'SD', 'soft-dirty (_PAGE_SOFT_DIRTY, or swap-format _PAGE_SWP_SOFT_DIRTY)'],
  [UW, 'UW', 'uffd-wp (_PAGE_UFFD_WP, swap-format _PAGE_SWP_UFFD_WP, or PTE_MARKER_UFFD_WP on a marker)'],
  [EXCL, 'excl', 'PageAnonExclusive (present anon) / exclusive swap entry'],
  [GUARD, 'guard', 'PTE_MARKER_GUARD'],
  [POISON, 'poison', 'PTE_MARKER_POISONED'],
  [MIGRATION, 'migration', 'a migration entry (swap kind)'],
  [PROTNONE, 'protnone', 'present but inaccessible (_PAGE_PROTNONE)'],
  [PMD_TABLE, 'table', 'PMD slot: points to a PTE table'],
];

/** A readable name for an entry, e.g. "present anon W D A SD excl", "marker uffd-wp", "none". */
export function describePte(e: number): string {
  if (e & PMD_TABLE) return 'table';
  const kind = e & KIND_MASK;
  if (kind === NONE) return 'none';
  if (kind === MARKER) {
    const m = [e & UW && 'uffd-wp', e & GUARD && 'guard', e & POISON && 'poison', e & SD && 'SD'].filter(Boolean);
    return `marker ${m.join(' ')}`.trim();
  }
  const bits = [e & W && 'W', e & D && 'D', e & A && 'A', e & SD && 'SD', e & UW && 'UW', e & EXCL && 'excl'].filter(Boolean);
  if (kind === SWAP) return `${e & MIGRATION ? 'migration' : 'swap'} ${bits.join(' ')}`.trim();
  const page = ['anon', 'file', 'shmem', 'zero'][(e & PAGE_MASK) >> PAGE_SHIFT_BITS];
  return `present ${page} ${bits.join(' ')}`.trim();
}
