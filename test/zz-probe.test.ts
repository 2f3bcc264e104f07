import { it } from 'vitest';
import { runScenario, collectOf, pagesOf, errorsOf } from '/work/main/test/helpers/scenario.js';
it('x', async () => {
  const file = process.env.F!;
  const lanes = process.env.L!.split(' ');
  const base = Number(process.env.B ?? 0x7f0000000);
  const n = Number(process.env.N ?? 4);
  const r = await runScenario(file, lanes);
  for (const l of r.collects.keys()) {
    for (const c of r.collects.get(l)!) {
      const v = pagesOf(c, base, n);
      console.log(l.padEnd(28), String(c.label).padEnd(12), 'pid', c.pid, 'rep', v.reported, 'W', v.gtW, 'C', v.gtC, v.why.join(','), c.errors.join(';'), JSON.stringify(c.pages.filter(p=>p.vpn>=base && p.vpn < base+n).map(p=>[p.vpn-base,p.count,p.why])));
    }
    console.log(l, 'errors', errorsOf(r, l).join('; '));
  }
});
