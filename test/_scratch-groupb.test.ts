import { it } from 'vitest';
import { runScenario, pagesOf, collectOf, counter, errorsOf } from './helpers/scenario.js';
import { COUNTER_NAMES } from '../src/lanes/results.js';

const S = 'traces/scenarios/';
const V = 0x7f0000000;
async function dump(file: string, lanes: string[], ranges: [number, number][]) {
  const run = await runScenario(S + file, lanes);
  console.log('=====', file);
  for (const lane of lanes) {
    const name = run.lanes.find((l) => l.config.name === lane || l.config.name === lane)!.config.name;
    for (const c of run.collects.get(name)!) {
      const parts = ranges.map(([v, n]) => { const p = pagesOf(c, v, n); return `${p.reported}/${p.gtW}/${p.gtC} ${p.why.join(',')}`; });
      const cost = Object.fromEntries(COUNTER_NAMES.map((n, i) => [n, c.cost[i]]).filter(([n, v]) => (v as number) !== 0 && String(n).startsWith('fault') || n === 'uffd_msgs' && v));
      console.log(name.padEnd(40), String(c.label).padEnd(10), parts.join(' | '), JSON.stringify(cost), c.errors.join(';'));
    }
    console.log('   errors', errorsOf(run, name).join(', '));
  }
  return run;
}
const LANES = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async', 'uffd-async:read=generic', 'uffd-async:read=pagemap',
  'uffd-async:kernel=6.18.0', 'uffd-async:read=generic,kernel=6.18.0', 'uffd-async:read=pagemap,kernel=6.18.0'];
it('dump', async () => {
  await dump('dontneed-anon.jsonl', LANES, [[V, 4], [V + 512, 6], [V + 1020, 4]]);
  await dump('dontneed-then-store.jsonl', LANES, [[V, 4]]);
  await dump('shmem-dontneed.jsonl', LANES, [[V, 4]]);
  await dump('unpopulated-sync.jsonl', LANES, [[V, 4], [V + 256, 2]]);
  await dump('unpopulated-markers.jsonl', LANES, [[V, 4]]);
  await dump('swap-anon.jsonl', LANES, [[V, 4]]);
  await dump('shmem-reclaim.jsonl', LANES, [[V, 4]]);
  await dump('kernel-store.jsonl', LANES, [[V, 4]]);
  const r = await dump('kernel-store-user-mode-only.jsonl', ['soft-dirty', 'uffd-sync', 'uffd-async'], [[V, 4], [V + 256, 4]]);
  for (const l of ['soft-dirty', 'uffd-sync', 'uffd-async']) console.log(l, counter(r, l, 'fault_efault'), counter(r, l, 'uffd_msgs'));
  for (const f of ['uffd-close.jsonl', 'scan-mixed-vmas.jsonl']) {
    const run = await runScenario(S + f, ['none:kernel=6.18', 'none:kernel=6.1']);
    for (const [k, v] of run.ops) console.log(f, k, v.filter((o) => o.origin === 'trace' && !['mmap'].includes(o.call)).map((o) => `${o.call}(${o.args})=${o.ret} ${o.errno ?? ''}`).join('\n  '));
  }
});
