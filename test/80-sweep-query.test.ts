/**
 * `pteplay sweep report` / `sweep sql` (issue 18 item 4) over a hand-made sweep directory in the layout of
 * the sweep contract: real replays exported per cell, two cells done and one without done.json (a killed
 * or running cell), whose rows must never show.
 */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { beforeAll, describe, expect, test } from 'vitest';
import { register as registerReport, sweepReportText } from '../cli/sweep-report.js';
import { register as registerSql, runSweepSqlCommand } from '../cli/sweep-sql.js';
import { openSweepViews } from '../src/sweep/query.js';
import { makeSweepDir } from './helpers/sweep-dir.js';
import { ROOT } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'pteplay-sweep-q-'));
const dir = join(tmp, 'sweep');
const scen = (n: string) => join(ROOT, 'traces', 'scenarios', `${n}.jsonl`);
const CELLS = [
  {
    cell: 'a1',
    trace: scen('unpopulated-sync'),
    kernel: '6.18',
    lanes: ['soft-dirty', 'uffd-sync'],
    options: { interval: 2, monitor_latency_us: 5 },
    done: true,
  },
  {
    cell: 'b2',
    trace: scen('fork-child'),
    kernel: '6.1',
    lanes: ['soft-dirty', 'uffd-async'],
    options: { interval: 4, monitor_latency_us: 20 },
    done: true,
  },
  { cell: 'z9', trace: scen('thp-collapse'), kernel: '6.18', lanes: ['uffd-sync'], options: { interval: 3, monitor_latency_us: 100 }, done: false },
];
let dbs: Map<string, string>;

const sqliteOne = (db: string, sql: string): unknown => {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).raw().all();
  } finally {
    d.close();
  }
};

beforeAll(async () => {
  dbs = await makeSweepDir(dir, CELLS);
});

describe('sweep views', () => {
  test('only done cells: cells view with options as columns, tables semi-joined with them', async () => {
    const v = await openSweepViews(dir);
    try {
      expect(v.doneCells).toBe(2);
      expect(v.optionColumns).toEqual(['interval', 'monitor_latency_us']);
      const cells = (await v.duck.connection.runAndReadAll('SELECT cell, kernel, interval, monitor_latency_us FROM cells ORDER BY cell')).getRowsJS();
      expect(cells).toEqual([
        ['a1', '6.18', 2n, 5n],
        ['b2', '6.1', 4n, 20n],
      ]);
      const perCell = (
        await v.duck.connection.runAndReadAll('SELECT cell, count(*)::BIGINT FROM pte_change GROUP BY cell ORDER BY cell')
      ).getRowsJS();
      // The not-done cell z9 exported files too: they must not show.
      expect(perCell.map((r) => r[0])).toEqual(['a1', 'b2']);
      for (const [cell, n] of perCell)
        expect(n).toBe(BigInt((sqliteOne(dbs.get(cell as string)!, 'SELECT count(*) FROM v_pte_change') as bigint[][])[0]![0]!));
    } finally {
      v.close();
    }
  });

  test('sweep report --json: one row per done cell and lane, sums equal the cell databases', async () => {
    const r = JSON.parse(await sweepReportText(dir, { json: true })) as {
      cells: number;
      optionColumns: string[];
      rows: {
        cell: string;
        lane: string;
        trace: string;
        kernel: string;
        options: Record<string, unknown>;
        collects: number;
        tp: number;
        fp: number;
        fn: number;
      }[];
    };
    expect(r.cells).toBe(2);
    expect(r.rows.map((x) => `${x.cell}:${x.lane}`).sort()).toEqual(['a1:soft-dirty', 'a1:uffd-sync', 'b2:soft-dirty', 'b2:uffd-async']);
    for (const x of r.rows) {
      const [[collects, tp, fp, fn]] = sqliteOne(
        dbs.get(x.cell)!,
        `SELECT count(*), sum(tp), sum(fp), sum(fn) FROM v_collect_accuracy WHERE lane = '${x.lane}'`,
      ) as number[][] as [number[]];
      expect([x.collects, x.tp, x.fp, x.fn]).toEqual([collects, tp, fp, fn]);
      expect(x.trace).toBe(x.cell === 'a1' ? 'unpopulated-sync' : 'fork-child');
    }
    expect(r.rows.find((x) => x.cell === 'b2')!.options).toEqual({ interval: 4, monitor_latency_us: 20 });
  });

  test('sweep report text and --csv through the commander subcommand', async () => {
    const out: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => out.push(s) > 0) as typeof process.stdout.write;
    try {
      const sweep = new Command('sweep').exitOverride();
      registerReport(sweep);
      await sweep.parseAsync(['report', dir, '--csv'], { from: 'user' });
      await sweep.parseAsync(['report', dir], { from: 'user' });
    } finally {
      process.stdout.write = write;
    }
    const csv = out[0]!.split('\r\n');
    expect(csv[0]).toBe(
      'trace,kernel,lane,tracker,interval,monitor_latency_us,collects,reported,true_w,tp,fp,fn,precision,recall,faults,est_write_ns,est_collect_ns,est_total_ns,errors,cell',
    );
    expect(csv.filter((l) => l !== '').length).toBe(5);
    expect(out[1]).toMatch(/^Sweep .*: 2 done cells/);
    expect(out[1]).not.toMatch(/z9/);
  });

  test('sweep sql prints like pteplay sql, and a sweep without done cells is an empty result', async () => {
    let text = '';
    await runSweepSqlCommand(dir, 'SELECT cell, count(*) AS n FROM lane GROUP BY cell ORDER BY cell', { json: true }, (s) => {
      text += s;
    });
    expect(JSON.parse(text)).toEqual([
      { cell: 'a1', n: 2 },
      { cell: 'b2', n: 2 },
    ]);
    const fresh = join(tmp, 'fresh');
    mkdirSync(join(fresh, 'cells'), { recursive: true });
    writeFileSync(join(fresh, 'cells', 'x.json'), '{"cell":"x"}');
    text = '';
    await runSweepSqlCommand(fresh, 'SELECT count(*) AS n FROM collect_accuracy', { csv: true }, (s) => {
      text += s;
    });
    expect(text).toBe('n\r\n0\r\n');
    expect(await sweepReportText(fresh, {})).toMatch(/0 done cells.*\n {2}no done cells yet/);
  });

  test('errors: missing dir 66, bad SQL 65, a corrupt done.json 65 naming it', async () => {
    await expect(sweepReportText(join(tmp, 'nope'), {})).rejects.toMatchObject({ exitCode: 66 });
    const sweep = new Command('sweep').exitOverride();
    registerSql(sweep);
    await expect(runSweepSqlCommand(dir, 'SELECT nope FROM cells', {}, () => {})).rejects.toMatchObject({ exitCode: 65 });
    const bad = join(tmp, 'bad');
    mkdirSync(join(bad, 'cells'), { recursive: true });
    writeFileSync(join(bad, 'cells', 'q.done.json'), '{"cell": ');
    await expect(sweepReportText(bad, {})).rejects.toMatchObject({ exitCode: 65, message: expect.stringContaining('q.done.json') });
  });
});
