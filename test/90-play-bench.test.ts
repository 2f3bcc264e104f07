/**
 * `pteplay bench --seek` (the seek benchmark of pteplay play, docs/performance.md) on small runs: it
 * builds a run or takes one, times random seeks, and reports the run's keyframe cost. The 10 M-row
 * figure itself is measured by hand, not here.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KEYFRAME_EVERY } from '../src/run/replay.js';
import type { SeekBenchResult } from '../src/bench/index.js';
import { pteplay } from './helpers/cli.js';
import { tempDir } from './helpers/store-fixture.js';

describe('pteplay bench --seek', () => {
  it('builds a zipf run of about --rows change rows (default keyframe policy) and times --seeks random seeks', () => {
    const keep = join(tempDir(), 'seek.db');
    const r = pteplay(['bench', '--seek', '--rows', '30000', '--pages', '4096', '--seeks', '12', '--keep', keep, '--json', '-q']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as SeekBenchResult;
    expect(j.db).toBe(keep);
    expect(j.buildSeconds).toBeGreaterThan(0);
    expect(j.changeRows).toBeGreaterThan(15_000);
    expect(j.changeRows).toBeLessThan(90_000); // the rows per access of the 1 Mi-page bench workload; a small mapping's warm-up weighs more
    expect(j.keyframeEvery).toBe(DEFAULT_KEYFRAME_EVERY);
    expect(j.seeks).toBe(12);
    expect(j.window).toBe(512);
    for (const s of [j.state, j.frame]) {
      expect(s.medianMs).toBeGreaterThan(0);
      expect(s.maxMs).toBeGreaterThanOrEqual(s.p95Ms);
      expect(s.p95Ms).toBeGreaterThanOrEqual(s.medianMs);
    }
    // The kept run is a run database pteplay play opens.
    expect(pteplay(['play', keep, '--json']).status).toBe(0);
  });

  it('measures an existing run with --db, and prints the table with the keyframe cost', () => {
    const db = join(tempDir(), 'merge.db');
    expect(pteplay(['replay', 'traces/scenarios/vma-merge.jsonl', '--db', db, '-q']).status).toBe(0);
    const r = pteplay(['bench', '--seek', '--db', db, '--seeks', '5', '-q']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`24 change rows, 4 lanes, 8 positions; keyframes every ${DEFAULT_KEYFRAME_EVERY} rows per lane: 0 keyframes`);
    expect(r.stdout).toMatch(/\| state \| +\d+\.\d ms \|/);
    expect(r.stdout).toMatch(/\| frame \| +\d+\.\d ms \|/);
  });

  it('refuses --seeks 0 (64)', () => {
    const r = pteplay(['bench', '--seek', '--seeks', '0']);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/--seeks: expected at least 1/);
  });
});
