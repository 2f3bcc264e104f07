/**
 * A lane's VMA history (vma_change rows) costs what an op changes, not how many VMAs the process
 * has: the VMAs come from where the VMA tree changes (src/mm/vma-log.ts), so with 10 000 VMAs an op
 * that changes one compares a handful of VMA states, and its rows are still exact.
 */
import { describe, expect, it } from 'vitest';
import { parseLaneSpec } from '../src/lanes/config.js';
import { Lane } from '../src/lanes/lane.js';
import type { VmaChangeRow } from '../src/lanes/results.js';
import { ChunkBuilder } from '../src/trace/chunk.js';
import type { Prot, TraceChunk, TraceOp } from '../src/trace/types.js';

const PAGE = 4096;
const BASE = 0x7e0000000000;
const VMAS = 10_000;
const R: Prot = { read: true, write: false, exec: false };
const RW: Prot = { read: true, write: true, exec: false };
const RX: Prot = { read: true, write: false, exec: true };

const mmap = (i: number, prot: Prot): TraceOp => ({
  op: 'mmap',
  pid: 1,
  addr: BASE + i * PAGE,
  len: PAGE,
  prot,
  flags: ['private', 'anonymous', 'fixed'],
  backing: { kind: 'anon' },
  offset: 0,
});

function chunkOf(ops: TraceOp[]): TraceChunk {
  const b = new ChunkBuilder(ops.length);
  for (const op of ops) b.pushOp(op);
  return b.take();
}

/** A lane whose process has 10 000 one-page VMAs of alternating protection (so none merge). */
function laneWithManyVmas(): { lane: Lane; rows: VmaChangeRow[][] } {
  const rows: VmaChangeRow[][] = [];
  const lane = new Lane(0, parseLaneSpec('soft-dirty'), undefined, { onVmaChanges: (r) => rows.push(r) });
  lane.processChunk(chunkOf(Array.from({ length: VMAS }, (_, i) => mmap(i, i % 2 === 0 ? R : RW))));
  expect(lane.sys.mm(1)!.vmas.list.length).toBe(VMAS);
  return { lane, rows };
}

/** Run one op; its rows (as change/start/end, page offsets from BASE) and the VMA states the history compared. */
function step(lane: Lane, rows: VmaChangeRow[][], op: TraceOp): { changes: string[]; compared: number } {
  const before = lane.vmaStatesCompared;
  const n = rows.length;
  lane.processChunk(chunkOf([op]));
  const changes = rows.slice(n).flatMap((rs) => rs.map((r) => `${r.change} ${r.startVpn - BASE / PAGE}-${r.endVpn - BASE / PAGE}`));
  return { changes, compared: lane.vmaStatesCompared - before };
}

describe('VMA history with 10 000 VMAs', () => {
  it('an op that changes one VMA compares a few VMA states, and its rows are exact', () => {
    const { lane, rows } = laneWithManyVmas();
    const mid = 5000; // an R VMA between two RW ones

    // mprotect of one whole VMA to a protection no neighbour has: its flags change in place.
    const p = step(lane, rows, { op: 'mprotect', pid: 1, addr: BASE + mid * PAGE, len: PAGE, prot: RX });
    expect(p.changes).toEqual([`remove ${mid}-${mid + 1}`, `add ${mid}-${mid + 1}`]);
    expect(rows.at(-1)!.map((r) => r.flags.split(' ').includes('ex'))).toEqual([false, true]);
    expect(p.compared).toBeLessThanOrEqual(4);

    // mprotect to its neighbours' protection: the three VMAs merge into one.
    const m = step(lane, rows, { op: 'mprotect', pid: 1, addr: BASE + mid * PAGE, len: PAGE, prot: RW });
    expect(m.changes).toEqual([`remove ${mid - 1}-${mid}`, `remove ${mid}-${mid + 1}`, `remove ${mid + 1}-${mid + 2}`, `add ${mid - 1}-${mid + 2}`]);
    expect(m.compared).toBeLessThanOrEqual(8);

    // munmap of the middle page splits the merged VMA: one removed, two added.
    const u = step(lane, rows, { op: 'munmap', pid: 1, addr: BASE + mid * PAGE, len: PAGE });
    expect(u.changes).toEqual([`remove ${mid - 1}-${mid + 2}`, `add ${mid - 1}-${mid}`, `add ${mid + 1}-${mid + 2}`]);
    expect(u.compared).toBeLessThanOrEqual(8);

    // mmap of the hole with the neighbours' protection merges everything back.
    const a = step(lane, rows, mmap(mid, RW));
    expect(a.changes).toEqual([`remove ${mid - 1}-${mid}`, `remove ${mid + 1}-${mid + 2}`, `add ${mid - 1}-${mid + 2}`]);
    expect(a.compared).toBeLessThanOrEqual(8);

    // An op that changes no VMA (MADV_DONTNEED) has no rows and compares nothing.
    const d = step(lane, rows, { op: 'madvise', pid: 1, addr: BASE, len: 16 * PAGE, advice: 'dontneed' });
    expect(d.changes).toEqual([]);
    expect(d.compared).toBe(0);

    // A VMA split and merged back within one op (mprotect to the protection it already has) is no change.
    const s = step(lane, rows, { op: 'mprotect', pid: 1, addr: BASE + 3 * PAGE, len: PAGE, prot: RW });
    expect(s.changes).toEqual([]);
    expect(s.compared).toBeLessThanOrEqual(4);
  });
});
