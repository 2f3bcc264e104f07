import { describe, expect, it } from 'vitest';
import { ACCESS_OK } from '../src/mm/access.js';
import { FAULT_BLOCKED, FAULT_SIGSEGV } from '../src/mm/fault-types.js';
import { Why } from '../src/mm/cause.js';
import { doMadvise } from '../src/mm/madvise.js';
import { A, D, EXCL, MARKER, PG_ANON, PG_ZERO, PMD_TABLE, PRESENT, SD, UW, W } from '../src/mm/pte.js';
import { UFFD_FEATURE_WP_ASYNC, UFFD_FEATURE_WP_UNPOPULATED } from '../src/mm/uapi.js';
import { armUffd, clearRefs, entry, faults, map, PG, sdWhy, setup, tryLoad, tryStore } from './helpers/mm.js';

const BASE = 0x7f0000000; // page number of 0x7f0000000000

describe('fault path (docs/kernel-rules.md §2.1)', () => {
  it('do_anonymous_page: a store maps an exclusive page W D SD; a load maps the zero page read-only (§2.1.3)', () => {
    const { mm } = setup();
    map(mm, BASE, 4);
    expect(tryStore(mm, BASE)).toBe(ACCESS_OK);
    expect(entry(mm, BASE)).toBe(PRESENT | W | D | A | SD | EXCL);
    expect(tryLoad(mm, BASE + 1)).toBe(ACCESS_OK);
    expect(entry(mm, BASE + 1) & (PG_ZERO | W | SD)).toBe(PG_ZERO);
  });

  it('zero_page=off (mm_forbids_zeropage at fault time, pvm_no_zero_page=1): a load maps a fresh exclusive page W D SD, and the store after it does not fault', () => {
    const { sys, mm } = setup('6.18', {}, ['zero_page=off']);
    map(mm, BASE, 4);
    clearRefs(mm);
    expect(tryLoad(mm, BASE + 1)).toBe(ACCESS_OK);
    expect(entry(mm, BASE + 1)).toBe(PRESENT | PG_ANON | W | D | A | SD | EXCL);
    expect(sdWhy(mm, BASE + 1)).toBe(Why.READ_ALLOC);
    const before = faults(sys);
    expect(tryStore(mm, BASE + 1)).toBe(ACCESS_OK);
    expect(faults(sys)).toEqual(before);
    // A read-only VMA: the page is allocated clean and read-only (maybe_mkwrite: no VM_WRITE).
    map(mm, BASE + 8, 1, { prot: { read: true, write: false, exec: false } });
    expect(tryLoad(mm, BASE + 8)).toBe(ACCESS_OK);
    expect(entry(mm, BASE + 8)).toBe(PRESENT | PG_ANON | A | EXCL);
  });

  it('zero_page=off: MADV_POPULATE_READ allocates pages too; a THP read fault allocates a dirty THP instead of the huge zero page (do_huge_pmd_anonymous_page)', () => {
    const { mm } = setup('6.18', { thp: 'always' }, ['zero_page=off']);
    map(mm, BASE + 1024, 4, { prot: { read: true, write: true, exec: false } });
    expect(doMadvise(mm, (BASE + 1024) * PG, 4 * PG, 'populate_read')).toBe(0);
    expect(entry(mm, BASE + 1024) & (PG_ZERO | PG_ANON | EXCL | W)).toBe(PG_ANON | EXCL | W);
    map(mm, BASE, 512);
    expect(tryLoad(mm, BASE + 3)).toBe(ACCESS_OK);
    const pmd = mm.leafOf(BASE)!.pmd;
    expect(pmd !== PMD_TABLE && (pmd & (PG_ZERO | PG_ANON | W | D | SD)) === (PG_ANON | W | D | SD)).toBe(true);
    // The same read with the zero page on maps the huge zero page, clean and read-only.
    const on = setup('6.18', { thp: 'always' });
    map(on.mm, BASE, 512);
    expect(tryLoad(on.mm, BASE + 3)).toBe(ACCESS_OK);
    expect(on.mm.leafOf(BASE)!.pmd & (PG_ZERO | PG_ANON | W | SD)).toBe(PG_ZERO);
  });

  it('folio split: unused subpages become the zero page (try_to_map_unused_to_zeropage, v6.12) unless split_unused_to_zero_page=off (mm_forbids_zeropage) or on 6.1', () => {
    for (const [profile, opts, zero] of [
      ['6.18', [], true],
      ['6.18', ['zero_page=off'], true],
      ['6.18', ['zero_page=off', 'split_unused_to_zero_page=off'], false],
      ['6.1', [], false],
    ] as const) {
      const { mm } = setup(profile, { thp: 'always' }, [...opts]);
      map(mm, BASE, 512);
      expect(tryStore(mm, BASE)).toBe(ACCESS_OK);
      expect(doMadvise(mm, BASE * PG, 256 * PG, 'cold')).toBe(0);
      expect(`${profile} ${opts.join(',')}: ${entry(mm, BASE + 1) & PG_ZERO ? 'zero' : 'kept'}`).toBe(
        `${profile} ${opts.join(',')}: ${zero ? 'zero' : 'kept'}`,
      );
      expect(entry(mm, BASE) & PG_ZERO).toBe(0);
    }
  });

  it('an access outside any VMA is SIGSEGV and changes nothing', () => {
    const { mm } = setup();
    expect(tryStore(mm, BASE)).toBe(FAULT_SIGSEGV);
    expect(mm.leaves.size).toBe(0);
  });

  it('async WP: one fault clears UW and reuses the page (do_wp_page async branch, §2.7)', () => {
    const { sys, mm } = setup();
    const v = map(mm, BASE, 4);
    tryStore(mm, BASE);
    armUffd(mm, v, UFFD_FEATURE_WP_ASYNC);
    expect(entry(mm, BASE) & (UW | W)).toBe(UW);
    const before = faults(sys).fault_uffd_async!;
    expect(tryStore(mm, BASE)).toBe(ACCESS_OK);
    expect(faults(sys).fault_uffd_async! - before).toBe(1);
    expect(entry(mm, BASE) & (UW | W | SD)).toBe(W | SD);
  });

  it('async WP: untouched pages get uffd-wp markers (WP_ASYNC implies WP_UNPOPULATED, §2.3) and a store on one costs 2 faults (§2.1.5)', () => {
    const { sys, mm } = setup();
    armUffd(mm, map(mm, BASE, 4), UFFD_FEATURE_WP_ASYNC);
    expect(entry(mm, BASE + 2)).toBe(MARKER | UW);
    const f0 = faults(sys);
    expect(tryStore(mm, BASE + 2)).toBe(ACCESS_OK);
    const f1 = faults(sys);
    expect(f1.fault_marker! - f0.fault_marker!).toBe(1);
    expect(f1.fault_uffd_async! - f0.fault_uffd_async!).toBe(1);
    expect(entry(mm, BASE + 2) & (UW | W)).toBe(W);
  });

  it('sync WP without WP_UNPOPULATED: a store to an untouched anon page is not caught (D10)', () => {
    const { sys, mm } = setup();
    armUffd(mm, map(mm, BASE, 4), 0);
    expect(entry(mm, BASE)).toBe(0);
    expect(tryStore(mm, BASE)).toBe(ACCESS_OK);
    expect(faults(sys).fault_uffd_sync).toBe(0);
  });

  it('sync WP with WP_UNPOPULATED: a store on a marker installs RO+UW, then blocks in handle_userfault (D11)', () => {
    const { sys, mm } = setup();
    const ctx = armUffd(mm, map(mm, BASE, 4), UFFD_FEATURE_WP_UNPOPULATED);
    expect(tryStore(mm, BASE)).toBe(FAULT_BLOCKED);
    expect(entry(mm, BASE) & (UW | W | D | SD)).toBe(UW | D | SD);
    expect(ctx.queue).toHaveLength(1);
    expect(faults(sys).fault_uffd_sync).toBe(1);
  });
});

describe('hugetlb (docs/kernel-rules.md §2.1.9, D25)', () => {
  it('async uffd-wp on a 2 MiB hugetlb page: one store un-protects the whole huge page (huge_pte_clear_uffd_wp)', () => {
    const { sys, mm } = setup();
    const base = 0x7f0000000; // 2 MiB aligned page number
    const v = map(mm, base, 512, { hugetlb: true });
    expect(tryStore(mm, base)).toBe(ACCESS_OK);
    const leaf = mm.leafOf(base)!;
    expect(leaf.pmd & (PRESENT | W)).toBe(PRESENT | W);
    armUffd(mm, v, UFFD_FEATURE_WP_ASYNC);
    expect(leaf.pmd & (UW | W)).toBe(UW);
    const before = faults(sys).fault_uffd_async!;
    expect(tryStore(mm, base + 7)).toBe(ACCESS_OK);
    expect(faults(sys).fault_uffd_async! - before).toBe(1);
    expect(leaf.pmd & (UW | W)).toBe(W);
  });
});
