/**
 * The run database's DDL: finds schema/*.sql next to the package and applies it, then fills the
 * lookup tables from the code's own label maps so codes and labels cannot drift apart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { PATH_LABELS, WHY_LABELS } from '../mm/cause.js';
import { PTE_BIT_LABELS, describePte } from '../mm/pte.js';
import { Errno, PAGE_CATEGORY_NAMES } from '../mm/uapi.js';
import { TRACKER_KIND_HELP } from '../lanes/config.js';
import { JSONL_OPS } from '../trace/json-fields.js';
import { COUNTER_NAMES } from '../mm/counters.js';
import { counterNsOf } from '../report/cost-model.js';
import { type CostTable, defaultCostTable } from '../report/cost-table.js';
import { counterGroup, counterUnit } from './counter-groups.js';

/**
 * 4: pte_change.vpn_steps (a row of several changes, src/store/change-rows.ts), no pte_change_by_vpn;
 * 3: what the trace's pagemap_read / PAGEMAP_SCAN records returned (pagemap_read_entry,
 * pagemap_scan_region, op_result.walk_end_vpn) and uffd_msg.pages; 2: keyframe_leaf.ptes run-length
 * encoded (src/store/pte-runs.ts); 1 stored the 512 words as they are.
 */
export const SCHEMA_VERSION = 4;
/** Applied when the file is created, in order. */
export const CREATE_FILES = ['001-run.sql', '002-views.sql', '004-history.sql', '005-states.sql'] as const;
/** Applied by RunStore.finish(), after the load. */
export const INDEX_FILE = '003-indexes.sql';

let schemaDir: string | undefined;

/** The package's schema/ directory (works from src/ under vitest and from dist/src/ after a build). */
export function findSchemaDir(): string {
  if (schemaDir) return schemaDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'schema', CREATE_FILES[0]))) return (schemaDir = join(dir, 'schema'));
    dir = dirname(dir);
  }
  throw new Error(`pteplay schema files not found above ${fileURLToPath(import.meta.url)}`);
}

export function readSchemaFile(name: string): string {
  return readFileSync(join(findSchemaDir(), name), 'utf8');
}

/** Create every table and view, set user_version, and fill the lookup tables (cost_model from `costs`). */
export function applySchema(db: Database.Database, costs: CostTable = defaultCostTable()): void {
  db.transaction(() => {
    for (const f of CREATE_FILES) db.exec(readSchemaFile(f));
    fillLookups(db, costs);
  })();
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

function fillLookups(db: Database.Database, costs: CostTable): void {
  const path = db.prepare('INSERT INTO path (code, label) VALUES (?, ?)');
  for (const [code, label] of Object.entries(PATH_LABELS)) path.run(Number(code), label);
  const why = db.prepare('INSERT INTO why (code, label) VALUES (?, ?)');
  for (const [code, label] of Object.entries(WHY_LABELS)) why.run(Number(code), label);
  const level = db.prepare('INSERT INTO pte_level (code, label) VALUES (?, ?)');
  level.run(0, 'pte');
  level.run(1, 'pmd');
  const counter = db.prepare('INSERT INTO counter (name, ord, grp, unit) VALUES (?, ?, ?, ?)');
  COUNTER_NAMES.forEach((n, i) => {
    counter.run(n, i, counterGroup(n), counterUnit(n));
  });
  const state = db.prepare('INSERT INTO pte_state (state, label) VALUES (?, ?)');
  for (let w = 0; w < 65536; w++) state.run(w, describePte(w));
  const kind = db.prepare('INSERT INTO entry_kind (code, label) VALUES (?, ?)');
  ['none', 'marker', 'present', 'swap'].forEach((k, i) => {
    kind.run(i, k);
  });
  const bit = db.prepare('INSERT INTO pte_bit (bit, label, description) VALUES (?, ?, ?)');
  for (const [b, label, d] of PTE_BIT_LABELS) bit.run(b, label, d);
  const category = db.prepare('INSERT INTO page_category (bit, label) VALUES (?, ?)');
  PAGE_CATEGORY_NAMES.forEach((n, i) => {
    category.run(1 << i, n);
  });
  const tracker = db.prepare('INSERT INTO tracker_kind (name, description) VALUES (?, ?)');
  for (const [n, d] of Object.entries(TRACKER_KIND_HELP)) tracker.run(n, d);
  const errno = db.prepare('INSERT INTO errno (name, code) VALUES (?, ?)');
  for (const [n, c] of Object.entries({ ...Errno, EBADF: 9, ENOSYS: 38, ENOTTY: 25, EACCES: 13, ESRCH: 3, ERANGE: 34 })) errno.run(n, c);
  const op = db.prepare('INSERT INTO op_kind (name) VALUES (?)');
  for (const n of JSONL_OPS) op.run(n);
  const cost = db.prepare('INSERT INTO cost_model (item, counter, ns_each, side, source) VALUES (?, ?, ?, ?, ?)');
  for (const it of costs.items) for (const c of it.counters) cost.run(it.item, c, counterNsOf(it, c), it.side, it.source);
}
