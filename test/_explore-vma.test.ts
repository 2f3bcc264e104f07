import { it } from 'vitest';
import { runScenario, pagesOf, errorsOf, counter } from './helpers/scenario.js';
const S = 'traces/scenarios/';
const cases: [string, string[], number, number][] = [
  ['control-write', ['soft-dirty','uffd-sync','uffd-sync+unpop','uffd-async','uffd-async:read=generic','uffd-async:read=pagemap'], 0x7f0000000, 4],
  ['same-value', ['soft-dirty','uffd-sync','uffd-sync+unpop','uffd-async'], 0x7f0000000, 4],
  ['vma-merge', ['soft-dirty','uffd-sync','uffd-sync+unpop','uffd-async','uffd-async:read=generic','uffd-async:read=pagemap'], 0x7f0000000, 5],
  ['brk-grow', ['soft-dirty','uffd-sync','uffd-sync+unpop','uffd-async'], 0x555555559, 5],
  ['vma-merge-coupling', ['soft-dirty','uffd-sync','uffd-sync+unpop','uffd-async'], 0x7f0000000, 5],
  ['munmap-remap', ['soft-dirty','uffd-sync','uffd-sync+unpop','uffd-async','uffd-async:read=pagemap'], 0x7f0000000, 2],
  ['mprotect-roundtrip', ['soft-dirty','uffd-sync','uffd-sync+unpop','uffd-async'], 0x7f0000000, 4],
  ['merge-mprotect', ['soft-dirty','soft-dirty:kernel=6.19','uffd-sync','uffd-async'], 0x7f0000001, 2],
  ['merge-mremap', ['soft-dirty','soft-dirty:kernel=6.19','uffd-sync','uffd-async'], 0x7f0000001, 2],
  ['clear-refs-two-consumers', ['soft-dirty','uffd-sync','uffd-sync+unpop','uffd-async'], 0x7f0000010, 4],
];
it('explore', async () => {
  for (const [f, lanes, vpn, n] of cases) {
    const run = await runScenario(S + f + '.jsonl', lanes);
    console.log('=== ' + f);
    for (const l of lanes) {
      const name = run.lanes.find((x) => x.config.name === l)!.config.name;
      for (const c of run.collects.get(name)!) {
        const p = pagesOf(c, vpn, n);
        console.log(l.padEnd(26), (c.label ?? '').padEnd(13), p.reported, 'W', p.gtW, 'C', p.gtC, JSON.stringify(p.why), c.errors.join(';'));
      }
      const lane = run.lanes.find((x) => x.config.name === name)!;
      console.log('   vmas', lane.sys.mm(1)!.vmas.list.map((v) => `${v.start.toString(16)}-${v.end.toString(16)}`).join(' '), 'errs', errorsOf(run, name).join(';'),
        'f_miss', counter(run, name, 'fault_missing'), 'reuse', counter(run, name, 'fault_wp_reuse'), 'sync', counter(run, name, 'fault_uffd_sync'), 'async', counter(run, name, 'fault_uffd_async'), 'msgs', counter(run, name, 'uffd_msgs'), 'cow', counter(run, name, 'fault_cow'));
    }
  }
});
