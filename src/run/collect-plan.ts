/**
 * When a replay collects: `--interval N` / `--interval-us N` as given, `--interval none` never (the trace's
 * own records only), and `--interval auto` (the default) from one pass over the trace:
 * - a trace with its own `collect` records keeps them: nothing is added but the tail collect;
 * - a trace with time: AUTO_INTERVALS intervals of its time span (rounded up to whole µs);
 * - otherwise: AUTO_INTERVALS intervals of its accesses.
 * Except with `none`, accesses after the last collect get a final collect at the end of the trace, and
 * with an interval each process is collected just before it exits (src/pipeline/inject-protocol.ts).
 */
import type { InjectMode } from '../pipeline/inject-protocol.js';
import { openTrace } from '../trace/reader.js';
import { REC_OP } from '../trace/types.js';

/** `--interval auto` splits a trace without collects into this many intervals. */
export const AUTO_INTERVALS = 10;
/** Below this time span (ns) auto counts accesses instead: the trace has no usable time. */
const MIN_AUTO_SPAN_NS = AUTO_INTERVALS * 1000;

/** What the run stores in meta.options_json about its collects (enough to redo them on --resume). */
export interface CollectPlan {
  protocol: InjectMode;
  /** Collect and re-arm every N accesses (0 = not by accesses). */
  interval: number;
  /** Collect and re-arm every N µs of trace time (0 = not by time). */
  intervalUs: number;
  /** How `--interval auto` chose, in words (absent when the interval was given). */
  intervalAuto?: string;
}

/** What one pass over a trace tells. */
export interface TraceScan {
  accesses: number;
  /** The trace's own `collect` records. */
  collects: number;
  /** Largest access time (ns), NaN when no access has one. */
  lastTimeNs: number;
}

export interface PlanRequest {
  /** Accesses, 'auto' (also when undefined) or 0 = none. */
  interval?: number | 'auto';
  intervalUs?: number;
}

/** The plan for a new run; reads the trace once (streaming) only for `auto`. */
export async function collectPlan(trace: string, r: PlanRequest, onScan?: (bytes: number, totalBytes: number) => void): Promise<CollectPlan> {
  const us = r.intervalUs ?? 0;
  if (r.interval !== undefined && r.interval !== 'auto') {
    return { protocol: r.interval > 0 || us > 0 ? 'interval' : 'none', interval: r.interval, intervalUs: us };
  }
  if (us > 0) return { protocol: 'interval', interval: 0, intervalUs: us };
  return autoPlan(await scanTrace(trace, onScan));
}

export function autoPlan(s: TraceScan): CollectPlan {
  if (s.collects > 0) {
    return {
      protocol: 'tail',
      interval: 0,
      intervalUs: 0,
      intervalAuto: `the trace has ${s.collects} collect${s.collects === 1 ? '' : 's'} of its own`,
    };
  }
  if (s.lastTimeNs >= MIN_AUTO_SPAN_NS) {
    const us = Math.ceil(s.lastTimeNs / AUTO_INTERVALS / 1000);
    return {
      protocol: 'interval',
      interval: 0,
      intervalUs: us,
      intervalAuto: `${AUTO_INTERVALS} intervals of the trace's ${fmtUs(s.lastTimeNs / 1000)}`,
    };
  }
  const n = Math.max(1, Math.ceil(s.accesses / AUTO_INTERVALS));
  return {
    protocol: 'interval',
    interval: n,
    intervalUs: 0,
    intervalAuto: `${AUTO_INTERVALS} intervals of the trace's ${s.accesses} accesses, it has no time`,
  };
}

/** One streaming pass: accesses, own collects, last access time. Bounded memory (one chunk). */
export async function scanTrace(path: string, onProgress?: (bytes: number, totalBytes: number) => void): Promise<TraceScan> {
  const trace = await openTrace(path);
  const s: TraceScan = { accesses: 0, collects: 0, lastTimeNs: NaN };
  let last = -Infinity;
  for await (const c of trace.chunks) {
    for (let i = 0; i < c.n; i++) {
      if (c.kind[i] === REC_OP) continue;
      s.accesses++;
      const t = c.time[i]!;
      if (t > last) last = t;
    }
    for (const op of c.ops) if (op.op === 'collect') s.collects++;
    onProgress?.(trace.bytesRead(), trace.fileBytes);
  }
  if (last > -Infinity) s.lastTimeNs = last;
  return s;
}

/** The plan in words, for the summary: "every 5.59 ms of trace time (auto: ...), before each process exit and at the end". */
export function describePlan(p: CollectPlan): string {
  const auto = p.intervalAuto ? ` (auto: ${p.intervalAuto})` : '';
  if (p.protocol === 'none') return "only the trace's own collects (--interval none)";
  if (p.protocol === 'tail') return `the trace's own collects and one at the end${auto}`;
  const by = [p.interval > 0 ? `${p.interval} accesses` : '', p.intervalUs > 0 ? `${fmtUs(p.intervalUs)} of trace time` : '']
    .filter(Boolean)
    .join(' and every ');
  return `every ${by}${auto}, before each process exit and at the end`;
}

/** The plan of a run stored before plans had a protocol: --interval's old meaning. */
export function storedPlan(o: { protocol?: InjectMode; interval?: number; intervalUs?: number; intervalAuto?: string }): CollectPlan {
  const interval = o.interval ?? 0;
  const intervalUs = o.intervalUs ?? 0;
  return { protocol: o.protocol ?? (interval > 0 || intervalUs > 0 ? 'interval' : 'none'), interval, intervalUs, intervalAuto: o.intervalAuto };
}

function fmtUs(us: number): string {
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(2)} ms`;
  return `${Math.round(us)} µs`;
}
