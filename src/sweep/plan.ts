/**
 * A sweep plan (schema/sweep-plan.schema.json): read, parsed and checked, with errors that name the
 * plan file and the JSON path of what is wrong (exit 65; a missing plan file is exit 66). Nothing here
 * reads a trace: see traces.ts for what the trace entries resolve to, cells.ts for the cross product.
 */
import { EXIT, PteplayError, readJsonFile } from '../errors.js';
import { DEFAULT_PROFILE, PROFILES, resolveProfile } from '../kernel/profile.js';
import { checkLaneNames, DEFAULT_LANES, parseLaneSpec } from '../lanes/config.js';
import { parseChurnOps } from '../trace/generators/churn/menu.js';
import { GEN_KINDS, type GenKind } from '../trace/generators/index.js';
import { type GenParams, resolveGen } from '../trace/generators/resolve.js';

/** One value of an option grid, as the plan gives it (kernel_opt: the overrides of one grid point). */
export type OptionValue = number | string | boolean | string[];

/** A trace entry: a path or glob (relative to the plan file), or a generated trace. */
export type TraceEntry = { kind: 'path'; pattern: string; at: string } | { kind: 'gen'; gen: GenKind; params: GenParams; source: string; at: string };

export interface SweepPlan {
  /** The plan file, as given. */
  file: string;
  /** The plan as read (what DIR/plan.json keeps). */
  raw: unknown;
  traces: TraceEntry[];
  lanes: string[];
  kernels: string[];
  /** Option grids, keys as in the plan (snake_case), each a non-empty list of values; sorted by key. */
  options: [string, OptionValue[]][];
}

/** A plan that is not what the schema says: `<file>: <json path>: <what>`. */
export class PlanError extends PteplayError {
  constructor(file: string, path: string, detail: string) {
    super(`${file}: ${path}: ${detail}`, EXIT.DATA);
    this.name = 'PlanError';
  }
}

const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

interface OptionRule {
  expect: string;
  ok(v: unknown): boolean;
}

/** The replay options a plan may sweep (the `replay` option of the same name, spelled with _). */
export const OPTION_RULES: Record<string, OptionRule> = {
  interval: { expect: 'a whole number of accesses, "auto" or "none"', ok: (v) => isWhole(v) || v === 'auto' || v === 'none' },
  interval_us: { expect: 'a whole number of µs > 0', ok: (v) => isWhole(v) && v > 0 },
  monitor_latency_us: { expect: 'a whole number of µs', ok: isWhole },
  thp: { expect: '"always", "madvise" or "never"', ok: (v) => v === 'always' || v === 'madvise' || v === 'never' },
  swap: { expect: 'true or false', ok: (v) => typeof v === 'boolean' },
  kernel_opt: {
    expect: 'a kernel switch "key=on|off" or a list of them',
    ok: (v) => (typeof v === 'string' ? [v] : Array.isArray(v) ? v : [null]).every((o) => typeof o === 'string' && kernelOptOk(o)),
  },
  events: { expect: 'true or false', ok: (v) => typeof v === 'boolean' },
  keyframe_every: { expect: 'a whole number of change rows', ok: isWhole },
};

function kernelOptOk(o: string): boolean {
  try {
    resolveProfile(DEFAULT_PROFILE, [o]);
    return true;
  } catch {
    return false;
  }
}

/** Keys of a `gen` trace entry: the `pteplay gen` options spelled with _, and the kinds they apply to (undefined: all). */
const GEN_KEYS: Record<string, { param: keyof GenParams; kinds?: GenKind[]; type: 'number' | 'boolean' | 'string' }> = {
  pages: { param: 'pages', type: 'number' },
  accesses: { param: 'accesses', type: 'number' },
  seed: { param: 'seed', type: 'number' },
  write_ratio: { param: 'writeRatio', type: 'number' },
  threads: { param: 'threads', type: 'number' },
  base: { param: 'base', type: 'number' },
  access_size: { param: 'accessSize', type: 'number' },
  ns_per_access: { param: 'nsPerAccess', type: 'number' },
  interval: { param: 'interval', type: 'number' },
  warmup: { param: 'warmup', type: 'boolean' },
  theta: { param: 'theta', kinds: ['zipf'], type: 'number' },
  phases: { param: 'phases', kinds: ['phased'], type: 'number' },
  phase_pages: { param: 'phasePages', kinds: ['phased'], type: 'number' },
  shared_pages: { param: 'sharedPages', kinds: ['threads'], type: 'number' },
  shared_ratio: { param: 'sharedRatio', kinds: ['threads'], type: 'number' },
  burst: { param: 'burst', kinds: ['threads'], type: 'number' },
  op_every: { param: 'opEvery', kinds: ['churn'], type: 'number' },
  ops: { param: 'ops', kinds: ['churn'], type: 'string' },
};
export const GEN_KEY_NAMES = ['gen', ...Object.keys(GEN_KEYS)];
export const PLAN_KEYS = ['$schema', 'description', 'traces', 'lanes', 'kernels', 'options'];

/** Read and check a plan file. */
export function loadPlan(file: string): SweepPlan {
  const raw = readJsonFile(
    file,
    (reason) => `cannot read sweep plan ${file}: ${reason}`,
    (message) => `${file}: not valid JSON: ${message}`,
  );
  return parsePlan(file, raw);
}

export function parsePlan(file: string, raw: unknown): SweepPlan {
  const fail = (path: string, detail: string) => new PlanError(file, path, detail);
  if (!isObject(raw)) throw fail('$', `expected an object with "traces", "lanes", "kernels", "options", got ${show(raw)}`);
  unknownKeys(raw, PLAN_KEYS, '$', fail);
  if (raw.description !== undefined && typeof raw.description !== 'string') throw fail('$.description', 'expected a string');

  if (!Array.isArray(raw.traces) || raw.traces.length === 0) {
    throw fail('$.traces', 'expected a non-empty list of trace paths or globs (relative to the plan file) and {"gen": ...} specs');
  }
  const traces = raw.traces.map((t, i) => traceEntry(t, `$.traces[${i}]`, fail));

  const lanes = stringList(raw.lanes, '$.lanes', DEFAULT_LANES, fail);
  lanes.forEach((spec, i) => {
    try {
      parseLaneSpec(spec);
    } catch (e) {
      throw fail(`$.lanes[${i}]`, (e as Error).message);
    }
  });
  try {
    checkLaneNames(lanes.map((s) => parseLaneSpec(s)));
  } catch (e) {
    throw fail('$.lanes', (e as Error).message.replace(/^option --lanes: /, ''));
  }

  const kernels = stringList(raw.kernels, '$.kernels', [DEFAULT_PROFILE], fail);
  kernels.forEach((k, i) => {
    if (!(k in PROFILES)) throw fail(`$.kernels[${i}]`, `unknown kernel profile ${show(k)} (expected one of ${Object.keys(PROFILES).join(', ')})`);
  });
  noDuplicates(kernels, '$.kernels', fail);

  const options: [string, OptionValue[]][] = [];
  if (raw.options !== undefined) {
    if (!isObject(raw.options)) throw fail('$.options', 'expected an object of option grids, e.g. {"interval": [10000, 100000]}');
    unknownKeys(raw.options, Object.keys(OPTION_RULES), '$.options', fail);
    for (const key of Object.keys(raw.options).sort()) {
      const given = raw.options[key];
      // A list is the grid; one value is a grid of one (kernel_opt: a list of lists, or of single switches).
      const values = Array.isArray(given) ? given : [given];
      if (values.length === 0) throw fail(`$.options.${key}`, 'expected at least one value');
      values.forEach((v, i) => {
        if (!OPTION_RULES[key]!.ok(v))
          throw fail(`$.options.${key}${Array.isArray(given) ? `[${i}]` : ''}`, `expected ${OPTION_RULES[key]!.expect}, got ${show(v)}`);
      });
      noDuplicates(values, `$.options.${key}`, fail);
      options.push([key, values as OptionValue[]]);
    }
    const interval = raw.options.interval;
    if (
      raw.options.interval_us !== undefined &&
      (interval === undefined || interval === 'auto' || (Array.isArray(interval) && interval.includes('auto')))
    ) {
      throw fail('$.options', '"interval": "auto" (the default) chooses the interval itself: give "interval_us" with "interval": "none" or a number');
    }
  }
  return { file, raw, traces, lanes, kernels, options };
}

function traceEntry(t: unknown, at: string, fail: (path: string, detail: string) => PlanError): TraceEntry {
  if (typeof t === 'string') {
    if (t.trim() === '') throw fail(at, 'expected a trace path or glob, got ""');
    return { kind: 'path', pattern: t, at };
  }
  if (!isObject(t) || typeof t.gen !== 'string') {
    throw fail(at, `expected a trace path or glob, or {"gen": "${GEN_KINDS.join('|')}", "pages": ..., "accesses": ..., "seed": ...}, got ${show(t)}`);
  }
  const kind = t.gen as GenKind;
  if (!(GEN_KINDS as readonly string[]).includes(kind))
    throw fail(`${at}.gen`, `unknown generator ${show(t.gen)} (expected one of ${GEN_KINDS.join(', ')})`);
  unknownKeys(t, GEN_KEY_NAMES, at, fail);
  const params: GenParams = {};
  for (const [key, value] of Object.entries(t)) {
    if (key === 'gen') continue;
    const rule = GEN_KEYS[key]!;
    if (rule.kinds && !rule.kinds.includes(kind)) throw fail(`${at}.${key}`, `applies to gen ${rule.kinds.join(', ')} only, not ${kind}`);
    if (typeof value !== rule.type) throw fail(`${at}.${key}`, `expected a ${rule.type}, got ${show(value)}`);
    try {
      (params as Record<string, unknown>)[rule.param] = key === 'ops' ? parseChurnOps(value as string) : value;
    } catch (e) {
      throw fail(`${at}.${key}`, (e as Error).message.replace(/^option --ops: /, ''));
    }
  }
  try {
    const { source } = resolveGen(kind, params);
    return { kind: 'gen', gen: kind, params, source, at };
  } catch (e) {
    // resolveGen's messages name the gen option ("option --pages: ..."): name the plan key instead.
    const m = /^option --([\w-]+): (.*)$/.exec((e as Error).message);
    if (m) throw fail(`${at}.${m[1]!.replace(/-/g, '_')}`, m[2]!);
    throw fail(at, (e as Error).message);
  }
}

function stringList(v: unknown, at: string, dflt: string[], fail: (path: string, detail: string) => PlanError): string[] {
  if (v === undefined) return [...dflt];
  if (!Array.isArray(v) || v.length === 0) throw fail(at, `expected a non-empty list of strings, got ${show(v)}`);
  v.forEach((s, i) => {
    if (typeof s !== 'string' || s === '') throw fail(`${at}[${i}]`, `expected a non-empty string, got ${show(s)}`);
  });
  return v as string[];
}

function noDuplicates(values: unknown[], at: string, fail: (path: string, detail: string) => PlanError): void {
  const seen = new Set<string>();
  for (const [i, v] of values.entries()) {
    const k = JSON.stringify(v);
    if (seen.has(k)) throw fail(`${at}[${i}]`, `${k} is given twice`);
    seen.add(k);
  }
}

function unknownKeys(o: Record<string, unknown>, allowed: string[], at: string, fail: (path: string, detail: string) => PlanError): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw fail(`${at}.${k}`, `unknown key (expected ${allowed.filter((a) => a !== '$schema').join(', ')})`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
