/**
 * Output formatters for `pteplay sql`: pure functions from column names and rows of SQLite values to
 * text, in the modes sqlite3 and sqlite-utils users know.
 *
 *   box    Unicode box drawing (sqlite3 `.mode box`)
 *   table  plain aligned columns, a rule of dashes under the header, two spaces between columns
 *          (sqlite3 `.mode column`)
 *          In both, NULL is shown as NULL and numeric columns are right-aligned.
 *   csv    RFC 4180: header row, CRLF line ends, fields quoted when they hold `,` `"` CR or LF;
 *          NULL is an empty field
 *   json   one JSON array of objects, one object per line (sqlite3 `.mode json`)
 *   nl     newline-delimited JSON: one object per line (sqlite-utils `--nl`)
 *
 * Values are what better-sqlite3 returns with safeIntegers(true): INTEGER as bigint (printed exactly,
 * also in JSON, where it is written as a bare number however large), REAL as number (always printed
 * with a fraction or exponent, so 1.0 stays distinguishable from the integer 1, as sqlite3 does),
 * TEXT as string, BLOB as Uint8Array (x'0a1b' in box/table/csv; {"$base64": true, "encoded": ...} in
 * json/nl, as sqlite-utils and Datasette write blobs), NULL as null.
 *
 * csv, json and nl are streaming formatters: begin() and every row() return their text at once, so a
 * caller can write each row as it comes. box and table have to see every row to size the columns:
 * row() keeps the row and returns '', end() returns the whole grid.
 */

export type SqlValue = null | bigint | number | string | Uint8Array;

export const SQL_MODES = ['box', 'table', 'csv', 'json', 'nl'] as const;
export type SqlMode = (typeof SQL_MODES)[number];

export interface RowFormatter {
  /** Text before the first row (header). */
  begin(): string;
  /** Text for one row ('' for the buffering modes box/table). */
  row(values: readonly SqlValue[]): string;
  /** Text after the last row (the whole grid for box/table). */
  end(): string;
}

export function createFormatter(mode: SqlMode, columns: readonly string[]): RowFormatter {
  switch (mode) {
    case 'csv':
      return csvFormatter(columns);
    case 'json':
      return jsonFormatter(columns);
    case 'nl':
      return nlFormatter(columns);
    case 'box':
      return gridFormatter(columns, BOX);
    case 'table':
      return gridFormatter(columns, null);
  }
}

/** Format a whole result at once (convenience for tests and small results). */
export function formatRows(mode: SqlMode, columns: readonly string[], rows: readonly (readonly SqlValue[])[]): string {
  const f = createFormatter(mode, columns);
  let out = f.begin();
  for (const r of rows) out += f.row(r);
  return out + f.end();
}

// ---- scalars ------------------------------------------------------------------------------------

/** A REAL as text: shortest round-trip form, with ".0" on integral values (1.0, not 1). */
export function realText(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Inf' : '-Inf';
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const byte of b) s += byte.toString(16).padStart(2, '0');
  return s;
}

/** A value as plain text (csv and the grid modes); NULL is `nullText`. */
export function valueText(v: SqlValue, nullText: string): string {
  if (v === null) return nullText;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return realText(v);
  if (typeof v === 'string') return v;
  return `x'${hex(v)}'`;
}

/** A value as a JSON token. bigint is written as a bare JSON number with every digit. */
export function valueJson(v: SqlValue): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'null';
    // SQLite's own JSON functions write infinities as 9e999, which JSON parsers read back as Infinity.
    if (!Number.isFinite(v)) return v > 0 ? '9e999' : '-9e999';
    return realText(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  return `{"$base64":true,"encoded":${JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'))}}`;
}

function jsonObject(keys: readonly string[], values: readonly SqlValue[]): string {
  let s = '{';
  for (let i = 0; i < keys.length; i++) s += `${i ? ',' : ''}${keys[i]}:${valueJson(values[i] ?? null)}`;
  return `${s}}`;
}

// ---- csv / json / nl (streaming) ----------------------------------------------------------------

/** One RFC 4180 field. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvFormatter(columns: readonly string[]): RowFormatter {
  return {
    begin: () => `${columns.map(csvField).join(',')}\r\n`,
    row: (values) => `${values.map((v) => csvField(valueText(v, ''))).join(',')}\r\n`,
    end: () => '',
  };
}

function jsonFormatter(columns: readonly string[]): RowFormatter {
  const keys = columns.map((c) => JSON.stringify(c));
  let n = 0;
  return {
    begin: () => '[',
    row: (values) => `${n++ ? ',\n' : ''}${jsonObject(keys, values)}`,
    end: () => ']\n',
  };
}

function nlFormatter(columns: readonly string[]): RowFormatter {
  const keys = columns.map((c) => JSON.stringify(c));
  return { begin: () => '', row: (values) => `${jsonObject(keys, values)}\n`, end: () => '' };
}

// ---- box / table (buffering) --------------------------------------------------------------------

interface BoxChars {
  h: string;
  v: string;
  tl: string;
  tm: string;
  tr: string;
  ml: string;
  mm: string;
  mr: string;
  bl: string;
  bm: string;
  br: string;
}

const BOX: BoxChars = { h: '─', v: '│', tl: '┌', tm: '┬', tr: '┐', ml: '├', mm: '┼', mr: '┤', bl: '└', bm: '┴', br: '┘' };

/** Control characters would break the grid: show them escaped, one row per line. */
function cellText(v: SqlValue): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return valueText(v, 'NULL').replace(/[\x00-\x1f\x7f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** Display width in terminal cells (code points; good enough for the ASCII and Latin text runs hold). */
const width = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const isNumber = (v: SqlValue): boolean => typeof v === 'bigint' || typeof v === 'number';

/**
 * box and table: a column is right-aligned (header included) when every non-NULL value in it is a
 * number and there is at least one; otherwise left-aligned. Control characters are shown escaped.
 */
function gridFormatter(columns: readonly string[], box: BoxChars | null): RowFormatter {
  const cells: string[][] = [];
  const numeric: (boolean | undefined)[] = columns.map(() => undefined);
  return {
    begin: () => '',
    row: (values) => {
      cells.push(values.map(cellText));
      values.forEach((v, i) => {
        if (v !== null) numeric[i] = (numeric[i] ?? true) && isNumber(v);
      });
      return '';
    },
    end: () => {
      const header = columns.map((c) => cellText(c));
      const w = header.map(width);
      for (const r of cells)
        r.forEach((c, i) => {
          w[i] = Math.max(w[i] ?? 0, width(c));
        });
      const pad = (s: string, i: number): string => {
        const fill = ' '.repeat(w[i]! - width(s));
        return numeric[i] ? fill + s : s + fill;
      };
      const lines: string[] = [];
      if (box) {
        const rule = (l: string, m: string, r: string): string => l + w.map((n) => box.h.repeat(n + 2)).join(m) + r;
        const line = (r: string[]): string => `${box.v} ${r.map(pad).join(` ${box.v} `)} ${box.v}`;
        lines.push(rule(box.tl, box.tm, box.tr), line(header), rule(box.ml, box.mm, box.mr));
        for (const r of cells) lines.push(line(r));
        lines.push(rule(box.bl, box.bm, box.br));
      } else {
        const line = (r: string[]): string => r.map(pad).join('  ').trimEnd();
        lines.push(line(header), w.map((n) => '-'.repeat(n)).join('  '));
        for (const r of cells) lines.push(line(r));
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
