import { join } from 'node:path';
import { Command } from 'commander';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { register, runReport } from '../cli/report.js';
import { EXIT, PteplayError, UsageError } from '../src/errors.js';
import { loadReport } from '../src/report/accuracy.js';
import { DEFAULT_COST_MODEL, estimate } from '../src/report/cost-model.js';
import { csvCell, formatCsv } from '../src/report/format-csv.js';
import { formatJson } from '../src/report/format-json.js';
import { formatText } from '../src/report/format-text.js';
import { fmtNs, fmtRatio } from '../src/report/format-util.js';
import type { ReportData } from '../src/report/types.js';
import { RunReader } from '../src/store/reader.js';
import { SCHEMA_VERSION } from '../src/store/schema.js';
import { buildFixture, counters, SD_TOTAL, tempDir } from './helpers/store-fixture.js';

let file: string;
let data: ReportData;

beforeAll(() => {
  file = join(tempDir(), 'run.db');
  buildFixture(file);
  const r = RunReader.open(file);
  data = loadReport(r);
  r.close();
});

describe('cost model', () => {
  it('derives its measured defaults from docs/kernel-rules.md §5.2 at 3 GHz', () => {
    const ns = Object.fromEntries(DEFAULT_COST_MODEL.map((i) => [i.item, i.ns]));
    expect(ns.minor_fault).toBe(585); // 17,563k cycles / 10,000 pages / 3
    expect(ns.uffd_sync_round_trip).toBe(20132); // (62,152 - 1,756) cycles / 3
    expect(ns.pagemap_scan_entry).toBe(13.4); // 110 µs / 8192
    expect(ns.clear_refs_entry).toBe(9.8); // 80 µs / 8192
    for (const it of DEFAULT_COST_MODEL) expect(it.source.length).toBeGreaterThan(20);
  });

  it('estimates by item and splits write vs collect path', () => {
    const e = estimate(counters({ fault_uffd_sync: 2, fault_wp_reuse: 1, clear_refs_entries: 10, tlb_flush_full: 1 }));
    expect(e.byItem.minor_fault).toBe(3 * 585);
    expect(e.byItem.uffd_sync_round_trip).toBe(2 * 20132);
    expect(e.byItem.clear_refs_entry).toBeCloseTo(98, 9);
    expect(e.byItem.tlb_flush_full).toBe(2000);
    expect(e.writeNs).toBe(3 * 585 + 2 * 20132);
    expect(e.collectNs).toBeCloseTo(98 + 2000, 9);
    expect(e.totalNs).toBeCloseTo(e.writeNs + e.collectNs, 9);
  });
});

describe('loadReport', () => {
  it('loads per-lane per-collect accuracy with causes, rates and faults', () => {
    expect(data.run).toMatchObject({ status: 'complete', committedPos: 2500, kernelProfile: '6.12', schemaVersion: SCHEMA_VERSION });
    expect(data.lanes.map((l) => l.name)).toEqual(['soft-dirty', 'uffd-async']);
    const [c0, c1] = data.lanes[0]!.collects;
    expect(c0).toMatchObject({
      index: 0,
      label: 'epoch-1',
      reported: 6,
      trueW: 4,
      tp: 4,
      fp: 2,
      fn: 0,
      recall: 1,
      intervalAccesses: 1000,
      intervalNs: 2e6,
      fpByCause: { 'new-vma-softdirty': 2 },
      fnByCause: {},
      faults: { missing: 2, wp_reuse: 4 },
    });
    expect(c0!.precision).toBeCloseTo(2 / 3, 12);
    expect(c0!.reportedMiBps).toBeCloseTo(11.71875, 9);
    expect(c1).toMatchObject({ label: null, precision: null, recall: null, reportedMiBps: null, intervalNs: null, timeNs: null });
    expect(data.lanes[1]!.collects[0]).toMatchObject({ fnByCause: { 'unpopulated-no-marker': 1 }, errors: ['EPERM'], recall: 0.75 });
  });

  it('uses run totals for the lane estimate, and sums the lane summary', () => {
    const l = data.lanes[0]!;
    expect(l.scope).toBe('run');
    expect(l.faults).toEqual({ missing: 3, wp_reuse: 4 }); // the total has one fault after the last collect
    expect(l.estimate).toEqual(estimate(SD_TOTAL));
    expect(l.summary).toMatchObject({
      collects: 2,
      reported: 6,
      trueW: 4,
      tp: 4,
      fp: 2,
      fn: 0,
      recall: 1,
      faults: 7,
      fpByCause: { 'new-vma-softdirty': 2 },
    });
    expect(l.summary.writeNsPerPage).toBeCloseTo(estimate(SD_TOTAL).writeNs / 4, 9);
    expect(l.summary.collectUsPerCollect).toBeCloseTo(estimate(SD_TOTAL).collectNs / 2 / 1000, 9);
  });

  it('filters by lane and collect; a collect filter scopes the counters to those intervals', () => {
    const r = RunReader.open(file);
    const d = loadReport(r, { lanes: ['uffd-async'], collect: 0 });
    expect(d.lanes.map((l) => l.name)).toEqual(['uffd-async']);
    expect(d.lanes[0]!.collects.map((c) => c.index)).toEqual([0]);
    expect(d.lanes[0]!.scope).toBe('collects');
    expect(d.lanes[0]!.counters.pagemap_scan_entries).toBe(16);
    expect(() => loadReport(r, { lanes: ['nope'] })).toThrow(UsageError);
    expect(() => loadReport(r, { lanes: ['nope'] })).toThrow(/lanes: soft-dirty, uffd-async/);
    expect(() => loadReport(r, { collect: 7 })).toThrow(/collects are 0\.\.1/);
    r.close();
  });
});

describe('formatText', () => {
  it('shows the per-collect table, causes, faults, estimate and a summary', () => {
    const t = formatText(data);
    const lines = t.split('\n');
    expect(t).not.toMatch(/NaN|undefined|Infinity/);
    const row = lines.find((l) => /^\s+0\s+epoch-1/.test(l) && l.includes('0.667'))!;
    // collect label pos interval reported true_w TP FP FN FP_c FN_c precision recall MiB MiB/s
    expect(row.trim().split(/\s{2,}/)).toEqual([
      '0',
      'epoch-1',
      '1000',
      '1000 acc / 2.00 ms',
      '6',
      '4',
      '4',
      '2',
      '0',
      '2',
      '0',
      '0.667',
      '1.000',
      '0.02',
      '11.72',
    ]);
    const noTime = lines.find((l) => /^\s+1\s+-\s+2000/.test(l))!;
    expect(noTime).toContain('1000 acc / - ms');
    expect(
      noTime
        .trim()
        .split(/\s{2,}/)
        .slice(-4),
    ).toEqual(['-', '-', '0.00', '-']);
    expect(t).toContain('FP by cause: new-vma-softdirty 2');
    expect(t).toContain('FN by cause: unpopulated-no-marker 1');
    expect(t).toContain('errors: EPERM');
    expect(t).toContain('faults (whole run): wp_reuse 4, missing 3');
    const e = estimate(SD_TOTAL);
    expect(t).toContain(`estimated time (whole run): ${fmtNs(e.totalNs)} = write path ${fmtNs(e.writeNs)}`);
    const summary = lines.slice(lines.findIndex((l) => l.startsWith('Summary')));
    const sd = summary
      .find((l) => l.trim().startsWith('soft-dirty'))!
      .trim()
      .split(/\s{2,}/);
    expect(sd.slice(0, 11)).toEqual(['soft-dirty', 'soft-dirty', '2', '6', '4', '4', '2', '0', '0.667', '1.000', '7']);
    expect(sd[11]).toBe(String(Math.round(e.writeNs / 4)));
  });
});

describe('formatJson', () => {
  it('round-trips the report data', () => {
    const j = formatJson(data);
    expect(JSON.parse(j)).toEqual(data);
    expect(j).not.toContain('NaN');
    expect(JSON.parse(j).lanes[0].collects[1].precision).toBeNull();
  });
});

describe('formatCsv', () => {
  it('writes one row per lane per collect with cause and fault columns', () => {
    const lines = formatCsv(data).split('\r\n');
    expect(lines.at(-1)).toBe('');
    const rows = lines.slice(0, -1).map((l) => l.split(','));
    const h = rows[0]!;
    expect(rows.length).toBe(5);
    expect(h).toContain('fp_new-vma-softdirty');
    expect(h).toContain('fn_unpopulated-no-marker');
    expect(h.filter((x) => x.startsWith('fault_'))).toEqual(['fault_missing', 'fault_wp_reuse', 'fault_uffd_async', 'fault_marker']);
    const rec = (i: number): Record<string, string> => Object.fromEntries(h.map((k, j) => [k, rows[i]![j]!]));
    expect(rec(1)).toMatchObject({ lane: 'soft-dirty', collect_idx: '0', tp: '4', fp: '2', 'fp_new-vma-softdirty': '2', fault_wp_reuse: '4' });
    expect(rec(2)).toMatchObject({ precision: '', recall: '', reported_mib_s: '', label: '' });
    expect(rec(3)).toMatchObject({ lane: 'uffd-async', errors: 'EPERM', 'fn_unpopulated-no-marker': '1', fault_marker: '1' });
  });

  it('quotes fields per RFC 4180', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(null)).toBe('');
    expect(csvCell(NaN)).toBe('');
    expect(fmtRatio(null)).toBe('-');
  });
});

describe('pteplay report (cli/report.ts)', () => {
  it('fails with exit 66 on a missing database', () => {
    let err: unknown;
    try {
      runReport(join(tempDir(), 'missing.db'), { lane: [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PteplayError);
    expect((err as PteplayError).exitCode).toBe(EXIT.NO_INPUT);
    expect((err as Error).message).not.toContain('\n');
  });

  it('rejects --json with --csv as a usage error', () => {
    expect(() => runReport(file, { lane: [], json: true, csv: true })).toThrow(UsageError);
  });

  it('parses options through commander and prints to stdout', async () => {
    const program = new Command('pteplay').exitOverride();
    register(program);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    try {
      await program.parseAsync(['node', 'pteplay', 'report', file, '--json', '--lane', 'soft-dirty', '--collect', '0']);
    } finally {
      spy.mockRestore();
    }
    const d = JSON.parse(out.join('')) as ReportData;
    expect(d.lanes.map((l) => l.name)).toEqual(['soft-dirty']);
    expect(d.lanes[0]!.collects.map((c) => c.index)).toEqual([0]);
  });
});
