/**
 * Generates schema/datasette-metadata.json, a Datasette metadata file for pteplay run databases, from
 * the schema's own `--` comments, so the descriptions users see in Datasette are the ones in
 * schema/*.sql:
 *   - every table and view (from the comment block right above its CREATE) with a description per
 *     column (from the comment lines right above the column's line); `_` objects are hidden;
 *   - units for the ns / ms / MiB / MiB/s columns (Datasette shows them with Pint);
 *   - label_column for the lookup tables (path, why, pte_level) and lane, so a code shows its name;
 *   - the canned queries schema/queries/*.sql, titled and described by their header comments.
 *
 * The metadata is keyed by database name, which Datasette takes from the file name: it applies to a
 * run served as `run.db`:
 *     cp runs/merge.db /tmp/run.db && datasette /tmp/run.db --metadata schema/datasette-metadata.json
 *
 * test/50-store-sql.test.ts checks that the committed file is what this generates. To regenerate
 * after changing a schema comment or a canned query (Node 20 runs no .ts directly):
 *     UPDATE_DATASETTE_METADATA=1 npx vitest run test/50-store-sql.test.ts
 * or compile and run it (the second form takes another database name):
 *     npx tsc tools/datasette-metadata.ts --outDir /tmp/dm --module nodenext --target es2022 \
 *       && node /tmp/dm/datasette-metadata.js [--database run] [--out schema/datasette-metadata.json]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface DatasetteTable {
  description: string;
  columns: Record<string, string>;
  units?: Record<string, string>;
  label_column?: string;
  hidden?: boolean;
}

export interface DatasetteQuery {
  title: string;
  description: string;
  sql: string;
  params?: string[];
}

export interface DatasetteMetadata {
  title: string;
  description: string;
  databases: Record<
    string,
    {
      description: string;
      tables: Record<string, DatasetteTable>;
      queries: Record<string, DatasetteQuery>;
    }
  >;
}

export const DEFAULT_DATABASE = 'run';

/** Lookup tables and the column that names a row (Datasette shows it next to foreign keys). */
const LABEL_COLUMNS: Record<string, string> = { path: 'label', why: 'label', pte_level: 'label', lane: 'name' };

/** The unit of a column, from its name (the schema's naming convention), or undefined. */
export function columnUnit(column: string): string | undefined {
  if (/_mib_s$/.test(column)) return 'MiB/s';
  if (/_mib$/.test(column)) return 'MiB';
  if (/_ms$/.test(column)) return 'ms';
  if (/(^|_)ns(_each)?$/.test(column)) return 'ns';
  return undefined;
}

/**
 * Join comment lines into one description: prose lines with a space; list items (`* ...`, or an
 * indented `key    text` row) each on a new line, their indented continuation lines joined to them,
 * and the first unindented line after a list on a new line again.
 */
function joinComment(lines: string[]): string {
  let out = '';
  let inList = false;
  for (const raw of lines) {
    const text = raw.replace(/^\s*--\s?/, '');
    const t = text.trim();
    if (!t) continue;
    const indented = /^\s/.test(text);
    const item = /^\s*\*\s/.test(text) || /^\s+\S+\s{2,}\S/.test(text);
    const sep = !out ? '' : item || (inList && !indented) ? '\n' : ' ';
    if (item) inList = true;
    else if (!indented) inList = false;
    out += sep + t;
  }
  return out;
}

/** Comment lines directly above line `i` (no blank line between). */
function commentAbove(lines: string[], i: number): string[] {
  const out: string[] = [];
  for (let j = i - 1; j >= 0 && lines[j]!.trim().startsWith('--'); j--) out.unshift(lines[j]!);
  return out;
}

/** Tables and views of one schema file, in file order. */
export function parseSchemaSql(sql: string): Record<string, DatasetteTable> {
  const lines = sql.split('\n');
  const tables: Record<string, DatasetteTable> = {};
  for (let i = 0; i < lines.length; i++) {
    const m = /^CREATE (TABLE|VIEW) (\w+)/.exec(lines[i]!);
    if (!m) continue;
    const [, kind, name] = m as unknown as [string, 'TABLE' | 'VIEW', string];
    let end = i + 1;
    while (end < lines.length && !/^CREATE /.test(lines[end]!)) end++;
    const columns: Record<string, string> = {};
    for (let j = i + 1; j < end; j++) {
      const line = lines[j]!;
      const col = kind === 'TABLE' ? /^\s+(\w+)\s+(?:INTEGER|TEXT|REAL|ANY|BLOB)\b/.exec(line)?.[1] : /\bAS (\w+),?$/.exec(line.trimEnd())?.[1];
      if (!col) continue;
      const doc = commentAbove(lines, j);
      if (doc.length) columns[col] = joinComment(doc);
    }
    const t: DatasetteTable = { description: joinComment(commentAbove(lines, i)), columns };
    const units = Object.fromEntries(
      Object.keys(columns).flatMap((c) => {
        const u = columnUnit(c);
        return u ? [[c, u]] : [];
      }),
    );
    if (Object.keys(units).length) t.units = units;
    if (LABEL_COLUMNS[name]) t.label_column = LABEL_COLUMNS[name];
    if (name.startsWith('_')) t.hidden = true;
    tables[name] = t;
  }
  return tables;
}

/** A canned query file: `-- title:`, `-- description:` (continued on `--   ` lines) and `-- params:` header. */
export function parseCannedQuery(text: string): DatasetteQuery {
  const lines = text.split('\n');
  const header: Record<string, string> = {};
  let key = '';
  let i = 0;
  for (; i < lines.length && lines[i]!.startsWith('--'); i++) {
    const m = /^--\s*(\w+):\s*(.*)$/.exec(lines[i]!);
    if (m && !/^--\s{2,}/.test(lines[i]!)) {
      key = m[1]!;
      header[key] = m[2]!.trim();
    } else if (key) {
      header[key] = `${header[key]} ${lines[i]!.replace(/^--\s*/, '').trim()}`.trim();
    }
  }
  const sql = lines.slice(i).join('\n').trim().replace(/;\s*$/, ''); // Datasette runs one statement, no trailing ;
  const params = [...new Set([...sql.replace(/'(?:[^']|'')*'/g, "''").matchAll(/:([A-Za-z_]\w*)/g)].map((m) => m[1]!))];
  const q: DatasetteQuery = { title: header.title ?? '', description: header.description ?? '', sql };
  if (params.length) q.params = params;
  return q;
}

/** The whole metadata document for the schema in `schemaDir`. */
export function buildDatasetteMetadata(schemaDir: string, database = DEFAULT_DATABASE): DatasetteMetadata {
  const files = readdirSync(schemaDir)
    .filter((f) => /^\d+-.*\.sql$/.test(f))
    .sort();
  const tables: Record<string, DatasetteTable> = {};
  for (const f of files) Object.assign(tables, parseSchemaSql(readFileSync(join(schemaDir, f), 'utf8')));
  const first = readFileSync(join(schemaDir, files[0]!), 'utf8').split('\n');
  const headerEnd = first.findIndex((l) => !l.startsWith('--'));
  const dbDescription = joinComment(first.slice(1, headerEnd));
  const queries: Record<string, DatasetteQuery> = {};
  const qdir = join(schemaDir, 'queries');
  for (const f of readdirSync(qdir)
    .filter((x) => x.endsWith('.sql'))
    .sort()) {
    queries[basename(f, '.sql')] = parseCannedQuery(readFileSync(join(qdir, f), 'utf8'));
  }
  return {
    title: 'pteplay run database',
    description:
      'One pteplay run: a memory-access trace replayed through a simulated Linux MM into several lanes, ' +
      'each with one dirty-page tracker (soft-dirty, userfaultfd-wp sync, userfaultfd-wp async / PAGEMAP_SCAN). ' +
      'Start with the v_ views; every column is described. Generated from schema/*.sql by tools/datasette-metadata.ts.',
    databases: { [database]: { description: dbDescription, tables, queries } },
  };
}

/** The file's text (2-space JSON, trailing newline). */
export function metadataText(m: DatasetteMetadata): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

function main(argv: string[]): void {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const schemaDir = resolve(arg('--schema') ?? 'schema');
  const out = arg('--out') ?? join(schemaDir, 'datasette-metadata.json');
  writeFileSync(out, metadataText(buildDatasetteMetadata(schemaDir, arg('--database') ?? DEFAULT_DATABASE)));
  process.stderr.write(`wrote ${out}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
