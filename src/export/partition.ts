/**
 * Hive partition directories of an export: `<table>/trace=<trace>/kernel=<kernel>/lane=<lane>/`, so
 * engines (DuckDB, Spark, Trino, ClickHouse, polars) prune by directory.
 */
import { basename, join } from 'node:path';

/** The lane partition of tables whose rows have no lane (lane, meta). */
export const ALL_LANES = '_all';

/** Extensions dropped from a trace file name to make its partition value (repeatedly: x.jsonl.gz -> x). */
const TRACE_EXTENSIONS = /\.(?:gz|zst|trace|msgpack|jsonl|json|txt)$/i;

/** The trace's partition value: the file's base name without its trace extensions ("zipf.trace" -> "zipf"). */
export function traceName(tracePath: string): string {
  let name = basename(tracePath);
  while (TRACE_EXTENSIONS.test(name) && name.replace(TRACE_EXTENSIONS, '') !== '') name = name.replace(TRACE_EXTENSIONS, '');
  return name === '' ? 'unknown' : name;
}

/**
 * A partition value as a directory name: `%`, `/`, `=`, `\` and control characters are percent-escaped
 * (as Hive and Spark do), so the value cannot add a directory level or break `key=value`.
 */
export function partitionValue(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are escaped on purpose
  return value.replace(/[%/=\\\x00-\x1f\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The directory of one partition of `table` under `root`. */
export function partitionDir(root: string, table: string, trace: string, kernel: string, lane: string): string {
  return join(root, table, `trace=${partitionValue(trace)}`, `kernel=${partitionValue(kernel)}`, `lane=${partitionValue(lane)}`);
}
