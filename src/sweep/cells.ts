/**
 * The cells of a sweep: trace × kernel × every combination of the option grids, each replaying all of
 * the plan's lanes in one run database. A cell's id is the first 12 hex digits of the sha256 of its
 * canonical content (the trace's identity, the lanes, the kernel, the options the plan sets, keys
 * sorted), so it does not depend on the order of anything in the plan, a re-run finds the cells already
 * done, and a changed plan only adds the cells that are new.
 */
import type { OptionValue, SweepPlan } from './plan.js';
import { type SweepTrace, sha256Text } from './traces.js';

export interface Cell {
  id: string;
  trace: SweepTrace;
  kernel: string;
  lanes: string[];
  /** The options the plan sets for this cell (snake_case keys, sorted). */
  options: Record<string, OptionValue>;
  /** What shards balance on: the trace's estimated records × the number of lanes. */
  cost: number;
}

/** What DIR/cells/<id>.json says about a cell (the fields `sweep report` reads). */
export interface CellInfo {
  cell: string;
  trace: string;
  trace_path: string;
  trace_source: string;
  kernel: string;
  lanes: string[];
  options: Record<string, OptionValue>;
}

export function planCells(plan: SweepPlan, traces: SweepTrace[]): Cell[] {
  let combos: Record<string, OptionValue>[] = [{}];
  for (const [key, values] of plan.options) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  const cells: Cell[] = [];
  for (const trace of traces) {
    for (const kernel of plan.kernels) {
      for (const options of combos) {
        cells.push({
          id: cellId(trace.key, kernel, plan.lanes, options),
          trace,
          kernel,
          lanes: plan.lanes,
          options,
          cost: trace.cost * plan.lanes.length,
        });
      }
    }
  }
  return cells.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function cellId(traceKey: string, kernel: string, lanes: string[], options: Record<string, OptionValue>): string {
  return sha256Text(canonicalJson({ trace: traceKey, kernel, lanes: [...lanes].sort(), options })).slice(0, 12);
}

/** JSON with object keys sorted at every level: one text per value, whatever order it was written in. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function cellInfo(c: Cell, tracePath: string): CellInfo {
  return {
    cell: c.id,
    trace: c.trace.name,
    trace_path: tracePath,
    trace_source: c.trace.source,
    kernel: c.kernel,
    lanes: c.lanes,
    options: c.options,
  };
}
