import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { COUNTER_NAMES } from '../src/mm/counters.js';
import { Path, PATH_LABELS, WHY_LABELS } from '../src/mm/cause.js';
import { describePte } from '../src/mm/pte.js';
import { SCHEMA_VERSION } from '../src/store/schema.js';
import { RunStore } from '../src/store/writer.js';
import { estimate } from '../src/report/cost-model.js';
import { buildFixture, changes, SD_TOTAL, tempDir, UA_TOTAL } from './helpers/store-fixture.js';

let db: Database.Database;
let file: string;
const all = (sql: string, ...p: unknown[]): any[] => db.prepare(sql).all(...p);
const get = (sql: string, ...p: unknown[]): any => db.prepare(sql).get(...p);

beforeAll(() => {
  file = join(tempDir(), 'run.db');
  buildFixture(file);
  db = new Database(file, { readonly: true });
});

describe('run database file', () => {
  it('passes integrity and foreign-key checks', () => {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
  });

  it(`is a single self-contained file after finish, schema version ${SCHEMA_VERSION}`, () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  });

  it('records meta: status, committed position, trace and options', () => {
    const meta = Object.fromEntries(all('SELECT key, value FROM meta').map((r) => [r.key, r.value]));
    expect(meta).toMatchObject({
      schema_version: String(SCHEMA_VERSION),
      status: 'complete',
      committed_pos: '2500',
      kernel_profile: '6.12',
      trace_path: 'fixture.jsonl',
      pteplay_version: '0.1.0-test',
    });
    expect(JSON.parse(meta.options_json)).toEqual({ lanes: ['soft-dirty', 'uffd-async'], interval: 1000 });
    expect(Date.parse(meta.finished_at)).toBeGreaterThanOrEqual(Date.parse(meta.started_at));
  });

  it('fills lookup tables from the code label maps', () => {
    expect(all('SELECT code, label FROM path ORDER BY code')).toEqual(
      Object.entries(PATH_LABELS)
        .map(([c, l]) => ({ code: Number(c), label: l }))
        .sort((a, b) => a.code - b.code),
    );
    expect(get('SELECT COUNT(*) n FROM why').n).toBe(Object.keys(WHY_LABELS).length);
    expect(get('SELECT label FROM why WHERE code = 2').label).toBe('new-vma-softdirty');
    expect(all('SELECT name FROM counter ORDER BY ord').map((r) => r.name)).toEqual([...COUNTER_NAMES]);
    expect(get("SELECT grp, unit FROM counter WHERE name = 'stall_ns'")).toEqual({ grp: 'uffd', unit: 'ns' });
  });

  it('declares every table STRICT', () => {
    const tables = all("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'");
    expect(tables.length).toBeGreaterThanOrEqual(12);
    for (const t of all("SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'")) {
      expect([t.name, t.strict]).toEqual([t.name, 1]);
    }
  });

  it('builds the secondary indexes at finish, none on pte_change (schema/003-indexes.sql)', () => {
    expect(all("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").map((r) => r.name)).toEqual([
      'op_result_by_pos',
    ]);
  });
});

describe('v_pte_change', () => {
  it('expands a 3-page run into 3 rows with the path and level labels', () => {
    const rows = all(
      'SELECT lane, seq, pos, vpn, pages, level, old, new, old_state, new_state, path_code, path FROM v_pte_change WHERE lane_id = 0 AND seq = 0 ORDER BY vpn',
    );
    expect(rows).toEqual(
      [0x1000, 0x1001, 0x1002].map((vpn) => ({
        lane: 'soft-dirty',
        seq: 0,
        pos: 10,
        vpn,
        pages: 1,
        level: 'pte',
        old: 0,
        new: 0x23e,
        old_state: 'none',
        new_state: 'present anon W D A SD excl',
        path_code: 2,
        path: 'do_anonymous_page',
      })),
    );
  });

  it('expands every run: 3 + 1 PTE pages and 1 PMD slot in lane 0, 2 in lane 1', () => {
    expect(all('SELECT lane_id, COUNT(*) n FROM v_pte_change GROUP BY lane_id ORDER BY lane_id')).toEqual([
      { lane_id: 0, n: 5 },
      { lane_id: 1, n: 2 },
    ]);
    expect(all('SELECT vpn, pages, level, new_state, path FROM v_pte_change WHERE lane_id = 0 AND seq = 2')).toEqual([
      { vpn: 0x2000, pages: 512, level: 'pmd', new_state: 'present anon W D A', path: 'do_huge_pmd_anonymous_page' },
    ]);
  });

  it('steps PMD runs by 512 pages', () => {
    const f = join(tempDir(), 'pmd.db');
    const s = RunStore.create(f, { pteplayVersion: 't', kernelProfile: 'k', tracePath: 't', traceSha256: '', options: {} });
    s.addLane({ name: 'a', tracker: 'uffd-async' });
    s.writeChanges(changes(0, [[0, 1, 0x400, 3, 1, 0x8000, 0, Path.ZAP_UNMAP]]));
    s.finish('complete');
    const d = new Database(f, { readonly: true });
    expect(d.prepare('SELECT vpn, old_state, new_state FROM v_pte_change ORDER BY vpn').all()).toEqual(
      [0x400, 0x600, 0x800].map((vpn) => ({ vpn, old_state: 'table', new_state: 'none' })),
    );
    d.close();
  });

  it('decodes every 16-bit state word exactly as describePte() does', () => {
    const f = join(tempDir(), 'states.db');
    const s = RunStore.create(f, { pteplayVersion: 't', kernelProfile: 'k', tracePath: 't', traceSha256: '', options: {} });
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    const rows = Array.from(
      { length: 65536 },
      (_, e) => [e, 0, e, 1, 0, e, 0, Path.HW_ACCESS] as [number, number, number, number, number, number, number, number],
    );
    s.writeChanges(changes(0, rows));
    s.finish('complete');
    const d = new Database(f, { readonly: true });
    const got = d.prepare('SELECT old, old_state FROM v_pte_change').all() as { old: number; old_state: string }[];
    d.close();
    expect(got.length).toBe(65536);
    const wrong = got
      .filter((r) => r.old_state !== describePte(r.old))
      .slice(0, 5)
      .map((r) => [r.old, r.old_state, describePte(r.old)]);
    expect(wrong).toEqual([]);
  });

  it('gives a page its history in seq order', () => {
    expect(all('SELECT path, old_state, new_state FROM v_pte_change WHERE lane_id = 0 AND vpn = 4096 ORDER BY seq')).toEqual([
      { path: 'do_anonymous_page', old_state: 'none', new_state: 'present anon W D A SD excl' },
      { path: 'clear_soft_dirty', old_state: 'present anon W D A SD excl', new_state: 'present anon D A excl' },
    ]);
  });
});

describe('v_collect_accuracy', () => {
  it('computes precision and recall, NULL on empty denominators', () => {
    const rows = all(
      'SELECT lane, collect_idx, reported, true_w, tp, fp, fn, precision, recall, errors FROM v_collect_accuracy ORDER BY lane_id, collect_idx',
    );
    expect(rows).toEqual([
      { lane: 'soft-dirty', collect_idx: 0, reported: 6, true_w: 4, tp: 4, fp: 2, fn: 0, precision: 4 / 6, recall: 1, errors: '[]' },
      { lane: 'soft-dirty', collect_idx: 1, reported: 0, true_w: 0, tp: 0, fp: 0, fn: 0, precision: null, recall: null, errors: '[]' },
      { lane: 'uffd-async', collect_idx: 0, reported: 3, true_w: 4, tp: 3, fp: 0, fn: 1, precision: 1, recall: 0.75, errors: '["EPERM"]' },
      { lane: 'uffd-async', collect_idx: 1, reported: 0, true_w: 0, tp: 0, fp: 0, fn: 0, precision: null, recall: null, errors: '[]' },
    ]);
  });
});

describe('v_false_positive / v_false_negative / v_false_by_cause', () => {
  it('lists one false-positive page per row with its cause', () => {
    expect(all('SELECT lane, collect_idx, collect_label, vpn, why_code, cause, content_changed FROM v_false_positive ORDER BY vpn')).toEqual([
      { lane: 'soft-dirty', collect_idx: 0, collect_label: 'epoch-1', vpn: 0x1004, why_code: 2, cause: 'new-vma-softdirty', content_changed: 0 },
      { lane: 'soft-dirty', collect_idx: 0, collect_label: 'epoch-1', vpn: 0x1005, why_code: 2, cause: 'new-vma-softdirty', content_changed: 0 },
    ]);
  });

  it('lists one false-negative page per row with its cause', () => {
    expect(all('SELECT lane, collect_idx, vpn, cause, content_changed FROM v_false_negative')).toEqual([
      { lane: 'uffd-async', collect_idx: 0, vpn: 0x1003, cause: 'unpopulated-no-marker', content_changed: 1 },
    ]);
  });

  it('agrees with the per-collect fp/fn counts', () => {
    const mismatch = all(`SELECT c.lane_id, c.collect_idx FROM collect c
      WHERE c.fp <> (SELECT COUNT(*) FROM v_false_positive f WHERE f.lane_id = c.lane_id AND f.collect_idx = c.collect_idx)
         OR c.fn <> (SELECT COUNT(*) FROM v_false_negative f WHERE f.lane_id = c.lane_id AND f.collect_idx = c.collect_idx)`);
    expect(mismatch).toEqual([]);
  });

  it('summarises causes per collect', () => {
    expect(all('SELECT lane, collect_idx, side, cause, pages FROM v_false_by_cause ORDER BY lane_id')).toEqual([
      { lane: 'soft-dirty', collect_idx: 0, side: 'fp', cause: 'new-vma-softdirty', pages: 2 },
      { lane: 'uffd-async', collect_idx: 0, side: 'fn', cause: 'unpopulated-no-marker', pages: 1 },
    ]);
  });
});

describe('v_dirty_rate', () => {
  it('gives pages, MiB and MiB/s with the interval length', () => {
    const r = get('SELECT * FROM v_dirty_rate WHERE lane_id = 0 AND collect_idx = 0');
    // 6 pages = 6 * 4096 B = 0.0234375 MiB over 2 ms = 11.71875 MiB/s; 4 written pages = 7.8125 MiB/s
    expect(r).toMatchObject({ lane: 'soft-dirty', label: 'epoch-1', interval_accesses: 1000, interval_ms: 2, reported_pages: 6, written_pages: 4 });
    expect(r.reported_mib).toBeCloseTo(0.0234375, 12);
    expect(r.reported_mib_s).toBeCloseTo(11.71875, 9);
    expect(r.written_mib_s).toBeCloseTo(7.8125, 9);
  });

  it('has NULL rate and interval_ms when the trace has no time', () => {
    expect(get('SELECT interval_ms, reported_mib_s, written_mib_s FROM v_dirty_rate WHERE lane_id = 0 AND collect_idx = 1')).toEqual({
      interval_ms: null,
      reported_mib_s: null,
      written_mib_s: null,
    });
  });
});

describe('v_fault_cost, v_cost_estimate, v_lane_summary', () => {
  it('lists faults by kind per lane with the model price', () => {
    const rows = all('SELECT lane, kind, faults, ns_each, est_ns FROM v_fault_cost WHERE faults > 0 ORDER BY lane_id, kind');
    expect(rows).toEqual([
      { lane: 'soft-dirty', kind: 'missing', faults: 3, ns_each: 585, est_ns: 3 * 585 },
      { lane: 'soft-dirty', kind: 'wp_reuse', faults: 4, ns_each: 585, est_ns: 4 * 585 },
      { lane: 'uffd-async', kind: 'marker', faults: 1, ns_each: 585, est_ns: 585 },
      { lane: 'uffd-async', kind: 'uffd_async', faults: 3, ns_each: 585, est_ns: 3 * 585 },
    ]);
    // uffd-sync faults are priced as the fault plus the round trip
    expect(get("SELECT ns_each FROM v_fault_cost WHERE kind = 'uffd_sync' LIMIT 1").ns_each).toBe(585 + 20132);
  });

  it('prices counters the same way as cost-model.estimate()', () => {
    for (const [lane, totals] of [
      [0, SD_TOTAL],
      [1, UA_TOTAL],
    ] as const) {
      const e = estimate(totals);
      const sql = get('SELECT SUM(est_ns) total FROM v_cost_estimate WHERE lane_id = ?', lane).total;
      expect(sql).toBeCloseTo(e.totalNs, 6);
      for (const r of all('SELECT item, est_ns FROM v_cost_estimate WHERE lane_id = ?', lane)) {
        expect(r.est_ns).toBeCloseTo(e.byItem[r.item]!, 6);
      }
    }
  });

  it('sums accuracy and splits cost per lane', () => {
    const e = estimate(SD_TOTAL);
    const r = get('SELECT * FROM v_lane_summary WHERE lane_id = 0');
    expect(r).toMatchObject({ lane: 'soft-dirty', tracker: 'soft-dirty', collects: 2, reported: 6, true_w: 4, tp: 4, fp: 2, fn: 0 });
    expect(r.write_ns).toBeCloseTo(e.writeNs, 6);
    expect(r.collect_ns).toBeCloseTo(e.collectNs, 6);
  });
});

describe('op_result and collect_cost', () => {
  it('stores ops with errno', () => {
    expect(all("SELECT lane_id, call, ret, errno FROM op_result WHERE origin = 'driver' ORDER BY op_id")).toEqual([
      { lane_id: 0, call: 'clear_refs', ret: 0, errno: null },
      { lane_id: 1, call: 'PAGEMAP_SCAN', ret: -1, errno: 'EPERM' },
    ]);
  });

  it('stores every counter of every collect, and NULL for unknown time', () => {
    expect(get('SELECT COUNT(*) n FROM collect_cost').n).toBe(4 * COUNTER_NAMES.length);
    expect(get("SELECT value FROM collect_cost WHERE lane_id = 0 AND collect_idx = 0 AND counter = 'clear_refs_entries'").value).toBe(16);
    expect(get('SELECT time_ns, interval_ns FROM collect WHERE lane_id = 0 AND collect_idx = 1')).toEqual({ time_ns: null, interval_ns: null });
  });
});
