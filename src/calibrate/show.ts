/** `pteplay calibrate --show FILE`: the calibration as a table (text) or the file itself (--json). Pure. */
import type { CalibrationFile } from '../report/cost-table.js';
import { renderTable, type Align } from '../report/format-util.js';

const HEADERS = ['item', 'status', 'ns/unit', 'unit', 'p50', 'p90', 'samples', 'method (or why not measured)'];
const ALIGN: Align[] = ['l', 'l', 'r', 'l', 'r', 'r', 'r', 'l'];

const num = (v: number | null): string => (v === null ? '-' : v >= 100 ? Math.round(v).toLocaleString('en-US') : String(v));

export function formatShow(cal: CalibrationFile, path: string): string {
  const rows = Object.entries(cal.items).map(([name, it]) => [
    name,
    it.status,
    num(it.ns),
    it.unit,
    num(it.p50),
    num(it.p90),
    String(it.samples),
    it.status === 'measured'
      ? it.method + (it.fit ? ` [fit: ${num(it.fit.fixed_ns)} ns + ${it.fit.per_page_ns} ns/page, r² ${it.fit.r2}]` : '')
      : `${it.why} (uses ${it.method})`,
  ]);
  const counts = { measured: 0, unavailable: 0, default: 0 };
  for (const it of Object.values(cal.items)) counts[it.status]++;
  return (
    [
      `calibration ${path}: kernel ${cal.kernel}, CPU ${cal.cpu} (${cal.cpus} CPUs, ${cal.pinned_cpu >= 0 ? `pinned to CPU ${cal.pinned_cpu}` : 'not pinned'}), host ${cal.host}, ${cal.date}`,
      `  ${counts.measured} measured, ${counts.unavailable} unavailable, ${counts.default} default; items not measured price with the default table (src/report/cost-model.ts)`,
      '  "<item>/<counter>" prices one counter of the item; "extra/..." is shown for reference and prices nothing',
      ...renderTable(HEADERS, rows, ALIGN).map((l) => `  ${l}`),
    ].join('\n') + '\n'
  );
}
