import { it } from 'vitest';
import { runScenario, errorsOf } from '/work/main/test/helpers/scenario.js';
import { WHY_LABELS } from '/work/main/src/mm/cause.js';
it('x', async () => {
  const r = await runScenario(process.env.F!, process.env.L!.split(' '));
  for (const l of r.collects.keys()) {
    for (const c of r.collects.get(l)!) {
      console.log(l.padEnd(28), String(c.label).padEnd(10), 'rep', c.reported, 'W', c.trueW, 'C', c.trueC, 'fp', JSON.stringify(c.fpWhy), 'fn', JSON.stringify(c.fnWhy), JSON.stringify(c.pages.map(p=>[(p.vpn).toString(16),p.count,p.reported,p.gtW,p.gtC,WHY_LABELS[p.why]])), c.errors.join(';'));
    }
    console.log(l, 'errors', errorsOf(r, l).join('; '));
  }
});
