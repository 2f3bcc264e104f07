import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenario } from './helpers/scenario.js';

const DIR = 'traces/scenarios';
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.jsonl'))
  .sort();
const LANES = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async', 'uffd-async:read=generic', 'uffd-async:kernel=6.18.0'];

describe('every bundled scenario', () => {
  it('covers at least 20 divergences of docs/kernel-rules.md §3', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(FILES)('%s: every false page has a named cause (none is "other")', async (file) => {
    const run = await runScenario(`${DIR}/${file}`, LANES);
    for (const [lane, collects] of run.collects) {
      for (const c of collects) {
        expect(Object.keys(c.fpWhy), `${lane} collect ${c.index} FP causes`).not.toContain('other');
        expect(Object.keys(c.fnWhy), `${lane} collect ${c.index} FN causes`).not.toContain('other');
      }
    }
  });

  it.each(FILES.filter((f) => !f.includes('user-mode-only')))('%s: ground truth comes from the trace and is the same in every lane', async (file) => {
    const run = await runScenario(`${DIR}/${file}`, LANES);
    const truth = [...run.collects.values()].map((cs) => cs.map((c) => `${c.pid}:${c.trueW}/${c.trueC}`).join(' '));
    expect(new Set(truth).size).toBe(1);
  });
});
