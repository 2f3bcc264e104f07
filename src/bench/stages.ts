/**
 * The six measurements of `pteplay bench`. Each returns what it needs to stay honest (a checksum or
 * a count), so that no loop can be optimised away; the caller times it.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { MultiChangeRows } from './bulk-insert.js';
import { from, lastValueFrom } from 'rxjs';
import { parseLaneSpec } from '../lanes/config.js';
import { Lane } from '../lanes/lane.js';
import { PAGE_SIZE } from '../mm/uapi.js';
import { injectProtocol } from '../pipeline/inject-protocol.js';
import { replayLanePool } from '../pipeline/replay-lane-pool.js';
import { replayLanes } from '../pipeline/replay-lanes.js';
import { TABLES } from '../store/tables.js';
import { openTrace } from '../trace/reader.js';
import { REC_OP } from '../trace/types.js';
import { LanePool } from '../workers/lane-pool.js';
import type { StoredRows } from './types.js';

/** A: read and decode the whole file, touching every access's address. Returns the access count. */
export async function decodeOnly(path: string): Promise<{ accesses: number; checksum: number }> {
  const trace = await openTrace(path);
  let accesses = 0;
  let checksum = 0;
  for await (const c of trace.chunks) {
    const { kind, addr } = c;
    for (let i = 0; i < c.n; i++) {
      if (kind[i] !== REC_OP) {
        accesses++;
        checksum += addr[i]!;
      }
    }
  }
  return { accesses, checksum };
}

/** B's input, prepared outside the timed region: one page index and one kind per access. */
export interface PlainInput {
  page: Uint32Array;
  kind: Uint8Array;
  pages: number;
}

export async function loadPlainInput(path: string, accesses: number): Promise<PlainInput> {
  const page = new Uint32Array(accesses);
  const kind = new Uint8Array(accesses);
  const vpns = new Float64Array(accesses);
  let n = 0;
  let lo = Infinity;
  let hi = -Infinity;
  const trace = await openTrace(path);
  for await (const c of trace.chunks) {
    for (let i = 0; i < c.n; i++) {
      if (c.kind[i] === REC_OP) continue;
      const vpn = Math.floor(c.addr[i]! / PAGE_SIZE);
      vpns[n] = vpn;
      kind[n++] = c.kind[i]!;
      if (vpn < lo) lo = vpn;
      if (vpn > hi) hi = vpn;
    }
  }
  for (let i = 0; i < n; i++) page[i] = vpns[i]! - lo;
  return { page: page.subarray(0, n), kind: kind.subarray(0, n), pages: n > 0 ? hi - lo + 1 : 0 };
}

/** B: one bit-or per access on a Uint8Array indexed by page (bit 0: accessed, bit 1: written). */
export function plainLoop(input: PlainInput): number {
  const state = new Uint8Array(input.pages);
  const { page, kind } = input;
  for (let i = 0, n = page.length; i < n; i++) state[page[i]!]! |= 1 << kind[i]!;
  let dirty = 0;
  for (let i = 0; i < state.length; i++) dirty += state[i]! >> 1;
  return dirty;
}

/**
 * C and D: the replay pipeline of `pteplay replay` with the given lanes and no sinks at all; with
 * more than one lane they run in `threads` worker threads, as replay runs them.
 */
export async function replayNoStore(path: string, specs: readonly string[], threads: number): Promise<number> {
  const trace = await openTrace(path);
  const chunks = from(trace.chunks).pipe(injectProtocol({ every: 0, everyNs: 0 }));
  const none = { records: 0, accesses: 0, lastPos: -1 };
  // lastValueFrom: the replay's operators (src/pipeline) run over the chunk stream as `pteplay replay` runs them.
  if (specs.length > 1 && threads > 1) {
    const pool = new LanePool(
      specs.map((spec, id) => ({ id, spec, sinks: {} })),
      {},
      trace.header.sysfs,
      threads,
    );
    try {
      const last = await lastValueFrom(chunks.pipe(replayLanePool(pool)), { defaultValue: none });
      await pool.finish();
      return last.accesses;
    } finally {
      await pool.close();
    }
  }
  const lanes = specs.map((s, id) => new Lane(id, parseLaneSpec(s), trace.header.sysfs, {}));
  const last = await lastValueFrom(chunks.pipe(replayLanes(lanes)), { defaultValue: none });
  for (const lane of lanes) lane.finish();
  return last.accesses;
}

/**
 * Rows E stored in every table of the store's registry, its pte_change rows of several changes (and their
 * changes), and the PTE changes of its pte_change runs.
 */
export function countStoredRows(db: string): { rows: StoredRows; multi: MultiChangeRows; pteChanges: number } {
  const d = new Database(db, { readonly: true });
  try {
    const rows = Object.fromEntries(TABLES.map((t) => [t.name, d.prepare(`SELECT count(*) FROM ${t.name}`).pluck().get() as number])) as StoredRows;
    const changes = '1 + coalesce(json_array_length(vpn_steps), 0)';
    const m = d
      .prepare(`SELECT count(*) AS rows, coalesce(sum(${changes}), 0) AS changes FROM pte_change WHERE vpn_steps IS NOT NULL`)
      .get() as MultiChangeRows;
    const firsts = d.prepare('SELECT coalesce(sum(count), 0) FROM pte_change').pluck().get() as number;
    const others = d
      .prepare(`SELECT coalesce(sum(iif(s.type = 'array', json_extract(s.value, '$[1]'), c.count)), 0) FROM pte_change c, json_each(c.vpn_steps) s`)
      .pluck()
      .get() as number;
    const pteChanges = firsts + others;
    return { rows, multi: { rows: m.rows, changes: m.changes }, pteChanges };
  } finally {
    d.close();
  }
}

export function removeDb(db: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(db + suffix, { force: true });
}
