import { it } from 'vitest';
import { diffMany } from '../helpers/kreplay.js';
import { fuzzSequence } from '../helpers/kreplay-fuzz.js';
it('fuzz', () => {
  const n = Number(process.env.N ?? 30), s0 = Number(process.env.S0 ?? 1), ops = Number(process.env.OPS ?? 40);
  const seqs = Array.from({ length: n }, (_, i) => fuzzSequence(s0 + i, ops, (s0 + i) % 3 !== 0));
  const res = diffMany(seqs);
  let bad = 0;
  const firsts: string[] = [];
  res.forEach((r, i) => {
    if (r.mismatches.length === 0) return;
    bad++;
    const m = r.mismatches[0]!;
    firsts.push(`seed ${s0 + i}: #${m.index} ${m.cmd}\n   K ${m.kernel}\n   S ${m.sim}`);
  });
  console.log(firsts.join('\n'));
  console.log(`${bad}/${n} differ`);
});
