/**
 * A run database of schema version 3 (one change per pte_change row, pte_change_by_vpn), as the pteplay
 * before version 4 wrote it: test/fixtures/run-v3/dontneed-anon.db.gz is its replay of
 * traces/scenarios/dontneed-anon.jsonl (default options). report, sql, state and play read it, and answer
 * as for the same trace replayed now, whose file holds rows of several changes (vpn_steps).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { pteplay, ROOT } from './helpers/cli.js';
import { tempDir } from './helpers/store-fixture.js';

const TRACE = join(ROOT, 'traces', 'scenarios', 'dontneed-anon.jsonl');
let v3: string;
let v4: string;

beforeAll(() => {
  const dir = tempDir();
  v3 = join(dir, 'v3.db');
  v4 = join(dir, 'v4.db');
  writeFileSync(v3, gunzipSync(readFileSync(join(ROOT, 'test', 'fixtures', 'run-v3', 'dontneed-anon.db.gz'))));
  const r = pteplay(['replay', TRACE, '--db', v4, '-q']);
  expect(r.status, r.stderr).toBe(0);
});

const ok = (args: string[]): string => {
  const r = pteplay(args);
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};

describe('a run database of schema version 3', () => {
  it('is version 3 without vpn_steps, and the same replay now stores a row of several changes', () => {
    const old = new Database(v3, { readonly: true });
    const now = new Database(v4, { readonly: true });
    try {
      expect(old.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe('3');
      expect(old.prepare("SELECT count(*) FROM pragma_table_info('pte_change') WHERE name = 'vpn_steps'").pluck().get()).toBe(0);
      expect(now.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe('4');
      expect(now.prepare('SELECT count(*) FROM pte_change WHERE vpn_steps IS NOT NULL').pluck().get()).toBeGreaterThan(0);
      expect(now.prepare('SELECT count(*) FROM pte_change').pluck().get()).toBeLessThan(
        old.prepare('SELECT count(*) FROM pte_change').pluck().get() as number,
      );
    } finally {
      old.close();
      now.close();
    }
  });

  it('sql: v_pte_change gives the same rows in both files', () => {
    const q = ['--mode', 'json', 'SELECT * FROM v_pte_change ORDER BY lane_id, seq, vpn'];
    const want = JSON.parse(ok(['sql', v4, ...q])) as unknown[];
    expect(want.length).toBeGreaterThan(20);
    expect(JSON.parse(ok(['sql', v3, ...q]))).toEqual(want);
  });

  it('state: every lane at positions before, at and after the multi-change row reads the same', () => {
    // Position 15 is the re-arm stored as one row of several changes in every lane of the new file.
    for (const lane of ['soft-dirty', 'uffd-sync', 'uffd-async']) {
      for (const pos of ['14', '15', '19']) {
        const args = (db: string) => ['state', db, '--lane', lane, '--pos', pos, '--range', '0x0+34359738367', '--json'];
        const want = ok(args(v4));
        expect(want.trim().split('\n').length).toBeGreaterThan(0);
        expect(ok(args(v3))).toBe(want);
      }
    }
  });

  it('report and play read it (the same lanes and collects as the new file)', () => {
    const report = (db: string) => JSON.parse(ok(['report', db, '--json'])) as { run: { schemaVersion: number }; lanes: unknown[] };
    const old = report(v3);
    expect(old.run.schemaVersion).toBe(3);
    expect(old.lanes.length).toBe(4);
    // The file records the kernel profile of its day: switches added since (a later pteplay models more
    // version-gated rules) are absent from it. Every switch it has must read as it does today.
    type Lane = { config: { profile: Record<string, unknown> } };
    const now = (report(v4).lanes as Lane[]).map((l, i) => {
      const had = (old.lanes[i] as Lane).config.profile;
      const profile = Object.fromEntries(Object.entries(l.config.profile).filter(([k]) => k in had));
      return { ...l, config: { ...l.config, profile } };
    });
    expect(Object.keys((now[0] as Lane).config.profile).length).toBeGreaterThan(25);
    expect(old.lanes).toEqual(now);
    const play = (db: string) => {
      const { run, ...rest } = JSON.parse(ok(['play', db, '--json'])) as { run: { lastPos: number } };
      return { lastPos: run.lastPos, ...rest };
    };
    expect(play(v3)).toEqual(play(v4));
  });
});
