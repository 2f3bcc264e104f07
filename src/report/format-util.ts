/** Number formatting and a plain-text table, shared by the text formatter. Null prints as "-". */

export const DASH = '-';

export const fmtInt = (n: number | null): string => (n === null || !Number.isFinite(n) ? DASH : String(Math.round(n)));

/** A ratio in [0, 1] with 3 decimals. */
export const fmtRatio = (r: number | null): string => (r === null || !Number.isFinite(r) ? DASH : r.toFixed(3));

/** A MiB amount or rate with 2 decimals. */
export const fmtMiB = (m: number | null): string => (m === null || !Number.isFinite(m) ? DASH : m.toFixed(2));

/** A duration given in ns, in the largest unit that keeps it >= 1 (ns, µs, ms, s). */
export function fmtNs(ns: number | null): string {
  if (ns === null || !Number.isFinite(ns)) return DASH;
  const a = Math.abs(ns);
  if (a < 1e3) return `${Math.round(ns)} ns`;
  if (a < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  if (a < 1e9) return `${(ns / 1e6).toFixed(1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

/** Interval length as "<accesses> acc / <ms> ms" (ms "-" when the trace has no time). */
export function fmtInterval(accesses: number, ns: number | null): string {
  return `${fmtInt(accesses)} acc / ${ns === null || !Number.isFinite(ns) ? DASH : (ns / 1e6).toFixed(2)} ms`;
}

/** "label n, label n" in descending n; "-" when empty. */
export function fmtCounts(rec: Record<string, number>): string {
  const e = Object.entries(rec).filter(([, v]) => v);
  if (!e.length) return DASH;
  return e
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${fmtInt(v)}`)
    .join(', ');
}

export type Align = 'l' | 'r';

/** Render a table as lines: header, a rule, then one line per row. Columns are padded to fit. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[]): string[] {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (align[i] === 'r' ? c.padStart(w[i]!) : c.padEnd(w[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)];
}
