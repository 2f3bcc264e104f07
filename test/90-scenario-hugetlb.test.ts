import { describe, expect, it } from 'vitest';
import { collectOf, counter, errorsOf, pagesOf, runScenario } from './helpers/scenario.js';

const H = 0x7f0000000; // page number of the 2 MiB hugetlb page
const LANES = ['soft-dirty', 'uffd-sync', 'uffd-async'];

describe('D25 hugetlb-one-byte: uffd-wp tracks whole huge pages, soft-dirty tracks nothing (§2.1.9, §2.2.4)', () => {
  it('soft-dirty reads all 512 subpages clean: pagemap_hugetlb_range takes bit 55 from VM_SOFTDIRTY only', async () => {
    const run = await runScenario('traces/scenarios/hugetlb-one-byte.jsonl', LANES);
    const sd = pagesOf(collectOf(run, 'soft-dirty', 'after'), H, 512);
    expect(sd.reported).toBe('0'.repeat(512));
    expect(sd.gtW).toBe('0000000' + '1' + '0'.repeat(504));
    expect(sd.why[7]).toBe('hugetlb-softdirty-blind');
  });

  it('sync: one WP message for the huge page (hugetlb_fault → handle_userfault); the monitor un-protects all 2 MiB', async () => {
    const run = await runScenario('traces/scenarios/hugetlb-one-byte.jsonl', LANES);
    const c = collectOf(run, 'uffd-sync', 'after');
    expect(pagesOf(c, H, 512).reported).toBe('1'.repeat(512));
    expect(c.fp).toBe(511);
    expect(c.fpWhy).toEqual({ 'hugetlb-granularity': 511 });
    expect(counter(run, 'uffd-sync', 'fault_uffd_sync')).toBe(1);
    expect(counter(run, 'uffd-sync', 'uffd_msgs')).toBe(1);
    expect(errorsOf(run, 'uffd-sync')).toEqual([]);
  });

  it('async: huge_pte_clear_uffd_wp makes the whole huge page WRITTEN with one fault', async () => {
    const run = await runScenario('traces/scenarios/hugetlb-one-byte.jsonl', LANES);
    const c = collectOf(run, 'uffd-async', 'after');
    expect(pagesOf(c, H, 512).reported).toBe('1'.repeat(512));
    expect(c.tp).toBe(1);
    expect(c.fpWhy).toEqual({ 'hugetlb-granularity': 511 });
    expect(counter(run, 'uffd-async', 'fault_uffd_async')).toBe(1);
  });
});
