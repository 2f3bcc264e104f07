/**
 * Lanes in worker threads (src/workers/lane-pool.ts) must hand the sinks exactly the calls an
 * in-process replay makes, in the same order, so that a run database does not depend on threads.
 */
import { from, lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { parseLaneSpec } from '../src/lanes/config.js';
import { Lane, type LaneSinks } from '../src/lanes/lane.js';
import { replayLanePool } from '../src/pipeline/replay-lane-pool.js';
import { replayLanes, type ReplayProgress } from '../src/pipeline/replay-lanes.js';
import { genChurn, genThreads } from '../src/trace/generators/index.js';
import type { TraceChunk } from '../src/trace/types.js';
import { LanePool, MAX_IN_FLIGHT } from '../src/workers/lane-pool.js';

const SPECS = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async', 'uffd-async:kernel=6.1'];

/** Sinks that serialise every call (typed arrays as plain arrays) into `log`, tagged with the lane. */
function loggingSinks(lane: number, log: string[]): LaneSinks {
  const rec = (name: string) => (x: unknown) =>
    log.push(`${lane} ${name} ${JSON.stringify(x, (_k, v) => (ArrayBuffer.isView(v) ? [...(v as Uint8Array)] : v))}`);
  return {
    onChanges: rec('changes'),
    onOp: rec('op'),
    onCollect: rec('collect'),
    onVmaChanges: rec('vma'),
    onUffdMsg: rec('msg'),
    onKeyframe: rec('keyframe'),
    keyframeEvery: 500,
    onFinalState: rec('final'),
  };
}

async function inProcess(chunks: TraceChunk[]): Promise<{ log: string[]; counters: number[][] }> {
  const log: string[] = [];
  const lanes = SPECS.map((spec, id) => new Lane(id, parseLaneSpec(spec), undefined, loggingSinks(id, log)));
  await lastValueFrom(from(chunks).pipe(replayLanes(lanes)));
  for (const l of lanes) l.finish();
  for (const l of lanes) log.push(`${l.id} counters`);
  return { log, counters: lanes.map((l) => [...l.sys.counters]) };
}

async function inPool(chunks: TraceChunk[], threads: number): Promise<{ log: string[]; counters: number[][]; maxInFlight: number }> {
  const log: string[] = [];
  const pool = new LanePool(
    SPECS.map((spec, id) => ({ id, spec, sinks: loggingSinks(id, log) })),
    {},
    undefined,
    threads,
  );
  let maxInFlight = 0;
  async function* source() {
    for (const c of chunks) {
      maxInFlight = Math.max(maxInFlight, pool.inFlight);
      yield c;
    }
  }
  await lastValueFrom(from(source()).pipe(replayLanePool(pool)));
  const counters = await pool.finish();
  for (const id of SPECS.keys()) log.push(`${id} counters`);
  return { log, counters: SPECS.map((_, id) => [...counters.get(id)!]), maxInFlight };
}

/** Small chunks, so that the pool has many in flight. */
function rechunk(chunks: Iterable<TraceChunk>, size: number): TraceChunk[] {
  const out: TraceChunk[] = [];
  for (const c of chunks) {
    let op = 0;
    for (let s = 0; s < c.n; s += size) {
      const e = Math.min(c.n, s + size);
      let ops = 0;
      for (let i = s; i < e; i++) if (c.kind[i] === 2) ops++;
      out.push({
        n: e - s,
        pos0: c.pos0 + s,
        kind: c.kind.slice(s, e),
        flags: c.flags.slice(s, e),
        pid: c.pid.slice(s, e),
        tid: c.tid.slice(s, e),
        time: c.time.slice(s, e),
        addr: c.addr.slice(s, e),
        size: c.size.slice(s, e),
        ops: c.ops.slice(op, op + ops),
      });
      op += ops;
    }
  }
  return out;
}

describe('lanes in worker threads', () => {
  it.each([
    ['churn', () => genChurn({ seed: 21, pages: 128, accesses: 3000, opEvery: 50, interval: 400 })],
    ['threads', () => genThreads({ seed: 4, pages: 128, accesses: 3000, threads: 3, interval: 500 })],
  ])('%s: every sink call, in the same order, and the same counters as in-process', async (_name, gen) => {
    const chunks = rechunk(gen(), 97);
    const a = await inProcess(chunks);
    for (const threads of [2, 3]) {
      const b = await inPool(chunks, threads);
      expect(b.log.length).toBe(a.log.length);
      for (let i = 0; i < a.log.length; i++) if (b.log[i] !== a.log[i]) expect(b.log[i], `call ${i}`).toBe(a.log[i]);
      expect(b.counters).toEqual(a.counters);
      expect(b.maxInFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT);
      expect(b.maxInFlight).toBeGreaterThan(0);
    }
  });

  it('emits the cumulative progress of each chunk after its outputs', async () => {
    const chunks = rechunk(genChurn({ seed: 2, pages: 64, accesses: 500, opEvery: 40 }), 50);
    const log: string[] = [];
    const pool = new LanePool([{ id: 0, spec: 'soft-dirty', sinks: loggingSinks(0, log) }], {}, undefined, 1);
    const seen: { p: ReplayProgress; calls: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      from(chunks)
        .pipe(replayLanePool(pool))
        .subscribe({ next: (p) => seen.push({ p: { ...p }, calls: log.length }), error: reject, complete: resolve });
    });
    await pool.finish();
    expect(seen.length).toBe(chunks.length);
    expect(seen.at(-1)!.p.records).toBe(chunks.reduce((n, c) => n + c.n, 0));
    expect(seen.at(-1)!.p.lastPos).toBe(chunks.at(-1)!.pos0 + chunks.at(-1)!.n - 1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.calls).toBeGreaterThanOrEqual(seen[i - 1]!.calls);
  });

  it('a lane that cannot start fails the replay with its message', async () => {
    const pool = new LanePool([{ id: 0, spec: 'no-such-tracker', sinks: {} }], {}, undefined, 1);
    const chunks = rechunk(genChurn({ seed: 2, pages: 64, accesses: 200 }), 50);
    await expect(lastValueFrom(from(chunks).pipe(replayLanePool(pool)))).rejects.toThrow(/no-such-tracker/);
    await pool.close();
  });
});
