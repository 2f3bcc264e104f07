import { it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runKernel, simRun, compare, formatDiff, normalize } from '../helpers/kreplay.js';
import { fuzzSequence } from '../helpers/kreplay-fuzz.js';
it('dbg', () => {
  const seed = process.env.SEED;
  const cmds = seed ? fuzzSequence(Number(seed), Number(process.env.OPS ?? 40), process.env.THP !== '0' && Number(seed) % 3 !== 0)
    : readFileSync(process.env.CMDS ?? '/tmp/cmds.txt', 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const k = runKernel([cmds])[0]!;
  const s = simRun(cmds);
  const out: string[] = [];
  const full = process.env.FULL === '1';
  cmds.forEach((c, i) => {
    const eq = normalize(c, k[i]) === normalize(c, s[i]);
    if (!full && /^(pagemap |maps|messages)/.test(c) && eq) return;
    out.push(`${String(i).padStart(3)} ${c}\n     K ${k[i]}\n     ${eq ? '=' : 'S'} ${s[i]}`);
  });
  console.log(out.join('\n'));
  console.log(formatDiff(cmds, compare(cmds, k, s)));
});
