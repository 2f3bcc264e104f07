/**
 * The simulated MMU's TLB (src/mm/tlb.ts) is a speed-up only: a replay with it must produce exactly
 * what the full model produces for every access (every change row, op result, collect, uffd message,
 * VMA change, counter and the final page tables). These tests replay traces rich in ops that edit
 * page tables behind the fast path's back (fork, mremap, madvise, mprotect, THP, pins, kernel
 * stores, aliases) through every tracker kind, with and without the TLB, and compare.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLaneSpec } from '../src/lanes/config.js';
import { Lane } from '../src/lanes/lane.js';
import { PageRuns } from '../src/lanes/page-runs.js';
import { Leaf } from '../src/mm/leaf.js';
import { TLB_READ, TLB_WRITE, Tlb } from '../src/mm/tlb.js';
import { genChurn, genThreads, genZipf } from '../src/trace/generators/index.js';
import { openTrace } from '../src/trace/reader.js';
import { allocChunk } from '../src/trace/chunk.js';
import { REC_OP, REC_READ, REC_WRITE, type TraceChunk } from '../src/trace/types.js';

const SCENARIOS = 'traces/scenarios';

const LANES = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async', 'uffd-async:read=generic', 'soft-dirty:kernel=6.1'];

/** Everything a lane hands out, serialised in order. */
function replayOutputs(chunks: TraceChunk[], spec: string, tlb: boolean): string[] {
  const out: string[] = [];
  const lane = new Lane(
    0,
    parseLaneSpec(spec),
    undefined,
    {
      onChanges: (b) => {
        for (let i = 0; i < b.n; i++) {
          out.push(
            `chg ${b.seq[i]} ${b.pos[i]} ${b.time[i]} ${b.pid[i]} ${b.vpn[i]} ${b.count[i]} ${b.level[i]} ${b.old[i]} ${b.new[i]} ${b.path[i]}`,
          );
        }
      },
      onOp: (r) => out.push(`op ${JSON.stringify(r)}`),
      onCollect: (c) => out.push(`collect ${JSON.stringify({ ...c, cost: [...c.cost] })}`),
      onVmaChanges: (rows) => out.push(`vma ${JSON.stringify(rows)}`),
      onUffdMsg: (m) => out.push(`msg ${JSON.stringify(m)}`),
      onFinalState: (runs) => out.push(`final ${JSON.stringify(runs)}`),
    },
    tlb,
  );
  for (const c of chunks) lane.processChunk(c);
  lane.finish();
  out.push(`counters ${[...lane.sys.counters].join(',')}`);
  return out;
}

function expectSameWithAndWithoutTlb(chunks: TraceChunk[]): void {
  for (const spec of LANES) {
    const full = replayOutputs(chunks, spec, false);
    const fast = replayOutputs(chunks, spec, true);
    expect(fast.length, spec).toBe(full.length);
    for (let i = 0; i < full.length; i++) if (fast[i] !== full[i]) expect(fast[i], `${spec} output ${i}`).toBe(full[i]);
  }
}

async function chunksOf(path: string): Promise<TraceChunk[]> {
  const chunks: TraceChunk[] = [];
  for await (const c of (await openTrace(path)).chunks) chunks.push(c);
  return chunks;
}

/** A JSONL trace from records (objects), written to a temporary file and read back as chunks. */
async function traceOf(records: object[]): Promise<TraceChunk[]> {
  const path = join(mkdtempSync(join(tmpdir(), 'pteplay-tlb-')), 't.jsonl');
  writeFileSync(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return chunksOf(path);
}

const A = '0x7f0000000000';
const B = '0x7f0000400000';
const mmap2M = { op: 'mmap', pid: 1, addr: A, len: 2097152, prot: 'rw', flags: ['private', 'anonymous', 'fixed'] };
const store = (addr: string) => ({ op: 'write', pid: 1, addr });
const load = (addr: string) => ({ op: 'read', pid: 1, addr });

describe('the TLB fast path changes no output', () => {
  it('a page whose table mremap moved away faults at its old address (ops flush the TLB)', async () => {
    expectSameWithAndWithoutTlb(
      await traceOf([
        mmap2M,
        store(A),
        store(A),
        load(A),
        store(A),
        { op: 'mremap', pid: 1, addr: A, old_len: 2097152, new_len: 2097152, flags: ['maymove', 'fixed'], new_addr: B },
        load(A),
        store(A),
        load(B),
        store(B),
      ]),
    );
  });

  it('a pinned page clear_refs leaves writable is still a new store after the reset (resetTruth invalidates)', async () => {
    expectSameWithAndWithoutTlb(
      await traceOf([
        mmap2M,
        store(A),
        store(A),
        store(A),
        { op: 'pin', pid: 1, addr: A, len: 4096, write: true, longterm: true },
        store(A),
        store(A),
        { op: 'reset' },
        store(A),
        store(A),
        { op: 'collect', pid: 1, label: 'after' },
      ]),
    );
  });

  it.each(
    readdirSync(SCENARIOS)
      .filter((f) => f.endsWith('.jsonl'))
      .sort(),
  )('scenario %s', async (file) => {
    expectSameWithAndWithoutTlb(await chunksOf(`${SCENARIOS}/${file}`));
  });

  it.each([11, 13])('churn seed %i (every op kind, ops every 40 accesses)', (seed) => {
    const chunks = [...genChurn({ seed, pages: 128, accesses: 2500, opEvery: 40, interval: 500, writeRatio: 0.6 })];
    expectSameWithAndWithoutTlb(chunks);
  });

  it('threads (sync uffd-wp faults block threads while others run)', () => {
    expectSameWithAndWithoutTlb([...genThreads({ seed: 5, pages: 200, accesses: 4000, threads: 4, interval: 600 })]);
  });

  it('runs of accesses to one page, loads then stores, two processes, spans, time, resets and ops (the page-run hit path)', async () => {
    // Deterministic mix: bursts of 1-6 accesses to one page (loads and stores in any order, so a
    // page that lets only loads through must stop its run at the first store), bursts that switch
    // process, accesses that span into the next page, records with and without time, and resets,
    // collects and mprotects between them.
    let seed = 7;
    const rand = (k: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % k;
    };
    const page = (p: number) => `0x${(0x7f0000000000 + p * 4096).toString(16)}`;
    const records: object[] = [mmap2M, store(page(0)), store(page(1)), { op: 'fork', pid: 1, child: 2 }];
    for (let burst = 0; burst < 700; burst++) {
      const pid = rand(3) === 0 ? 2 : 1;
      const p = rand(6);
      const timed = burst > 300 && rand(2) === 0 ? { t: burst * 100 } : {};
      for (let k = 1 + rand(6); k > 0; k--) {
        const spans = rand(25) === 0;
        const addr = spans ? `0x${(0x7f0000000000 + p * 4096 + 4092).toString(16)}` : page(p);
        records.push({ op: rand(3) === 0 ? 'write' : 'read', pid, addr, size: 8, ...timed });
      }
      if (rand(40) === 0) records.push({ op: 'reset', ...timed });
      if (rand(60) === 0) records.push({ op: 'collect', pid, label: `c${burst}`, ...timed });
      if (rand(120) === 0) records.push({ op: 'mprotect', pid, addr: page(rand(6)), len: 4096, prot: rand(2) === 0 ? 'r' : 'rw', ...timed });
    }
    const chunks = await traceOf(records);
    expectSameWithAndWithoutTlb(chunks);
    // The trace does what it is for: most accesses are in runs of two or more, and some runs hold a
    // load before a store.
    const runs = new PageRuns().compute(chunks[0]!);
    let inRuns = 0;
    let loadThenStore = 0;
    for (let i = 0; i < chunks[0]!.n; i++) {
      if (runs.end[i]! - i >= 2) inRuns++;
      if (runs.end[i]! > i && chunks[0]!.kind[i] === REC_READ && runs.nextWrite[i]! < runs.end[i]!) loadThenStore++;
    }
    expect(inRuns).toBeGreaterThan(chunks[0]!.n / 2);
    expect(loadThenStore).toBeGreaterThan(100);
  });

  it('pages that share a slot of the direct-mapped level (2^18 pages apart): the leaves remember them, and every change forgets', async () => {
    // Two mappings 1 GiB apart: page p of one and page p of the other share a slot, so each access
    // evicts the other's entry and a miss is answered by the leaf's byte (Leaf.tlbPerm) as long as
    // nothing invalidated it. Resets (write truth lost), collects (re-arms), mprotect, MADV_DONTNEED,
    // fork (CoW) and THP-sized ranges between them.
    let seed = 11;
    const rand = (k: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % k;
    };
    const base = [0x7f0000000000, 0x7f0000000000 + 2 ** 30];
    const page = (m: number, p: number) => `0x${(base[m]! + p * 4096).toString(16)}`;
    const records: object[] = base.map((b) => ({ ...mmap2M, addr: `0x${b.toString(16)}` }));
    for (let step = 0; step < 3000; step++) {
      const p = rand(8);
      for (const m of [0, 1]) records.push({ op: rand(3) === 0 ? 'write' : 'read', pid: step > 1500 ? 1 + rand(2) : 1, addr: page(m, p) });
      if (step === 1500) records.push({ op: 'fork', pid: 1, child: 2 });
      if (rand(150) === 0) records.push({ op: 'reset' });
      if (rand(200) === 0) records.push({ op: 'collect', pid: 1, label: `c${step}` });
      if (rand(400) === 0) records.push({ op: 'mprotect', pid: 1, addr: page(rand(2), rand(8)), len: 4096, prot: rand(2) === 0 ? 'r' : 'rw' });
      if (rand(500) === 0) records.push({ op: 'madvise', pid: 1, addr: page(rand(2), rand(8)), len: 8192, advice: 'dontneed' });
    }
    const chunks = await traceOf(records);
    const leafPerm = Tlb.prototype.leafPerm;
    let answered = 0;
    Tlb.prototype.leafPerm = function (this: Tlb, ...args: Parameters<Tlb['leafPerm']>) {
      const perm = leafPerm.apply(this, args);
      if (perm !== 0) answered++;
      return perm;
    };
    try {
      expectSameWithAndWithoutTlb(chunks);
    } finally {
      Tlb.prototype.leafPerm = leafPerm;
    }
    // The trace does what it is for: the leaves answered many misses.
    expect(answered).toBeGreaterThan(5000);
  });

  it('page runs: where each run ends, its next store and the next timed record', () => {
    const c = allocChunk(8);
    // pid 1: load p0, store p0, load p0 | pid 2: load p0 | op | pid 2: load spanning p1..p2 | load p1 (timed), store p1
    const recs: [number, number, number, number, number][] = [
      [REC_READ, 1, 0x1000, 8, NaN],
      [REC_WRITE, 1, 0x1008, 8, NaN],
      [REC_READ, 1, 0x1ff0, 8, NaN],
      [REC_READ, 2, 0x1000, 8, NaN],
      [REC_OP, 2, 0, 0, NaN],
      [REC_READ, 2, 0x2ffc, 8, NaN],
      [REC_READ, 2, 0x2000, 8, 5],
      [REC_WRITE, 2, 0x2008, 8, NaN],
    ];
    recs.forEach(([kind, pid, addr, size, t], i) => {
      c.kind[i] = kind;
      c.pid[i] = pid;
      c.addr[i] = addr;
      c.size[i] = size;
      c.time[i] = t;
    });
    c.n = recs.length;
    const runs = new PageRuns().compute(c);
    expect([...runs.end.subarray(0, 8)]).toEqual([3, 3, 3, 4, 4, 5, 8, 8]);
    expect([...runs.nextWrite.subarray(0, 8)]).toEqual([1, 1, 3, 4, 4, 5, 7, 7]);
    expect([...runs.nextTimed.subarray(0, 8)]).toEqual([6, 6, 6, 6, 6, 6, 6, 8]);
    expect(runs.vpn[0]).toBe(1);
    expect(runs.vpn[6]).toBe(2);
  });

  it('zipf with collects (most accesses take the fast path)', () => {
    const chunks = [...genZipf({ seed: 3, pages: 1024, accesses: 8000, interval: 1500 })];
    expectSameWithAndWithoutTlb(chunks);
  });
});

describe('Tlb', () => {
  it('answers only for the page it was filled for, with the permission it was filled with', () => {
    const t = new Tlb();
    expect(t.lookup(5)).toBe(0);
    t.fill(5, TLB_READ);
    t.fill(7 + 2 ** 30, TLB_WRITE);
    expect(t.lookup(5)).toBe(TLB_READ);
    expect(t.lookup(7 + 2 ** 30)).toBe(TLB_WRITE);
    expect(t.lookup(7)).toBe(0); // same slot, other tag
    expect(t.lookup(5 + 2 ** 18)).toBe(0);
    t.invalidate(new Leaf(0), 5);
    expect(t.lookup(5)).toBe(0);
    expect(t.lookup(7 + 2 ** 30)).toBe(TLB_WRITE);
  });

  it('a flush empties it, also after the generation counter wraps', () => {
    const t = new Tlb();
    for (let round = 0; round < 5000; round++) {
      t.fill(100, TLB_WRITE);
      t.fill(2 ** 35 + 3, TLB_READ);
      expect(t.lookup(100)).toBe(TLB_WRITE);
      t.flush();
      expect(t.lookup(100)).toBe(0);
      expect(t.lookup(2 ** 35 + 3)).toBe(0);
    }
  });

  it("a leaf's bytes answer only for the TLB and the epoch that wrote them; invalidation forgets them at both levels", () => {
    const t = new Tlb();
    const other = new Tlb();
    const leaf = new Leaf(3);
    expect(t.leafPerm(leaf, 7)).toBe(0);
    t.fill(leaf.base + 7, TLB_WRITE);
    t.leafFill(leaf, 7, TLB_WRITE);
    t.leafFill(leaf, 9, TLB_READ);
    expect(t.leafPerm(leaf, 7)).toBe(TLB_WRITE);
    expect(t.leafPerm(leaf, 9)).toBe(TLB_READ);
    expect(other.leafPerm(leaf, 7)).toBe(0);
    t.invalidate(leaf, 7);
    expect(t.lookup(leaf.base + 7)).toBe(0);
    expect(t.leafPerm(leaf, 7)).toBe(0);
    expect(t.leafPerm(leaf, 9)).toBe(TLB_READ);
    t.fill(leaf.base + 9, TLB_READ);
    t.invalidateLeaf(leaf);
    expect(t.lookup(leaf.base + 9)).toBe(0);
    expect(t.leafPerm(leaf, 9)).toBe(0);
    t.leafFill(leaf, 9, TLB_READ);
    t.flush();
    expect(t.leafPerm(leaf, 9)).toBe(0);
    // A byte written in a later epoch does not bring back the stale ones.
    t.leafFill(leaf, 1, TLB_READ);
    expect(t.leafPerm(leaf, 9)).toBe(0);
    expect(t.leafPerm(leaf, 1)).toBe(TLB_READ);
  });
});
