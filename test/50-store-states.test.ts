import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../src/run/replay.js';

let db: Database.Database;
const THP = 0x7f0000000; // the scenario's 2 MiB THP (page number)

beforeAll(async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'pteplay-states-')), 'run.db');
  await replay({ trace: 'traces/scenarios/thp-one-byte.jsonl', db: path, lanes: ['soft-dirty', 'uffd-async'] });
  db = new Database(path, { readonly: true });
});

describe('final state views on a real run (D16 thp-one-byte)', () => {
  it('v_page_types: soft-dirty keeps the THP whole (512 pages SD); async split it, 1 page written and 511 still UW', () => {
    const rows = db.prepare('SELECT lane, flags, pages FROM v_page_types ORDER BY lane, pages DESC').all();
    expect(rows).toEqual([
      { lane: 'soft-dirty', flags: 'present anon W D A SD excl', pages: 512 },
      { lane: 'uffd-async', flags: 'present anon D A SD UW excl', pages: 511 },
      { lane: 'uffd-async', flags: 'present anon W D A SD excl', pages: 1 },
    ]);
    // soft-dirty's 512 pages are one huge PMD entry; async's are 512 PTEs.
    expect(db.prepare('SELECT level, count FROM final_page WHERE lane_id = 0').all()).toEqual([{ level: 1, count: 1 }]);
  });

  it('v_page_history: subpage 7 of the async lane goes from the split PTE (UW) to written by do_wp_page, in seq order', () => {
    const rows = db
      .prepare("SELECT seq, level, old_state, new_state, path FROM v_page_history WHERE lane = 'uffd-async' AND vpn = ? AND level = 'pte'")
      .all(THP + 7) as { seq: number; new_state: string; path: string }[];
    expect(rows.map((r) => r.path)).toContain('split_huge_pmd');
    // do_wp_page's async branch clears UW in place, then the same fault reuses the page (W).
    expect(rows.slice(-2).map((r) => r.path)).toEqual(['do_wp_page_uffd_async', 'wp_page_reuse']);
    expect(rows.at(-1)!.new_state).toBe('present anon W D A SD excl');
    expect(rows.map((r) => r.seq)).toEqual([...rows.map((r) => r.seq)].sort((a, b) => a - b));
  });

  it('lookup tables decode every state word and name every bit', () => {
    expect(db.prepare('SELECT count(*) FROM pte_state').pluck().get()).toBe(65536);
    expect(db.prepare('SELECT label FROM pte_state WHERE state = 574').pluck().get()).toBe('present anon W D A SD excl');
    expect(db.prepare("SELECT group_concat(label, ' ') FROM (SELECT label FROM pte_bit ORDER BY bit)").pluck().get()).toBe(
      'W D A SD UW excl guard poison migration protnone table',
    );
    expect(db.prepare("SELECT code FROM errno WHERE name = 'EINVAL'").pluck().get()).toBe(22);
  });
});
