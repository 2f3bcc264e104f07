/**
 * The table registry (src/store/tables.ts) against the schema it writes into: every registered table
 * exists with exactly the registered columns in order, every table the schema creates is registered or
 * written once at create() (meta, lane, lookups), resume's rules name real columns and parents written
 * first, and schema/datasette-metadata.json describes every registered table and column.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { applySchema, findSchemaDir } from '../src/store/schema.js';
import { resumeDeletes, TABLES, type StoredTable } from '../src/store/tables.js';

/** Tables the schema creates that are not filled row by row during a replay (meta, lane, lookups of schema.ts). */
const SETUP_TABLES = [
  'meta',
  'lane',
  'path',
  'why',
  'pte_level',
  'counter',
  'cost_model',
  'pte_state',
  'entry_kind',
  'pte_bit',
  'page_category',
  'tracker_kind',
  'errno',
  'op_kind',
];

interface ColumnInfo {
  name: string;
  type: string;
  pk: number;
}

function schemaDb(): Database.Database {
  const db = new Database(':memory:');
  applySchema(db);
  return db;
}

const registry: readonly StoredTable[] = TABLES;

describe('table registry (src/store/tables.ts)', () => {
  const db = schemaDb();
  const columnsOf = (t: string) => db.prepare('SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid').all(t) as ColumnInfo[];

  it('has each schema table a replay fills, with its columns in schema order', () => {
    for (const t of registry) {
      const cols = columnsOf(t.name);
      expect(cols.length, `${t.name} exists in schema/*.sql`).toBeGreaterThan(0);
      expect(
        cols.map((c) => c.name),
        t.name,
      ).toEqual([...(t.rowid ? [t.rowid] : []), ...t.columns]);
      if (t.rowid) expect([cols[0]!.type, cols[0]!.pk], `${t.name}.${t.rowid} is an INTEGER PRIMARY KEY`).toEqual(['INTEGER', 1]);
    }
  });

  it('leaves out only the tables written once at create()', () => {
    const all = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
    const registered = registry.map((t) => t.name);
    expect(all.filter((n) => !registered.includes(n)).sort()).toEqual([...SETUP_TABLES].sort());
    expect(new Set(registered).size, 'no table twice').toBe(registered.length);
  });

  it('deletes on resume by real columns, children before the parent written before them', () => {
    const names = registry.map((t) => t.name);
    for (const t of registry) {
      const cols = columnsOf(t.name).map((c) => c.name);
      if (t.resume.kind === 'pos') expect(cols, t.name).toContain('pos');
      if (t.resume.kind === 'parent') {
        const parent = registry.find((p) => p.name === (t.resume as { parent: string }).parent)!;
        expect(parent, `${t.name}'s parent is registered`).toBeDefined();
        expect(parent.resume.kind, `${t.name}'s parent is deleted by position`).toBe('pos');
        expect(names.indexOf(parent.name), `${parent.name} is flushed before ${t.name}`).toBeLessThan(names.indexOf(t.name));
        for (const k of t.resume.key) {
          expect(cols, `${t.name}.${k}`).toContain(k);
          expect(
            columnsOf(parent.name).map((c) => c.name),
            `${parent.name}.${k}`,
          ).toContain(k);
        }
      }
    }
    // Every statement is valid SQL on the schema, and a child's delete runs before its parent's.
    const sqls = resumeDeletes().map((d) => d.sql);
    for (const sql of sqls) expect(() => db.prepare(sql), sql).not.toThrow();
    expect(sqls.findIndex((s) => s.startsWith('DELETE FROM collect_page '))).toBeLessThan(
      sqls.findIndex((s) => s.startsWith('DELETE FROM collect ')),
    );
    expect(sqls.findIndex((s) => s.startsWith('DELETE FROM keyframe_leaf '))).toBeLessThan(
      sqls.findIndex((s) => s.startsWith('DELETE FROM keyframe ')),
    );
  });

  it('is described table by table and column by column in schema/datasette-metadata.json', () => {
    const meta = JSON.parse(readFileSync(join(findSchemaDir(), 'datasette-metadata.json'), 'utf8')) as {
      databases: Record<string, { tables: Record<string, { description: string; columns: Record<string, string> }> }>;
    };
    const tables = Object.values(meta.databases)[0]!.tables;
    for (const t of registry) {
      expect(tables[t.name]?.description, `${t.name} described`).toBeTruthy();
      for (const c of [...(t.rowid ? [t.rowid] : []), ...t.columns]) expect(tables[t.name]!.columns[c], `${t.name}.${c} described`).toBeTruthy();
    }
  });
});
