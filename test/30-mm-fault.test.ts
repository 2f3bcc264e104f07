import { describe, expect, it } from 'vitest';
import { ACCESS_OK } from '../src/mm/access.js';
import { FAULT_BLOCKED, FAULT_SIGSEGV } from '../src/mm/fault.js';
import { A, D, EXCL, MARKER, PG_ZERO, PRESENT, SD, UW, W } from '../src/mm/pte.js';
import { PAGE_SIZE, UFFD_API, UFFD_FEATURE_WP_ASYNC, UFFD_FEATURE_WP_UNPOPULATED } from '../src/mm/uapi.js';
import { uffdioApi, uffdioRegister, uffdioWriteprotect, uffdUserfaultfd } from '../src/trackers/userfaultfd.js';
import { faults, load, map, pte, store, system } from './30-mm-helpers.js';

const BASE = 0x7f0000000; // page number of 0x7f0000000000

function arm(mm: Parameters<typeof store>[0], features: number, pages = 4) {
  uffdUserfaultfd(mm, 3, []);
  expect(uffdioApi(mm, 3, UFFD_API, features)).toBe(0);
  expect(uffdioRegister(mm, 3, BASE * PAGE_SIZE, pages * PAGE_SIZE, 2)).toBe(0);
  expect(uffdioWriteprotect(mm, 3, BASE * PAGE_SIZE, pages * PAGE_SIZE, 1)).toBe(0);
}

describe('fault path (kernel-semantics.md §2.1)', () => {
  it('do_anonymous_page: a store maps an exclusive page W D SD; a load maps the zero page read-only (§2.1.3)', () => {
    const { mm } = system();
    map(mm, BASE, 4);
    expect(store(mm, BASE)).toBe(ACCESS_OK);
    expect(pte(mm, BASE)).toBe(PRESENT | W | D | A | SD | EXCL);
    expect(load(mm, BASE + 1)).toBe(ACCESS_OK);
    expect(pte(mm, BASE + 1) & (PG_ZERO | W | SD)).toBe(PG_ZERO);
  });

  it('an access outside any VMA is SIGSEGV and changes nothing', () => {
    const { mm } = system();
    expect(store(mm, BASE)).toBe(FAULT_SIGSEGV);
    expect(mm.leaves.size).toBe(0);
  });

  it('async WP: one fault clears UW and reuses the page (do_wp_page async branch, §2.7)', () => {
    const { sys, mm } = system();
    map(mm, BASE, 4);
    store(mm, BASE);
    arm(mm, UFFD_FEATURE_WP_ASYNC);
    expect(pte(mm, BASE) & (UW | W)).toBe(UW);
    const before = faults(sys).fault_uffd_async;
    expect(store(mm, BASE)).toBe(ACCESS_OK);
    expect(faults(sys).fault_uffd_async - before).toBe(1);
    expect(pte(mm, BASE) & (UW | W | SD)).toBe(W | SD);
  });

  it('async WP: untouched pages get uffd-wp markers (WP_ASYNC implies WP_UNPOPULATED, §2.3) and a store on one costs 2 faults (§2.1.5)', () => {
    const { sys, mm } = system();
    map(mm, BASE, 4);
    arm(mm, UFFD_FEATURE_WP_ASYNC);
    expect(pte(mm, BASE + 2)).toBe(MARKER | UW);
    const f0 = faults(sys);
    expect(store(mm, BASE + 2)).toBe(ACCESS_OK);
    const f1 = faults(sys);
    expect(f1.fault_marker - f0.fault_marker).toBe(1);
    expect(f1.fault_uffd_async - f0.fault_uffd_async).toBe(1);
    expect(pte(mm, BASE + 2) & (UW | W)).toBe(W);
  });

  it('sync WP without WP_UNPOPULATED: a store to an untouched anon page is not caught (D10)', () => {
    const { sys, mm } = system();
    map(mm, BASE, 4);
    arm(mm, 0);
    expect(pte(mm, BASE)).toBe(0);
    expect(store(mm, BASE)).toBe(ACCESS_OK);
    expect(faults(sys).fault_uffd_sync).toBe(0);
  });

  it('sync WP with WP_UNPOPULATED: a store on a marker installs RO+UW, then blocks in handle_userfault (D11)', () => {
    const { sys, mm } = system();
    map(mm, BASE, 4);
    arm(mm, UFFD_FEATURE_WP_UNPOPULATED);
    expect(store(mm, BASE)).toBe(FAULT_BLOCKED);
    expect(pte(mm, BASE) & (UW | W | D | SD)).toBe(UW | D | SD);
    expect(mm.fds.get(3)!.queue).toHaveLength(1);
    expect(faults(sys).fault_uffd_sync).toBe(1);
  });
});

describe('hugetlb (kernel-semantics.md §2.1.9, D25)', () => {
  it('async uffd-wp on a 2 MiB hugetlb page: one store un-protects the whole huge page (huge_pte_clear_uffd_wp)', () => {
    const { sys, mm } = system();
    const base = 0x7f0000000; // 2 MiB aligned page number
    map(mm, base, 512, ['private', 'anonymous', 'hugetlb']);
    expect(store(mm, base)).toBe(ACCESS_OK);
    const leaf = mm.leafOf(base)!;
    expect(leaf.pmd & (PRESENT | W)).toBe(PRESENT | W);
    arm(mm, UFFD_FEATURE_WP_ASYNC, 512);
    expect(leaf.pmd & (UW | W)).toBe(UW);
    const before = faults(sys).fault_uffd_async;
    expect(store(mm, base + 7)).toBe(ACCESS_OK);
    expect(faults(sys).fault_uffd_async - before).toBe(1);
    expect(leaf.pmd & (UW | W)).toBe(W);
  });
});
