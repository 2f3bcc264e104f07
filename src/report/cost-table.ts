/**
 * The cost table that prices a run: the documented literature table (DEFAULT_COST_MODEL) or a
 * calibration file written by `pteplay calibrate` (schema/calibration.schema.json), and where it
 * came from. The run database stores the table (cost_model) and its source (meta keys cost_table_*).
 *
 * A calibration file's `items` are keyed by:
 *   - a cost model item (e.g. "minor_fault"): its ns prices every counter of the item;
 *   - "<item>/<counter>" (e.g. "minor_fault/fault_missing"): ns for that one counter of the item;
 *   - "extra/<name>": a measurement shown by `calibrate --show` that prices nothing (mmap per call, ...).
 * Items with status "unavailable" or "default" keep the model's ns; model items the file lacks keep
 * the default and say so in their source.
 */
import { EXIT, PteplayError, readJsonFile } from '../errors.js';
import type { CounterName } from '../mm/counters.js';
import { type CostItem, DEFAULT_COST_MODEL } from './cost-model.js';

export interface CostSource {
  kind: 'default' | 'calibration';
  path?: string;
  kernel?: string;
  cpu?: string;
  date?: string;
}

export interface CostTable {
  items: readonly CostItem[];
  source: CostSource;
}

export const CALIBRATION_FORMAT = 'pteplay-calibration';
export const CALIBRATION_VERSION = 1;
export const ITEM_STATUSES = ['measured', 'default', 'unavailable'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

/** One entry of a calibration file's `items`. */
export interface CalibrationItem {
  ns: number;
  unit: string;
  p50: number | null;
  p90: number | null;
  samples: number;
  method: string;
  status: ItemStatus;
  why?: string;
  fit?: { fixed_ns: number; per_page_ns: number; r2: number };
}

/** A calibration file (schema/calibration.schema.json). */
export interface CalibrationFile {
  format: typeof CALIBRATION_FORMAT;
  version: typeof CALIBRATION_VERSION;
  kernel: string;
  cpu: string;
  cpus: number;
  date: string;
  host: string;
  /** -1 when the helper could not pin itself. */
  pinned_cpu: number;
  items: Record<string, CalibrationItem>;
}

export function defaultCostTable(): CostTable {
  return { items: DEFAULT_COST_MODEL, source: { kind: 'default' } };
}

/** Read and validate a calibration file (exit 66 missing, 65 invalid: the message names the file and JSON path). */
export function loadCostTable(path: string): CostTable {
  return tableFromCalibration(readCalibration(path), path);
}

/** Read and validate a calibration file, as loadCostTable does, without turning it into a table. */
export function readCalibration(path: string): CalibrationFile {
  const doc = readJsonFile(
    path,
    (reason) => `cannot open calibration file ${path}: ${reason}`,
    (message) => `${path}: not a JSON calibration file: ${message}`,
  );
  return validateCalibration(doc, path);
}

/** The table a calibration prices with: the model's items, ns replaced where the file measured them. */
export function tableFromCalibration(cal: CalibrationFile, path?: string): CostTable {
  const items = DEFAULT_COST_MODEL.map((it): CostItem => {
    const own = cal.items[it.item];
    const counterNs: Partial<Record<CounterName, number>> = {};
    const notes: string[] = [];
    for (const c of it.counters) {
      const sub = cal.items[`${it.item}/${c}`];
      if (sub?.status === 'measured') {
        counterNs[c] = sub.ns;
        notes.push(`${c}: ${sub.method}`);
      }
    }
    const measured = own?.status === 'measured';
    const head = measured
      ? `calibrated on ${cal.kernel}: ${own.method}`
      : `default (${own ? `${own.status}: ${own.why ?? ''}` : 'not in the calibration file'}): ${it.source}`;
    return {
      ...it,
      ns: measured ? own.ns : it.ns,
      source: [head, ...notes].join('; '),
      ...(Object.keys(counterNs).length ? { counterNs } : {}),
    };
  });
  return { items, source: { kind: 'calibration', ...(path ? { path } : {}), kernel: cal.kernel, cpu: cal.cpu, date: cal.date } };
}

/* ------------------------------------------------------------------ validation */

const ITEM_NAMES = new Set(DEFAULT_COST_MODEL.map((i) => i.item));

/** Is `key` a valid name in a calibration file's items? */
export function itemKeyError(key: string): string | null {
  if (ITEM_NAMES.has(key)) return null;
  const slash = key.indexOf('/');
  if (slash > 0) {
    const head = key.slice(0, slash);
    const tail = key.slice(slash + 1);
    if (head === 'extra' && /^[a-z0-9_]+$/.test(tail)) return null;
    const it = DEFAULT_COST_MODEL.find((i) => i.item === head);
    if (it) return it.counters.includes(tail as CounterName) ? null : `counter "${tail}" is not one of ${head}'s (${it.counters.join(', ')})`;
  }
  return `unknown item (expected a cost model item: ${[...ITEM_NAMES].join(', ')}; "<item>/<counter>"; or "extra/<name>")`;
}

function fail(path: string, at: string, what: string): never {
  throw new PteplayError(`${path}: ${at}: ${what}`, EXIT.DATA);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Check a parsed calibration file against schema/calibration.schema.json (by hand: no schema library). */
export function validateCalibration(doc: unknown, path: string): CalibrationFile {
  if (!isObj(doc)) fail(path, '$', 'expected a JSON object');
  if (doc.format !== CALIBRATION_FORMAT) fail(path, '$.format', `expected "${CALIBRATION_FORMAT}"`);
  if (doc.version !== CALIBRATION_VERSION)
    fail(path, '$.version', `expected ${CALIBRATION_VERSION} (this pteplay reads version ${CALIBRATION_VERSION})`);
  for (const k of ['kernel', 'cpu', 'date', 'host'] as const) if (typeof doc[k] !== 'string') fail(path, `$.${k}`, 'expected a string');
  if (!Number.isInteger(doc.cpus) || (doc.cpus as number) < 1) fail(path, '$.cpus', 'expected an integer >= 1');
  if (!Number.isInteger(doc.pinned_cpu) || (doc.pinned_cpu as number) < -1) fail(path, '$.pinned_cpu', 'expected an integer >= -1');
  if (!isObj(doc.items)) fail(path, '$.items', 'expected an object of items');
  for (const [key, v] of Object.entries(doc.items)) {
    const at = `$.items[${JSON.stringify(key)}]`;
    const bad = itemKeyError(key);
    if (bad) fail(path, at, bad);
    if (!isObj(v)) fail(path, at, 'expected an object');
    if (!isNum(v.ns) || v.ns < 0) fail(path, `${at}.ns`, 'expected a number >= 0');
    if (typeof v.unit !== 'string' || !v.unit) fail(path, `${at}.unit`, 'expected a non-empty string');
    for (const k of ['p50', 'p90'] as const) if (v[k] !== null && !isNum(v[k])) fail(path, `${at}.${k}`, 'expected a number or null');
    if (!Number.isInteger(v.samples) || (v.samples as number) < 0) fail(path, `${at}.samples`, 'expected an integer >= 0');
    if (typeof v.method !== 'string' || !v.method) fail(path, `${at}.method`, 'expected a non-empty string');
    if (!ITEM_STATUSES.includes(v.status as ItemStatus)) fail(path, `${at}.status`, `expected one of ${ITEM_STATUSES.join(', ')}`);
    if (v.status !== 'measured' && (typeof v.why !== 'string' || !v.why))
      fail(path, `${at}.why`, `expected a string saying why (status ${v.status})`);
    if (v.why !== undefined && typeof v.why !== 'string') fail(path, `${at}.why`, 'expected a string');
    if (v.fit !== undefined) {
      if (!isObj(v.fit)) fail(path, `${at}.fit`, 'expected an object');
      for (const k of ['fixed_ns', 'per_page_ns', 'r2'] as const) if (!isNum(v.fit[k])) fail(path, `${at}.fit.${k}`, 'expected a number');
    }
  }
  return doc as unknown as CalibrationFile;
}

/* ------------------------------------------------------------------ the run database */

/** meta keys that record which table priced a run (schema/001-run.sql). */
export const COST_META_KEYS = {
  kind: 'cost_table_kind',
  path: 'cost_table_path',
  kernel: 'cost_table_kernel',
  cpu: 'cost_table_cpu',
  date: 'cost_table_date',
} as const satisfies Record<keyof CostSource, string>;

export function sourceMetaRows(s: CostSource): [string, string][] {
  return (Object.keys(COST_META_KEYS) as (keyof CostSource)[]).filter((k) => s[k] !== undefined).map((k) => [COST_META_KEYS[k], String(s[k])]);
}

/** The source recorded in a run's meta; runs written before the keys existed were priced by the default. */
export function sourceFromMeta(get: (key: string) => string | undefined): CostSource {
  if (get(COST_META_KEYS.kind) !== 'calibration') return { kind: 'default' };
  const s: CostSource = { kind: 'calibration' };
  for (const k of ['path', 'kernel', 'cpu', 'date'] as const) {
    const v = get(COST_META_KEYS[k]);
    if (v !== undefined) s[k] = v;
  }
  return s;
}

/** The model's order of items and of their counters (stored rows come back in key order). */
function modelOrder(item: string, counter: string): number {
  const i = DEFAULT_COST_MODEL.findIndex((it) => it.item === item);
  if (i < 0) return 1e6;
  return i * 100 + DEFAULT_COST_MODEL[i]!.counters.indexOf(counter as CounterName);
}

/** A run's stored table from its cost_model rows: an item's ns is its first counter's; others that differ go to counterNs. */
export function tableFromRows(
  rows: ReadonlyArray<{ item: string; counter: string; ns_each: number; side: string; source: string }>,
  source: CostSource,
): CostTable {
  const byItem = new Map<string, { counters: CounterName[]; ns: number[]; side: string; source: string }>();
  const sorted = [...rows].sort((a, b) => modelOrder(a.item, a.counter) - modelOrder(b.item, b.counter));
  for (const r of sorted) {
    let it = byItem.get(r.item);
    if (!it) byItem.set(r.item, (it = { counters: [], ns: [], side: r.side, source: r.source }));
    it.counters.push(r.counter as CounterName);
    it.ns.push(r.ns_each);
  }
  const items = [...byItem].map(([item, it]): CostItem => {
    const ns = it.ns[0]!;
    const counterNs: Partial<Record<CounterName, number>> = {};
    it.counters.forEach((c, i) => {
      if (it.ns[i] !== ns) counterNs[c] = it.ns[i]!;
    });
    return {
      item,
      ns,
      counters: it.counters,
      side: it.side === 'collect' ? 'collect' : 'write',
      source: it.source,
      ...(Object.keys(counterNs).length ? { counterNs } : {}),
    };
  });
  return { items, source };
}

/** One line for the report: which table priced it. */
export function describeSource(s: CostSource, via: 'run' | 'option'): string {
  if (s.kind === 'default') return `the default literature table (src/report/cost-model.ts)${via === 'option' ? '' : ', as stored in the run'}`;
  const what = `calibration ${s.path ?? '(unnamed)'} (kernel ${s.kernel ?? '?'}, CPU ${s.cpu ?? '?'}, ${s.date ?? '?'})`;
  return via === 'option' ? `${what}, given with --costs (the run's stored table is not used)` : `${what}, stored in the run`;
}
