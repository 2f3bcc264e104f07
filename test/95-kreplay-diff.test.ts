/**
 * Differential test: the same operations on the real kernel (tools/kreplay) and in the simulator,
 * every observable compared (src/verify/kreplay.ts). Skipped where kreplay cannot run (not
 * x86-64 Linux, no gcc, userfaultfd not permitted, no WP_ASYNC / PAGEMAP_SCAN).
 *
 * Hand-written sequences cover the §3 divergences that involve uffd-wp and PAGEMAP_SCAN; then a
 * seeded fuzz run (KREPLAY_FUZZ=N sequences, default 30; KREPLAY_SEED, KREPLAY_OPS) mixes mapping
 * changes, accesses, registrations, write-protects and scans. Offsets are relative to kreplay's
 * base, in pages ('p' suffix).
 */
import { describe, expect, it } from 'vitest';
import {
  SOFT_DIRTY_PROBE,
  ZERO_PAGE_PROBE,
  compare,
  diffMany,
  hostKernelOpts,
  kreplayUsable,
  machineSysfs,
  runKernel,
  simRun,
} from '../src/verify/kreplay.js';
import { fuzzSequence } from '../src/verify/fuzz.js';
import { CASES, REGRESSIONS, SOFT_DIRTY_CASES, SOFT_DIRTY_THP_CASES, THP_CASES } from '../src/verify/cases.js';

const usable = kreplayUsable();
const thpOn = usable.ok && machineSysfs().thp !== 'never';
/** What the host's kernel needs beyond its profile (probed once: zero page or not). */
const hostOpts = usable.ok ? hostKernelOpts() : [];

/* ------------------------------------------------------------------ fuzz */

describe.skipIf(!usable.ok)(
  `kreplay differential (${usable.ok ? `real kernel, --kernel-opt ${hostOpts.join(' ') || 'none'}` : `skipped: ${usable.why}`})`,
  () => {
    it('the zero-page probe configures the simulator, and a simulator set the other way differs from the host (do_anonymous_page, mm_forbids_zeropage)', () => {
      // A sequence whose every observable depends on the zero page: a read fault, then a store that
      // either reuses the read-allocated page (no zero page) or CoWs the zero page, seen in pagemap and
      // PAGEMAP_SCAN (PAGE_IS_PFNZERO 0x20) before and after.
      const cmds = [
        ...ZERO_PAGE_PROBE,
        'read 1025p',
        'pagemap_scan 1024p 1025p 0 0 0 0 0x7f 16 0',
        'write 1024p',
        'pagemap 1024p 1',
        'mmap 2048p 512p rw private|anonymous|fixed',
        'madvise 2048p 512p hugepage',
        'read 2050p',
        'pagemap 2048p 4',
        'pagemap_scan 2048p 2560p 0 0 0 0 0x7f 16 0',
      ];
      const kernel = runKernel([cmds])[0]!;
      const zeroOff = hostOpts.includes('zero_page=off');
      expect(kernel[2]).toBe(zeroOff ? 'ok 1024+1:PX' : 'ok 1024+1:P');
      expect(compare(cmds, kernel, simRun(cmds, '6.18', undefined, hostOpts))).toEqual([]);
      const other = zeroOff ? [] : ['zero_page=off'];
      expect(compare(cmds, kernel, simRun(cmds, '6.18', undefined, other)).length).toBeGreaterThan(0);
    });

    it('the soft-dirty probe configures the simulator: with CONFIG_MEM_SOFT_DIRTY off nothing reads soft-dirty and clear_refs 4 write-protects nothing', () => {
      const cmds = [
        ...SOFT_DIRTY_PROBE,
        'clear_refs 4',
        'pagemap 1024p 1',
        'pagemap_scan 1024p 1025p 0 0 0 0 0xff 16 0',
        'write 1024p',
        'pagemap 1024p 1',
      ];
      const kernel = runKernel([cmds])[0]!;
      const sdOff = hostOpts.includes('soft_dirty=off');
      expect(kernel[2]).toBe(sdOff ? 'ok 1024+1:PX' : 'ok 1024+1:PXD');
      expect(compare(cmds, kernel, simRun(cmds, '6.18', undefined, hostOpts))).toEqual([]);
      const other = sdOff ? hostOpts.filter((o) => o !== 'soft_dirty=off') : [...hostOpts, 'soft_dirty=off'];
      expect(compare(cmds, kernel, simRun(cmds, '6.18', undefined, other)).length).toBeGreaterThan(0);
    });

    it('soft-dirty sequences match the real kernel (with its soft-dirty config)', () => {
      const all = { ...SOFT_DIRTY_CASES, ...(thpOn ? SOFT_DIRTY_THP_CASES : {}) };
      const names = Object.keys(all);
      const res = diffMany(names.map((n) => all[n]!));
      const bad = names.map((n, i) => [n, res[i]!] as const).filter(([, r]) => r.mismatches.length > 0);
      expect(bad.map(([n, r]) => `${n}:\n${r.report}`).join('\n\n')).toBe('');
    });

    it('the swap probe configures the simulator: MADV_PAGEOUT swaps anonymous pages out only with a swap device (shrink_folio_list, folio_alloc_swap)', () => {
      const cmds = [
        'mmap 1024p 4p rw private|anonymous|fixed',
        'write 1024p',
        'write 1025p',
        'madvise 1024p 2p pageout',
        'pagemap 1024p 4',
        'write 1024p',
        'pagemap 1024p 4',
      ];
      const kernel = runKernel([cmds])[0]!;
      const sysfs = machineSysfs();
      expect(kernel[4]!.startsWith(sysfs.swap ? 'ok 1024+2:S' : 'ok 1024+2:PX')).toBe(true);
      expect(compare(cmds, kernel, simRun(cmds, '6.18', sysfs, hostOpts))).toEqual([]);
      expect(compare(cmds, kernel, simRun(cmds, '6.18', { ...sysfs, swap: !sysfs.swap }, hostOpts)).length).toBeGreaterThan(0);
    });

    it('hand-written §3 sequences match the real kernel', () => {
      const names = Object.keys(CASES);
      const res = diffMany(names.map((n) => CASES[n]!));
      const bad = names.map((n, i) => [n, res[i]!] as const).filter(([, r]) => r.mismatches.length > 0);
      expect(bad.map(([n, r]) => `${n}:\n${r.report}`).join('\n\n')).toBe('');
    });

    it('regressions found by the fuzzer match the real kernel', () => {
      const names = Object.keys(REGRESSIONS);
      const res = diffMany(names.map((n) => REGRESSIONS[n]!));
      const bad = names.map((n, i) => [n, res[i]!] as const).filter(([, r]) => r.mismatches.length > 0);
      expect(bad.map(([n, r]) => `${n}:\n${r.report}`).join('\n\n')).toBe('');
    });

    it.skipIf(!thpOn)('THP sequences (D16, folio splits, collapse) match the real kernel', () => {
      const names = Object.keys(THP_CASES);
      const res = diffMany(names.map((n) => THP_CASES[n]!));
      const bad = names.map((n, i) => [n, res[i]!] as const).filter(([, r]) => r.mismatches.length > 0);
      expect(bad.map(([n, r]) => `${n}:\n${r.report}`).join('\n\n')).toBe('');
    });

    it('seeded fuzz sequences match the real kernel', () => {
      const n = Number(process.env.KREPLAY_FUZZ ?? 30);
      const seed0 = Number(process.env.KREPLAY_SEED ?? 1);
      const nOps = Number(process.env.KREPLAY_OPS ?? 40);
      const seqs = Array.from({ length: n }, (_, i) => fuzzSequence(seed0 + i, nOps, thpOn && (seed0 + i) % 3 !== 0));
      const bad: string[] = [];
      for (let i = 0; i < seqs.length; i += 50) {
        const batch = seqs.slice(i, i + 50);
        diffMany(batch).forEach((r, j) => {
          if (r.mismatches.length > 0) bad.push(`seed ${seed0 + i + j}:\n${r.report}`);
        });
      }
      expect(bad.slice(0, 5).join('\n\n') + (bad.length > 5 ? `\n... ${bad.length} sequences differ` : '')).toBe('');
    }, 600_000);
  },
);
