import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { CREATE_FILES, findSchemaDir } from '../src/store/schema.js';
import { buildFixture, tempDir } from './helpers/store-fixture.js';

let db: Database.Database;
const dir = findSchemaDir();

beforeAll(() => {
  const f = join(tempDir(), 'run.db');
  buildFixture(f);
  db = new Database(f, { readonly: true });
});

/** The text of `CREATE <kind> <name>` up to the next CREATE. */
function block(sql: string, kind: 'TABLE' | 'VIEW', name: string): string {
  const start = sql.indexOf(`CREATE ${kind} ${name} `);
  expect(start, `${kind} ${name} in the schema files`).toBeGreaterThanOrEqual(0);
  const next = sql.indexOf('\nCREATE ', start + 1);
  return sql.slice(start, next < 0 ? undefined : next);
}

const commentedBefore = (lines: string[], i: number): boolean => i > 0 && lines[i - 1]!.trim().startsWith('--');

describe('schema documentation', () => {
  // Tables and views may live in any of the files applied at creation.
  const tablesSql = CREATE_FILES.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  const viewsSql = tablesSql;

  it('documents every column of every table in a comment above it', () => {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
    for (const { name } of tables) {
      const lines = block(tablesSql, 'TABLE', name).split('\n');
      for (const col of db.prepare(`SELECT name FROM pragma_table_info(?)`).all(name) as { name: string }[]) {
        const i = lines.findIndex((l) => new RegExp(`^\\s+${col.name}\\s+(INTEGER|TEXT|REAL|ANY|BLOB)\\b`).test(l));
        expect(i, `${name}.${col.name} declared`).toBeGreaterThan(0);
        expect(commentedBefore(lines, i), `${name}.${col.name} documented`).toBe(true);
      }
      expect(
        tablesSql
          .slice(0, tablesSql.indexOf(`CREATE TABLE ${name} `))
          .trimEnd()
          .split('\n')
          .at(-1)!
          .startsWith('--'),
        `table ${name} documented`,
      ).toBe(true);
    }
  });

  it('documents every column of every public view in a comment above it', () => {
    const views = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'view' AND name NOT LIKE '\\_%' ESCAPE '\\'").all() as { name: string }[];
    expect(views.map((v) => v.name).sort()).toEqual([
      'v_collect_accuracy',
      'v_cost_estimate',
      'v_dirty_rate',
      'v_false_by_cause',
      'v_false_negative',
      'v_false_positive',
      'v_fault_cost',
      'v_lane_summary',
      'v_page_history',
      'v_page_types',
      'v_pagemap_scan_region',
      'v_pte_change',
    ]);
    for (const { name } of views) {
      const lines = block(viewsSql, 'VIEW', name).split('\n');
      for (const col of db.prepare(`SELECT name FROM pragma_table_info(?)`).all(name) as { name: string }[]) {
        const i = lines.findIndex((l) => new RegExp(`\\bAS ${col.name},?$`).test(l.trimEnd()));
        expect(i, `${name}.${col.name} selected`).toBeGreaterThan(0);
        expect(commentedBefore(lines, i), `${name}.${col.name} documented`).toBe(true);
      }
    }
  });
});

describe('canned queries (schema/queries)', () => {
  const q = (f: string): string => readFileSync(join(dir, 'queries', f), 'utf8');

  it('every canned query has a title and description and runs', () => {
    const files = readdirSync(join(dir, 'queries')).filter((f) => f.endsWith('.sql'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      expect(q(f)).toMatch(/^-- title: .+\n-- description: /);
      const params = q(f).includes(':vpn') ? { lane: 'soft-dirty', vpn: 0x1000 } : {};
      expect(() => db.prepare(q(f)).all(params), f).not.toThrow();
    }
  });

  it('page-history follows one page through its runs', () => {
    expect(db.prepare(q('page-history.sql')).all({ lane: 'soft-dirty', vpn: 0x1001 })).toEqual([
      { seq: 0, pos: 10, pid: 1, level: 'pte', old: 0, new: 0x23e, path: 'do_anonymous_page', run_first_vpn: 0x1000, run_pages: 3 },
    ]);
    expect(
      db
        .prepare(q('page-history.sql'))
        .all({ lane: 'soft-dirty', vpn: 0x2000 + 511 })
        .map((r: any) => r.path),
    ).toEqual(['do_huge_pmd_anonymous_page']);
    expect(db.prepare(q('page-history.sql')).all({ lane: 'soft-dirty', vpn: 0x2000 + 512 })).toEqual([]);
  });

  it('false-pages-by-cause and failed-calls give the fixture numbers', () => {
    expect(db.prepare(q('false-pages-by-cause.sql')).all()).toEqual([
      { lane: 'soft-dirty', side: 'fp', cause: 'new-vma-softdirty', pages: 2, collects: 1 },
      { lane: 'uffd-async', side: 'fn', cause: 'unpopulated-no-marker', pages: 1, collects: 1 },
    ]);
    expect(db.prepare(q('failed-calls.sql')).all()).toEqual([
      { lane: 'uffd-async', pos: 1000, pid: 1, origin: 'driver', call: 'PAGEMAP_SCAN', args: 'WP_MATCHING', errno: 'EPERM' },
    ]);
  });
});
