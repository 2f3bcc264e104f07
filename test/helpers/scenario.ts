/**
 * Run a scenario trace through lanes in-process and read back per-page results, so that scenario
 * tests can state docs/kernel-rules.md §3's tables directly.
 */
import { DEFAULT_LANES, parseLaneSpec, type LaneDefaults } from '../../src/lanes/config.js';
import { Lane } from '../../src/lanes/lane.js';
import { collectPageRunAt } from '../../src/lanes/collect-pages.js';
import type { CollectResult } from '../../src/lanes/results.js';
import type { OpResult } from '../../src/mm/system.js';
import { WHY_LABELS } from '../../src/mm/cause.js';
import { openTrace } from '../../src/trace/reader.js';
import { COUNTER_INDEX, type CounterName } from '../../src/mm/counters.js';

export interface ScenarioRun {
  lanes: Lane[];
  collects: Map<string, CollectResult[]>;
  ops: Map<string, OpResult[]>;
}

export async function runScenario(file: string, lanes: string[] = DEFAULT_LANES, d: LaneDefaults = {}): Promise<ScenarioRun> {
  const trace = await openTrace(file);
  const collects = new Map<string, CollectResult[]>();
  const ops = new Map<string, OpResult[]>();
  const ls = lanes.map((spec, id) => {
    const config = parseLaneSpec(spec, d);
    collects.set(config.name, []);
    ops.set(config.name, []);
    return new Lane(id, config, trace.header.sysfs, {
      onCollect: (c) => collects.get(config.name)!.push(c),
      onOp: (r) => ops.get(config.name)!.push(r),
    });
  });
  for await (const chunk of trace.chunks) for (const l of ls) l.processChunk(chunk);
  for (const l of ls) l.finish();
  return { lanes: ls, collects, ops };
}

/** The collect of `lane` with `label` (the last one with that label). */
export function collectOf(run: ScenarioRun, lane: string, label: string): CollectResult {
  const list = run.collects.get(lane);
  if (!list) throw new Error(`no lane ${lane}`);
  const c = [...list].reverse().find((x) => x.label === label);
  if (!c) throw new Error(`lane ${lane}: no collect labelled ${label} (have ${list.map((x) => x.label).join(', ')})`);
  return c;
}

export interface PageView {
  /** One character per page: 1 reported, 0 not. */
  reported: string;
  gtW: string;
  gtC: string;
  /** The cause label of each false page (FP or FN against GT_w), '' for the others. */
  why: string[];
}

/** Per-page view of pages [vpn, vpn+count) of a collect. */
export function pagesOf(c: CollectResult, vpn: number, count: number): PageView {
  const v: PageView = { reported: '', gtW: '', gtC: '', why: [] };
  for (let p = vpn; p < vpn + count; p++) {
    const run = collectPageRunAt(c.pages, p);
    const rep = run?.reported ?? 0;
    const w = run?.gtW ?? 0;
    v.reported += String(rep);
    v.gtW += String(w);
    v.gtC += String(run?.gtC ?? 0);
    v.why.push(run && rep !== w ? (WHY_LABELS[run.why] ?? String(run.why)) : '');
  }
  return v;
}

/** Per-page reported string for several lanes at once: { lane: '1010' }. */
export function reportedByLane(run: ScenarioRun, label: string, vpn: number, count: number): Record<string, string> {
  return Object.fromEntries([...run.collects.keys()].map((lane) => [lane, pagesOf(collectOf(run, lane, label), vpn, count).reported]));
}

/** A cost counter of a lane at the end of the run. */
export function counter(run: ScenarioRun, lane: string, name: CounterName): number {
  const l = run.lanes.find((x) => x.config.name === lane)!;
  return l.sys.counters[COUNTER_INDEX[name]]!;
}

/** Ops of a lane that failed, as "call errno". */
export function errorsOf(run: ScenarioRun, lane: string): string[] {
  return run.ops
    .get(lane)!
    .filter((o) => o.errno !== null)
    .map((o) => `${o.call} ${o.errno}`);
}
