/**
 * Issue 19: `pteplay calibrate` (the file format, the fit, a --quick run on this host) and pricing
 * with a calibration file (replay --costs stores its ns; report --costs re-prices; the SQL views agree).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { fitLine } from '../src/calibrate/fit.js';
import { COUNTER_NAMES, type CounterName } from '../src/mm/counters.js';
import { DEFAULT_COST_MODEL } from '../src/report/cost-model.js';
import { calibrationFile } from './helpers/calibration.js';
import { pteplay, ROOT } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pteplay-calib-'));
const gccMissing = spawnSync('gcc', ['--version']).error !== undefined;

/** A hand-made calibration with distinct ns per item (and per counter for minor_fault). */
function synthetic(): Record<string, unknown> {
  const items: Record<string, unknown> = {};
  DEFAULT_COST_MODEL.forEach((it, i) => {
    items[it.item] = { ns: 1000 + 111 * i, unit: 'x', p50: 1000 + 111 * i, p90: 2000, samples: 10, method: 'synthetic', status: 'measured' };
  });
  items['minor_fault/fault_missing'] = { ns: 7777, unit: 'fault', p50: 7777, p90: 8000, samples: 10, method: 'synthetic', status: 'measured' };
  items['minor_fault/fault_cow'] = {
    ns: 9999,
    unit: 'fault',
    p50: null,
    p90: null,
    samples: 0,
    method: 'default',
    status: 'unavailable',
    why: 'test',
  };
  items['extra/mmap'] = { ns: 1, unit: 'call', p50: 1, p90: 1, samples: 1, method: 'synthetic', status: 'measured' };
  return calibrationFile(items);
}

/** ns per unit of every counter under the synthetic table, computed here (not by pteplay). */
function syntheticPrices(): Map<CounterName, number>[] {
  return DEFAULT_COST_MODEL.map((it, i) => {
    const m = new Map<CounterName, number>();
    for (const c of it.counters) m.set(c, it.item === 'minor_fault' && c === 'fault_missing' ? 7777 : 1000 + 111 * i);
    return m;
  });
}

function writeJson(name: string, v: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(v));
  return p;
}

describe('calibrate: the fit', () => {
  it('least squares recovers fixed and per-page cost from points on a line, and from noisy ones', () => {
    const exact = [1, 2, 4, 64, 1024, 262144].map((x) => ({ x, y: 1500 + 9.8 * x }));
    const f = fitLine(exact);
    expect(f.fixedNs).toBeCloseTo(1500, 6);
    expect(f.perUnitNs).toBeCloseTo(9.8, 9);
    expect(f.r2).toBeCloseTo(1, 9);
    // ±2 % alternating noise: still close, r² below 1
    const noisy = [1, 2, 4, 8, 16, 64, 256, 1024, 4096, 65536].map((x, i) => ({ x, y: (700 + 25 * x) * (i % 2 ? 1.02 : 0.98) }));
    const g = fitLine(noisy);
    expect(Math.abs(g.fixedNs - 700) / 700).toBeLessThan(0.05);
    expect(Math.abs(g.perUnitNs - 25) / 25).toBeLessThan(0.03);
    expect(g.r2).toBeLessThan(1);
    expect(g.r2).toBeGreaterThan(0.9);
  });
});

describe('calibrate: the file format', () => {
  it('a valid file loads: --show prints its items; --json gives the file back', () => {
    const p = writeJson('valid.json', synthetic());
    const r = pteplay(['calibrate', '--show', p]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('kernel 9.9.9-test, CPU Test CPU');
    for (const k of ['minor_fault/fault_missing', 'tracker_syscall', 'extra/mmap']) expect(r.stdout).toContain(k);
    const j = pteplay(['calibrate', '--show', p, '--json']);
    expect(JSON.parse(j.stdout).items['minor_fault/fault_missing'].ns).toBe(7777);
  });

  it.each([
    ['bad status', (d: any) => (d.items.minor_fault.status = 'guessed'), '$.items["minor_fault"].status'],
    ['negative ns', (d: any) => (d.items.tlb_flush_page.ns = -1), '$.items["tlb_flush_page"].ns'],
    ['unknown item', (d: any) => (d.items.minor_faults = d.items.minor_fault), '$.items["minor_faults"]'],
    ['counter of another item', (d: any) => (d.items['marker_fault/fault_missing'] = d.items.minor_fault), '$.items["marker_fault/fault_missing"]'],
    ['unavailable without why', (d: any) => delete d.items['minor_fault/fault_cow'].why, '$.items["minor_fault/fault_cow"].why'],
    ['wrong format', (d: any) => (d.format = 'other'), '$.format'],
    ['missing kernel', (d: any) => delete d.kernel, '$.kernel'],
  ])('an invalid file (%s) gives exit 65 naming the file and JSON path', (name, mutate, at) => {
    const d = synthetic();
    mutate(d);
    const p = writeJson(`bad-${name.replace(/ /g, '-')}.json`, d);
    for (const args of [
      ['calibrate', '--show', p],
      ['report', join(dir, 'none.db'), '--costs', p],
    ]) {
      const r = pteplay(args);
      expect(r.status).toBe(65);
      expect(r.stderr).toContain(`${p}: ${at}`);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('not JSON: exit 65; a missing file: exit 66', () => {
    const p = join(dir, 'garbage.json');
    writeFileSync(p, '{"format": ');
    expect(pteplay(['calibrate', '--show', p]).status).toBe(65);
    const r = pteplay(['calibrate', '--show', join(dir, 'absent.json')]);
    expect(r.status).toBe(66);
    expect(r.stderr).toContain('absent.json');
  });

  it('the schema file names the same items as the cost model', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'calibration.schema.json'), 'utf8'));
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.properties.items.propertyNames.anyOf[0].enum).toEqual(DEFAULT_COST_MODEL.map((i) => i.item));
  });
});

describe.skipIf(gccMissing)('calibrate --quick on this host (skipped: gcc is not installed)', () => {
  const out = join(dir, 'host.json');
  let run: ReturnType<typeof pteplay>;
  beforeAll(() => {
    run = pteplay(['calibrate', '-o', out, '--quick', '-q']);
  });

  it('writes a file that validates against the schema, with every cost model item measured or saying why not', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const cal = JSON.parse(readFileSync(out, 'utf8'));
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'calibration.schema.json'), 'utf8'));
    for (const k of schema.required) expect(cal).toHaveProperty(k);
    expect(cal.kernel).toBe(spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim());
    const itemSchema = schema.$defs.item;
    for (const [k, v] of Object.entries<any>(cal.items)) {
      for (const f of itemSchema.required) expect(v, k).toHaveProperty(f);
      expect(itemSchema.properties.status.enum).toContain(v.status);
      if (v.status !== 'measured') expect(v.why, k).toMatch(/\w/);
      else expect(v.samples, k).toBeGreaterThan(0);
    }
    for (const it of DEFAULT_COST_MODEL) expect(cal.items, it.item).toHaveProperty(it.item);
    // The faults this host can take are measured (root, userfaultfd with WP_ASYNC).
    for (const k of [
      'minor_fault',
      'minor_fault/fault_missing',
      'minor_fault/fault_cow',
      'uffd_sync_round_trip',
      'uffdio_writeprotect_entry',
      'pagemap_scan_entry',
    ]) {
      expect(cal.items[k].status, k).toBe('measured');
      expect(cal.items[k].ns, k).toBeGreaterThan(0);
    }
    expect(cal.items.uffdio_writeprotect_entry.fit.r2).toBeGreaterThan(0);
  });

  it('marks clear_refs unavailable when the kernel has no soft-dirty (no VMA shows the sd flag in smaps)', () => {
    const cal = JSON.parse(readFileSync(out, 'utf8'));
    const softDirty = /^VmFlags:.*\bsd\b/m.test(readFileSync('/proc/self/smaps', 'utf8'));
    if (softDirty) expect(cal.items.clear_refs_entry.status).toBe('measured');
    else {
      expect(cal.items.clear_refs_entry.status).toBe('unavailable');
      expect(cal.items.clear_refs_entry.why).toContain('CONFIG_MEM_SOFT_DIRTY is off');
      expect(cal.items.clear_refs_entry.ns).toBe(DEFAULT_COST_MODEL.find((i) => i.item === 'clear_refs_entry')!.ns);
    }
  });

  it('--show prints every item of the file', () => {
    const r = pteplay(['calibrate', '--show', out]);
    expect(r.status).toBe(0);
    const cal = JSON.parse(readFileSync(out, 'utf8'));
    for (const k of Object.keys(cal.items)) expect(r.stdout).toMatch(new RegExp(`^  ${k.replace('/', '\\/')}\\s`, 'm'));
  });

  it('never replaces an existing -o file without --force (exit 73, file untouched)', () => {
    const before = readFileSync(out, 'utf8');
    const r = pteplay(['calibrate', '-o', out, '--quick', '-q']);
    expect(r.status).toBe(73);
    expect(r.stderr).toContain('--force');
    expect(readFileSync(out, 'utf8')).toBe(before);
  });
});

describe('pricing a run with a calibration file', () => {
  const trace = join(dir, 'zipf.trace');
  const cal = join(dir, 'priced.json');
  const calibrated = join(dir, 'calibrated.db');
  const plain = join(dir, 'plain.db');
  beforeAll(() => {
    writeFileSync(cal, JSON.stringify(synthetic()));
    expect(pteplay(['gen', 'zipf', '--pages', '1024', '--accesses', '20000', '-o', trace]).status).toBe(0);
    expect(pteplay(['replay', trace, '--db', calibrated, '--costs', cal, '-q']).status).toBe(0);
    expect(pteplay(['replay', trace, '--db', plain, '-q']).status).toBe(0);
  });

  /** est. ns of a lane's whole-run counters under the synthetic table. */
  const expected = (counters: Record<string, number>): number => {
    let ns = 0;
    syntheticPrices().forEach((m) => {
      for (const [c, v] of m) ns += counters[c]! * v;
    });
    return ns;
  };

  it('replay --costs stores the file ns in cost_model and records the source in meta', () => {
    const db = new Database(calibrated, { readonly: true });
    const ns = (item: string, counter: string) =>
      (db.prepare('SELECT ns_each FROM cost_model WHERE item = ? AND counter = ?').get(item, counter) as { ns_each: number }).ns_each;
    expect(ns('minor_fault', 'fault_missing')).toBe(7777);
    expect(ns('minor_fault', 'fault_cow')).toBe(1000); // unavailable sub-item: the item's own ns
    expect(ns('tracker_syscall', 'uffdio_writeprotect_calls')).toBe(1000 + 111 * (DEFAULT_COST_MODEL.length - 1));
    const meta = Object.fromEntries(
      (db.prepare("SELECT key, value FROM meta WHERE key LIKE 'cost_table_%'").all() as any[]).map((r) => [r.key, r.value]),
    );
    expect(meta).toEqual({
      cost_table_kind: 'calibration',
      cost_table_path: cal,
      cost_table_kernel: '9.9.9-test',
      cost_table_cpu: 'Test CPU',
      cost_table_date: '2026-12-07T00:00:00Z',
    });
    db.close();
  });

  it("the report's est. totals are counters x the file's ns, and v_cost_estimate / v_fault_cost agree", () => {
    const r = pteplay(['report', calibrated, '--json']);
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.costTable).toMatchObject({ kind: 'calibration', via: 'run', path: cal, kernel: '9.9.9-test' });
    const db = new Database(calibrated, { readonly: true });
    let faultsSeen = 0;
    for (const lane of rep.lanes) {
      expect(lane.scope).toBe('run');
      expect(lane.estimate.totalNs).toBeCloseTo(expected(lane.counters), 3);
      const sql = db.prepare('SELECT SUM(est_ns) AS ns FROM v_cost_estimate WHERE lane_id = ?').get(lane.laneId) as { ns: number };
      expect(sql.ns).toBeCloseTo(lane.estimate.totalNs, 3);
      const missing = db.prepare("SELECT faults, ns_each, est_ns FROM v_fault_cost WHERE lane_id = ? AND kind = 'missing'").get(lane.laneId) as any;
      expect(missing.ns_each).toBe(7777 + 0); // minor_fault's per-counter ns (no other item prices fault_missing)
      expect(missing.est_ns).toBe(missing.faults * 7777);
      faultsSeen += missing.faults;
    }
    expect(faultsSeen).toBeGreaterThan(0);
    db.close();
    expect(pteplay(['report', calibrated]).stdout).toContain(`costs priced by calibration ${cal} (kernel 9.9.9-test, CPU Test CPU`);
  });

  it('report --costs re-prices a default-priced run without changing the database', () => {
    const before = readFileSync(plain);
    const d = JSON.parse(pteplay(['report', plain, '--json']).stdout);
    expect(d.costTable).toMatchObject({ kind: 'default', via: 'run' });
    const r = pteplay(['report', plain, '--json', '--costs', cal]);
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.costTable).toMatchObject({ kind: 'calibration', via: 'option', path: cal });
    for (const [i, lane] of rep.lanes.entries()) {
      expect(lane.estimate.totalNs).toBeCloseTo(expected(lane.counters), 3);
      expect(lane.estimate.totalNs).not.toBeCloseTo(d.lanes[i].estimate.totalNs, 0);
    }
    expect(readFileSync(plain).equals(before)).toBe(true);
    expect(pteplay(['report', plain, '--costs', cal]).stdout).toContain('given with --costs');
    expect(pteplay(['report', plain]).stdout).toContain('costs priced by the default literature table');
  });

  it('replay --costs with a missing file: exit 66 before any database is made', () => {
    const db = join(dir, 'never.db');
    const r = pteplay(['replay', trace, '--db', db, '--costs', join(dir, 'absent.json'), '-q']);
    expect(r.status).toBe(66);
    expect(existsSync(db)).toBe(false);
  });
});

it('every counter the synthetic prices name exists', () => {
  for (const m of syntheticPrices()) for (const c of m.keys()) expect(COUNTER_NAMES).toContain(c);
});
