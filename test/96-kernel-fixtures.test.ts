/**
 * The simulator against real 6.1 and 6.12 kernels, without qemu: every sequence recorded by
 * `npm run verify:vm` (test/fixtures/kernel-<release>/*.json.gz, src/verify/fixtures.ts) is replayed
 * under the fixture's profile, sysfs and kernel options and compared line by line, soft-dirty
 * included. The divergences not fixed yet are listed in docs/verified-kernels.md ("Open
 * divergences") and here: they must still differ (so a fix shows up), everything else must match.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareFixture, readFixture } from '../src/verify/fixtures.js';
import { PROFILE_VERIFIED_ON, profileList } from '../src/kernel/profile.js';

const DIR = join(import.meta.dirname, 'fixtures');
const files = readdirSync(DIR)
  .filter((d) => d.startsWith('kernel-') && !d.endsWith('.json'))
  .flatMap((d) => readdirSync(join(DIR, d)).map((f) => join(d, f)));

/** release → sequence name → the rule believed to be behind it (docs/verified-kernels.md). */
const OPEN: Record<string, Record<string, string>> = {
  // None open: 6.1 seed 52 (uffdRegisterMergesCutPiece) and 6.12 seed 126 (mremapCopyMergesFreely)
  // were the last ones, both now modelled (docs/verified-kernels.md).
  '6.1.0-50-amd64': {},
  '6.12.118+deb12-amd64': {},
};

describe('recorded real-kernel answers (npm run verify:vm)', () => {
  it('--kernel names, for each VM profile, the release its fixtures were recorded on', () => {
    for (const f of files.map((x) => readFixture(join(DIR, x)))) {
      const release = /^\d+\.\d+\.\d+/.exec(f.package.version ?? '')![0]; // 6.1.176 of Debian's 6.1.176-1 (uname -r: 6.1.0-50-amd64)
      expect(PROFILE_VERIFIED_ON[f.profile]).toContain(release);
      expect(profileList()).toContain(`${f.profile} (verified on Debian ${release} in qemu)`);
    }
  });

  it('fixtures of both VM kernels are present, soft-dirty compiled in', () => {
    const fx = files.map((f) => readFixture(join(DIR, f)));
    expect(new Set(fx.map((f) => f.profile))).toEqual(new Set(['6.1', '6.12']));
    for (const f of fx) {
      expect(f.config.CONFIG_MEM_SOFT_DIRTY).toBe('y');
      expect(f.kernelOpts).not.toContain('soft_dirty=off');
      expect(f.sequences.length).toBeGreaterThan(30);
    }
  });

  for (const file of files) {
    it(`${file}: the simulator matches every recorded sequence but the open divergences`, () => {
      const f = readFixture(join(DIR, file));
      const open = OPEN[f.release] ?? {};
      const res = compareFixture(f);
      const bad = res.filter((r) => r.count > 0 && !(r.name in open));
      expect(bad.map((r) => `${r.name}:\n${r.report}`).join('\n\n')).toBe('');
      const fixed = res.filter((r) => r.name in open && r.count === 0).map((r) => r.name);
      expect(fixed, 'listed as open but matching now: remove from OPEN and the docs').toEqual([]);
    });
  }

  it('soft-dirty is really compared: the same recordings under soft_dirty=off differ', () => {
    const f = readFixture(join(DIR, files.find((x) => x.includes('6.12') && x.endsWith('cases.json.gz'))!));
    const off = compareFixture({ ...f, kernelOpts: [...f.kernelOpts, 'soft_dirty=off'] });
    const sd = off.filter((r) => r.count > 0).map((r) => r.name);
    expect(sd).toContain('VM_SOFTDIRTY on a new VMA, cleared by clear_refs 4; a store sets the PTE bit; a read maps the zero page clean');
    expect(sd.length).toBeGreaterThan(10);
  });

  // Each switch found by the larger VM fuzz of this round is needed: its recorded case matches with the
  // kernel's setting and differs with the other one (docs/verified-kernels.md, docs/kernel-rules.md §2.4, §2.13, §2.14).
  it.each([
    ['6.1', 'uffd_register_merges_cut_piece=on', 'UFFDIO_(UN)REGISTER: a piece cut from inside a VMA stays apart before v6.4'],
    ['6.1', 'mprotect_unaccounts_unfaulted=on', 'mprotect: a never-faulted piece made rw then PROT_NONE keeps VM_ACCOUNT'],
    ['6.12', 'mremap_copy_merges_freely=on', 'mremap DONTUNMAP: the copy next to its own source VMA'],
    ['6.1', 'migration_entry_dirty=off', 'folio split of a PTE-mapped THP: a dirty PTE comes back soft-dirty'],
    ['6.1', 'mmap_merges_next_first=off', 'mmap between two mergeable VMAs'],
    ['6.12', 'mmap_merges_next_first=on', 'mmap between two mergeable VMAs'],
    ['6.12', 'uffd_register_merge_keeps_target_soft_dirty=off', 'UFFDIO_REGISTER merging a piece into a registered neighbour'],
    ['6.1', 'uffd_register_merge_keeps_target_soft_dirty=on', 'UFFDIO_REGISTER merging a piece into a registered neighbour'],
  ])('the %s recordings need the profile setting that %s would undo', (series, flip, casePrefix) => {
    const f = readFixture(join(DIR, files.find((x) => x.includes(`kernel-${series}.`) && x.endsWith('cases.json.gz'))!));
    const name = f.sequences.map((s) => s.name).find((n) => n.startsWith(casePrefix))!;
    expect(name, casePrefix).toBeDefined();
    const count = (opts: string[]) => compareFixture({ ...f, kernelOpts: opts }).find((r) => r.name === name)!.count;
    expect(count(f.kernelOpts)).toBe(0);
    expect(count([...f.kernelOpts, flip])).toBeGreaterThan(0);
  });

  it('the 6.12 recordings contradict the 6.18 profile (the 6.12 profile is needed)', () => {
    const f = readFixture(join(DIR, files.find((x) => x.includes('6.12') && x.endsWith('cases.json.gz'))!));
    expect(compareFixture(f, '6.18').filter((r) => r.count > 0).length).toBeGreaterThan(0);
  });
});
