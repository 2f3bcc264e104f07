/**
 * `pteplay sweep report DIR`: one row per done cell and lane (so per trace x kernel x lane x option
 * values), with the accuracy summed over the cell's collects (v_collect_accuracy), its faults
 * (v_fault_cost), the cost model's estimated time (v_cost_estimate), as `pteplay report`'s summary
 * computes them for one run, and the tracker's errors (collect.errors: e.g. a lane whose tracker the
 * kernel profile lacks, whose accuracy is then not the tracker's). The query runs on the sweep's DuckDB views (query.ts).
 */
import { sqlIdent } from '../export/duckdb.js';
import { type Align, DASH, fmtInt, fmtNs, fmtRatio, renderTable } from '../report/format-util.js';
import { csvField } from '../store/sql-format.js';
import type { SweepViews } from './query.js';

export interface SweepReportRow {
  trace: string;
  kernel: string;
  lane: string;
  tracker: string;
  /** The cell's options (the `cells` view's option columns). */
  options: Record<string, string | number | boolean | null>;
  collects: number;
  reported: number | null;
  true_w: number | null;
  tp: number | null;
  fp: number | null;
  fn: number | null;
  /** tp / (tp + fp), null when nothing was reported. */
  precision: number | null;
  /** tp / (tp + fn), null when nothing was written. */
  recall: number | null;
  faults: number | null;
  est_write_ns: number | null;
  est_collect_ns: number | null;
  est_total_ns: number | null;
  /** The distinct errors the lane's tracker met at its collects (collect.errors), in order; empty if none. */
  errors: string[];
  cell: string;
}

export interface SweepReport {
  dir: string;
  /** Done cells. */
  cells: number;
  optionColumns: string[];
  rows: SweepReportRow[];
}

const reportSql = (opts: readonly string[]): string => `
WITH acc AS (
  SELECT cell, lane, count(*) AS collects, sum(reported)::BIGINT AS reported, sum(true_w)::BIGINT AS true_w,
         sum(tp)::BIGINT AS tp, sum(fp)::BIGINT AS fp, sum(fn)::BIGINT AS fn
  FROM collect_accuracy GROUP BY cell, lane),
flt AS (SELECT cell, lane, sum(faults)::BIGINT AS faults FROM fault_cost GROUP BY cell, lane),
cost AS (
  SELECT cell, lane, sum(est_ns) FILTER (WHERE side = 'write') AS est_write_ns,
         sum(est_ns) FILTER (WHERE side = 'collect') AS est_collect_ns
  FROM cost_estimate GROUP BY cell, lane),
errs AS (SELECT cell, lane, list(DISTINCT errors ORDER BY errors) AS errors FROM collect WHERE errors IS NOT NULL AND errors <> '[]' GROUP BY cell, lane)
SELECT c.trace, c.kernel, l.name AS lane, l.tracker,${opts.map((o) => ` c.${sqlIdent(o)}::VARCHAR AS ${sqlIdent(`opt:${o}`)},`).join('')}
       coalesce(acc.collects, 0)::BIGINT AS collects, acc.reported, acc.true_w, acc.tp, acc.fp, acc.fn,
       CASE WHEN acc.tp + acc.fp > 0 THEN acc.tp / (acc.tp + acc.fp) END AS precision,
       CASE WHEN acc.tp + acc.fn > 0 THEN acc.tp / (acc.tp + acc.fn) END AS recall,
       flt.faults, cost.est_write_ns, cost.est_collect_ns, cost.est_write_ns + cost.est_collect_ns AS est_total_ns, errs.errors, c.cell
FROM lane l
JOIN cells c ON c.cell = l.cell
LEFT JOIN acc ON acc.cell = l.cell AND acc.lane = l.name
LEFT JOIN flt ON flt.cell = l.cell AND flt.lane = l.name
LEFT JOIN cost ON cost.cell = l.cell AND cost.lane = l.name
LEFT JOIN errs ON errs.cell = l.cell AND errs.lane = l.name
ORDER BY c.trace, c.kernel, l.lane_id, l.name${opts.map((o) => `, c.${sqlIdent(o)}`).join('')}, c.cell`;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** collect.errors holds a JSON array of strings per collect: the union of a lane's, first seen first. */
function errorList(v: unknown): string[] {
  const out = new Set<string>();
  const lists = v === null || v === undefined ? [] : ((v as { items?: unknown[] }).items ?? (v as unknown[]));
  for (const json of lists) for (const e of JSON.parse(String(json)) as unknown[]) out.add(String(e));
  return [...out];
}

export async function loadSweepReport(views: SweepViews): Promise<SweepReport> {
  const opts = views.optionColumns;
  const result = await views.duck.connection.runAndReadAll(reportSql(opts));
  const rows = result.getRowObjects().map((r): SweepReportRow => {
    const options: SweepReportRow['options'] = {};
    for (const o of opts) {
      const v = r[`opt:${o}`];
      options[o] = v === null || v === undefined ? null : /^-?\d+(\.\d+)?$/.test(String(v)) ? Number(v) : String(v);
    }
    return {
      trace: String(r.trace),
      kernel: String(r.kernel),
      lane: String(r.lane),
      tracker: String(r.tracker),
      options,
      collects: Number(r.collects),
      reported: num(r.reported),
      true_w: num(r.true_w),
      tp: num(r.tp),
      fp: num(r.fp),
      fn: num(r.fn),
      precision: num(r.precision),
      recall: num(r.recall),
      faults: num(r.faults),
      est_write_ns: num(r.est_write_ns),
      est_collect_ns: num(r.est_collect_ns),
      est_total_ns: num(r.est_total_ns),
      errors: errorList(r.errors),
      cell: String(r.cell),
    };
  });
  return { dir: views.dir, cells: views.doneCells, optionColumns: [...opts], rows };
}

export function formatSweepText(r: SweepReport): string {
  const head = [
    'trace',
    'kernel',
    'lane',
    ...r.optionColumns,
    'collects',
    'reported',
    'true_w',
    'TP',
    'FP',
    'FN',
    'precision',
    'recall',
    'faults',
    'est. total',
    'cell',
  ];
  const align: Align[] = head.map((_, i) => (i < 3 || i === head.length - 1 ? 'l' : 'r'));
  const rows = r.rows.map((x) => [
    x.trace,
    x.kernel,
    x.lane,
    ...r.optionColumns.map((o) => (x.options[o] === null ? DASH : String(x.options[o]))),
    fmtInt(x.collects),
    fmtInt(x.reported),
    fmtInt(x.true_w),
    fmtInt(x.tp),
    fmtInt(x.fp),
    fmtInt(x.fn),
    fmtRatio(x.precision),
    fmtRatio(x.recall),
    fmtInt(x.faults),
    fmtNs(x.est_total_ns),
    x.cell,
  ]);
  const title =
    `Sweep ${r.dir}: ${r.cells} done cell${r.cells === 1 ? '' : 's'} ` +
    "(accuracy summed over each cell's collects; times are estimates from the cost model)";
  if (r.cells === 0) return `${title}\n  no done cells yet: \`pteplay sweep status ${r.dir}\` shows what is running, failed or missing\n`;
  return `${[title, ...renderTable(head, rows, align).map((l) => `  ${l}`), ...errorNotes(r)].join('\n')}\n`;
}

/** Below the table: each kernel × lane × error, with its cells (the rows whose accuracy is not the tracker's). */
function errorNotes(r: SweepReport): string[] {
  const groups = new Map<string, string[]>();
  for (const x of r.rows) {
    for (const e of x.errors) {
      const key = `${x.kernel} ${x.lane}: ${e}`;
      groups.set(key, [...(groups.get(key) ?? []), x.cell]);
    }
  }
  if (groups.size === 0) return [];
  const lines = ["  tracker errors (the lane's tracker failed or was limited at some collects: read its rows with the error in mind):"];
  for (const [key, cells] of groups) lines.push(`    kernel ${key} (cell${cells.length === 1 ? '' : 's'} ${cells.join(', ')})`);
  return lines;
}

export function formatSweepJson(r: SweepReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

/** One CSV row per cell and lane; option columns by name, empty field = null. */
export function formatSweepCsv(r: SweepReport): string {
  const fixed = [
    'collects',
    'reported',
    'true_w',
    'tp',
    'fp',
    'fn',
    'precision',
    'recall',
    'faults',
    'est_write_ns',
    'est_collect_ns',
    'est_total_ns',
  ] as const;
  const head = ['trace', 'kernel', 'lane', 'tracker', ...r.optionColumns, ...fixed, 'errors', 'cell'];
  const cell = (v: unknown): string => csvField(v === null || v === undefined ? '' : String(v));
  const lines = [head.map(csvField).join(',')];
  for (const x of r.rows) {
    lines.push(
      [x.trace, x.kernel, x.lane, x.tracker, ...r.optionColumns.map((o) => x.options[o]), ...fixed.map((f) => x[f]), x.errors.join('; '), x.cell]
        .map(cell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
