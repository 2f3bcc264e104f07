/**
 * Issue 15 item 5: what the trace's own pagemap_read and pagemap_scan records returned is stored
 * (pagemap_read_entry, pagemap_scan_region, op_result.walk_end_vpn), lane by lane, and so is the
 * length of a UFFD_EVENT_REMAP (uffd_msg.pages). The expected answers are computed here by running
 * the same records in a bare simulated System and calling the simulator's pagemap walk
 * (pagemapRuns) and PAGEMAP_SCAN (pagemapScan) at each record, not by the replay's own path.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseLaneSpec } from '../src/lanes/config.js';
import { executeOp } from '../src/lanes/ops.js';
import { ACCESS_OK, accessPage } from '../src/mm/access.js';
import { PteEventSink } from '../src/mm/events.js';
import { System, sysfsFrom } from '../src/mm/system.js';
import { KIND_MASK, MARKER, NONE, PRESENT, SD, SWAP, UW } from '../src/mm/pte.js';
import { PAGE_SIZE, TASK_SIZE_PAGES } from '../src/mm/uapi.js';
import { PMB_EXCLUSIVE, PMB_FILE, PMB_GUARD, PMB_PRESENT, PMB_SOFT_DIRTY, PMB_SWAP, PMB_UFFD_WP, pagemapRuns } from '../src/trackers/pagemap.js';
import { pagemapScan } from '../src/trackers/pagemap-scan.js';
import { openTrace } from '../src/trace/reader.js';
import { ACC_KERNEL, REC_OP, REC_WRITE } from '../src/trace/types.js';
import { pteplay } from './helpers/cli.js';

const A = 0x7f0000000000; // anon, 16 pages, uffd-wp async
const F = 0x7f0000100000; // memfd, 4 pages
const T = 0x7f0000200000; // anon THP, 4 MiB
const R = 0x7f0000800000; // anon, 16 pages, registered with EVENT_REMAP, then moved shrinking to 8
const R2 = 0x7f0000a00000;
const hex = (x: number) => `0x${x.toString(16)}`;
const ALL = ['wpallowed', 'written', 'file', 'present', 'swapped', 'pfnzero', 'huge', 'soft_dirty', 'guard'];

const RECORDS = [
  { pteplay: 'trace', version: 1, sysfs: { thp: 'madvise' } },
  { op: 'mmap', addr: hex(A), len: 16 * PAGE_SIZE, prot: 'rw', flags: ['private', 'anonymous', 'fixed'] },
  ...[0, 1, 2, 3].map((p) => ({ op: 'write', addr: hex(A + p * PAGE_SIZE) })),
  { op: 'read', addr: hex(A + 5 * PAGE_SIZE) },
  { op: 'madvise', addr: hex(A + 2 * PAGE_SIZE), len: PAGE_SIZE, advice: 'pageout' },
  { op: 'mmap', addr: hex(F), len: 4 * PAGE_SIZE, prot: 'rw', flags: ['shared', 'fixed'], memfd: 'm' },
  { op: 'write', addr: hex(F) },
  { op: 'mmap', addr: hex(T), len: 4 << 20, prot: 'rw', flags: ['private', 'anonymous', 'fixed'] },
  { op: 'madvise', addr: hex(T), len: 4 << 20, advice: 'hugepage' },
  { op: 'write', addr: hex(T + 100) },
  { op: 'pagemap_read', addr: hex(A), pages: 0x300 + 1024 },
  { op: 'userfaultfd', fd: 3, flags: [] },
  { op: 'uffdio_api', fd: 3, features: ['wp_async'] },
  { op: 'uffdio_register', fd: 3, start: hex(A), len: 16 * PAGE_SIZE, mode: ['wp'] },
  { op: 'uffdio_writeprotect', fd: 3, start: hex(A), len: 16 * PAGE_SIZE, mode: ['wp'] },
  { op: 'write', addr: hex(A + PAGE_SIZE) },
  { op: 'pagemap_read', offset: (A / PAGE_SIZE) * 8, count: 16 * 8 },
  { op: 'pagemap_scan', start: hex(A), end: hex(T + (4 << 20)), flags: 0, category_mask: [], return_mask: ALL, vec_len: 64 },
  { op: 'pagemap_scan', start: hex(A), end: hex(T + (4 << 20)), flags: 0, category_mask: ['present'], return_mask: ['present', 'huge'], vec_len: 1 },
  {
    op: 'pagemap_scan',
    start: hex(A),
    end: hex(A + 16 * PAGE_SIZE),
    flags: ['wp_matching'],
    category_mask: ['written'],
    return_mask: ['written'],
    vec_len: 8,
    max_pages: 2,
  },
  {
    op: 'pagemap_scan',
    start: hex(A),
    end: hex(F + 4 * PAGE_SIZE),
    flags: ['wp_matching', 'check_wpasync'],
    category_mask: ['written'],
    return_mask: ['written'],
    vec_len: 8,
  },
  { op: 'pagemap_read', addr: hex(A), pages: 16 },
  { op: 'pagemap_read', offset: 3, count: 8 },
  { op: 'pagemap_read', pid: 9, addr: hex(A), pages: 1 },
  // A read over the whole address space and beyond (1 TiB of entries): stored as a few runs.
  { op: 'pagemap_read', offset: 0, count: 2 ** 40 },
  { op: 'mmap', addr: hex(R), len: 16 * PAGE_SIZE, prot: 'rw', flags: ['private', 'anonymous', 'fixed'] },
  { op: 'userfaultfd', fd: 4, flags: [] },
  { op: 'uffdio_api', fd: 4, features: ['event_remap'] },
  { op: 'uffdio_register', fd: 4, start: hex(R), len: 16 * PAGE_SIZE, mode: ['missing'] },
  { op: 'mremap', addr: hex(R), old_len: 16 * PAGE_SIZE, new_len: 8 * PAGE_SIZE, flags: ['maymove', 'fixed'], new_addr: hex(R2) },
  { op: 'pagemap_read', addr: hex(R), pages: 0x200 + 16 },
];

interface Answer {
  pos: number;
  pid: number;
  call: string;
  /** [vpn, count, bits] for a read; [start_vpn, end_vpn, categories] for a scan. */
  rows: number[][];
  walkEnd: number | null;
}

/**
 * The records through a bare System with `spec`'s profile (what a lane without a tracker does: no
 * protocol, no monitor), answering each pagemap record with pagemapRuns / pagemapScan.
 */
async function reference(file: string, spec: string): Promise<Answer[]> {
  const trace = await openTrace(file);
  const config = parseLaneSpec(spec);
  const sys = new System(0, config.profile, sysfsFrom(trace.header.sysfs, config.sysfs), new PteEventSink(0, null));
  const out: Answer[] = [];
  for await (const c of trace.chunks) {
    let k = 0;
    for (let i = 0; i < c.n; i++) {
      sys.pos = sys.sink.pos = c.posCol ? c.posCol[i]! : c.pos0 + i;
      if (c.kind[i] !== REC_OP) {
        const mm = sys.mm(c.pid[i]!)!;
        const first = Math.floor(c.addr[i]! / PAGE_SIZE);
        const last = Math.floor((c.addr[i]! + Math.max(c.size[i]!, 1) - 1) / PAGE_SIZE);
        for (let v = first; v <= last; v++) {
          if (accessPage(mm, v, c.kind[i] === REC_WRITE, (c.flags[i]! & ACC_KERNEL) !== 0, c.tid[i]!) !== ACCESS_OK) break;
        }
        continue;
      }
      const op = c.ops[k++]!;
      const mm = sys.mm(op.pid);
      if (op.op === 'pagemap_read' && mm !== undefined && !mm.exited && op.offset % 8 === 0 && op.count % 8 === 0) {
        const s = op.offset / 8;
        const rows = pagemapRuns(mm, s, Math.min(s + op.count / 8, TASK_SIZE_PAGES)).map((r) => [r.start, r.end - r.start, r.bits]);
        out.push({ pos: sys.pos, pid: op.pid, call: 'pagemap_read', rows, walkEnd: null });
      } else if (op.op === 'pagemap_scan' && mm !== undefined && !mm.exited) {
        const r = pagemapScan(mm, op);
        const rows = r.regions.map((g) => [g.start / PAGE_SIZE, g.end / PAGE_SIZE, g.categories]);
        // An argument error (or no ioctl: ENOTTY) writes nothing back; EPERM writes walk_end and the regions before it.
        if (r.errno === null || r.walkEndWritten)
          out.push({ pos: sys.pos, pid: op.pid, call: 'PAGEMAP_SCAN', rows, walkEnd: r.walkEndWritten ? r.walkEnd / PAGE_SIZE : null });
      } else executeOp(sys, op);
      for (const m of sys.mms.values()) m.tlb.flush();
    }
  }
  return out;
}

/** The same, read back from a run database for one lane. */
function stored(db: Database.Database, lane: number): Answer[] {
  const ops = db
    .prepare(`SELECT pos, pid, call, walk_end_vpn FROM op_result WHERE lane_id = ? AND origin = 'trace'
    AND call IN ('pagemap_read', 'PAGEMAP_SCAN') AND (errno IS NULL OR walk_end_vpn IS NOT NULL) ORDER BY op_id`)
    .all(lane) as { pos: number; pid: number; call: string; walk_end_vpn: number | null }[];
  const reads = db.prepare('SELECT * FROM pagemap_read_entry WHERE lane_id = ? AND pos = ? ORDER BY vpn');
  const scans = db.prepare('SELECT start_vpn, end_vpn, categories FROM pagemap_scan_region WHERE lane_id = ? AND pos = ? ORDER BY idx').raw();
  const bits = (r: Record<string, number>) =>
    (r.present ? PMB_PRESENT : 0) |
    (r.swap ? PMB_SWAP : 0) |
    (r.file ? PMB_FILE : 0) |
    (r.guard ? PMB_GUARD : 0) |
    (r.uffd_wp ? PMB_UFFD_WP : 0) |
    (r.exclusive ? PMB_EXCLUSIVE : 0) |
    (r.soft_dirty ? PMB_SOFT_DIRTY : 0);
  return ops.map((o) => ({
    pos: o.pos,
    pid: o.pid,
    call: o.call,
    walkEnd: o.walk_end_vpn,
    rows:
      o.call === 'pagemap_read'
        ? (reads.all(lane, o.pos) as Record<string, number>[]).map((r) => [r.vpn!, r.count!, bits(r)])
        : (scans.all(lane, o.pos) as number[][]),
  }));
}

let dir: string;
let trace: string;
const LANES = ['none', 'none:kernel=6.1'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pteplay-pagemap-answer-'));
  trace = join(dir, 'answers.jsonl');
  writeFileSync(trace, RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n');
});

describe('what pagemap_read and pagemap_scan records returned is stored', () => {
  it("per lane: the entries as runs, the regions and walk_end equal the simulator's pagemap walk and PAGEMAP_SCAN at that record", async () => {
    const path = join(dir, 'run.db');
    const r = pteplay(['replay', trace, '--db', path, '--lanes', LANES.join(','), '--interval', 'none', '-q']);
    expect(r.status, r.stderr).toBe(0);
    const db = new Database(path, { readonly: true });
    const got = LANES.map((_, lane) => stored(db, lane));
    db.close();
    for (const [lane, spec] of LANES.entries()) {
      const want = await reference(trace, spec);
      expect(got[lane], spec).toEqual(want);
    }
    // The record set exercises what the tables must hold: several runs and bits, regions, a walk_end
    // short of the range, and answers that differ between the lanes' kernels (6.1: no PAGEMAP_SCAN).
    const [l0, l1] = got as [Answer[], Answer[]];
    const ends = RECORDS.filter((x) => 'op' in x && x.op === 'pagemap_scan').map((x) =>
      Math.ceil(parseInt((x as { end: string }).end, 16) / PAGE_SIZE),
    );
    const scans = l0.filter((a) => a.call === 'PAGEMAP_SCAN');
    expect(scans.length).toBeGreaterThanOrEqual(3);
    expect(scans.some((a, i) => a.walkEnd !== null && a.walkEnd < ends[i]!)).toBe(true);
    expect(new Set(l0.flatMap((a) => (a.call === 'pagemap_read' ? a.rows.map((x) => x[2]) : []))).size).toBeGreaterThanOrEqual(5);
    expect(l1.filter((a) => a.call === 'PAGEMAP_SCAN')).toEqual([]);
    expect(l1).not.toEqual(l0);
  });

  it('per tracker lane: every stored entry agrees with the page table `pteplay state` rebuilds at that position', () => {
    // The trackers' protocol (a collect every 2 accesses) re-arms each lane its own way, so the lanes'
    // page tables and answers differ; `state` rebuilds them from the stored changes, another path.
    const path = join(dir, 'trackers.db');
    const lanes = ['soft-dirty', 'uffd-async'];
    const r = pteplay(['replay', trace, '--db', path, '--lanes', lanes.join(','), '--interval', '2', '--keyframe-every', '3', '-q']);
    expect(r.status, r.stderr).toBe(0);
    const db = new Database(path, { readonly: true });
    const answers = lanes.map((_, lane) => stored(db, lane).filter((a) => a.call === 'pagemap_read' && a.rows[0]![0]! === A / PAGE_SIZE));
    db.close();
    expect(answers[0]!.length).toBeGreaterThanOrEqual(2);
    expect(answers[0]).not.toEqual(answers[1]); // soft-dirty bits versus uffd-wp bits
    for (const [lane, name] of lanes.entries()) {
      for (const a of answers[lane]!) {
        const pages = a.rows.reduce((n, x) => n + x[1]!, 0);
        const st = pteplay([
          'state',
          path,
          '--lane',
          name,
          '--pos',
          String(a.pos),
          '--pid',
          String(a.pid),
          '--range',
          `${hex(A)}+${pages}`,
          '--json',
        ]);
        expect(st.status, st.stderr).toBe(0);
        const runs = st.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { vpn: number; pages: number; state: number });
        for (const [vpn, count, bits] of a.rows) {
          for (let v = vpn!; v < vpn! + count!; v++) {
            const s = runs.find((x) => x.vpn <= v && v < x.vpn + x.pages)?.state ?? 0;
            const kind = s & KIND_MASK;
            const where = `${name} pos ${a.pos} page +${v - A / PAGE_SIZE}: state ${s.toString(16)}, pagemap bits ${bits}`;
            expect(!!(bits! & PMB_PRESENT), where).toBe(kind === PRESENT);
            expect(!!(bits! & PMB_SWAP), where).toBe(kind === MARKER || kind === SWAP);
            expect(!!(bits! & PMB_UFFD_WP), where).toBe(kind !== NONE && (s & UW) !== 0);
            if (s & SD) expect(bits! & PMB_SOFT_DIRTY, where).toBeTruthy();
          }
        }
      }
    }
  });

  it('a read over more than the whole address space is stored as a few runs up to TASK_SIZE', () => {
    const path = join(dir, 'huge.db');
    const r = pteplay(['replay', trace, '--db', path, '--lanes', 'none', '--interval', 'none', '-q']);
    expect(r.status, r.stderr).toBe(0);
    const db = new Database(path, { readonly: true });
    const pos = RECORDS.findIndex((x) => 'count' in x && x.count === 2 ** 40) - 1; // the header is not a record
    const op = db.prepare("SELECT ret FROM op_result WHERE pos = ? AND origin = 'trace'").get(pos) as { ret: number };
    const runs = db.prepare('SELECT vpn, count FROM pagemap_read_entry WHERE pos = ? ORDER BY vpn').all(pos) as { vpn: number; count: number }[];
    db.close();
    expect(op.ret).toBe(TASK_SIZE_PAGES * 8);
    expect(runs.length).toBeLessThan(50);
    expect(runs[0]!.vpn).toBe(0);
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.vpn).toBe(runs[i - 1]!.vpn + runs[i - 1]!.count);
    expect(runs.at(-1)!.vpn + runs.at(-1)!.count).toBe(TASK_SIZE_PAGES);
  });

  it('the lanes in worker threads store the same rows as the lanes on the main thread', () => {
    const one = join(dir, 'one.db');
    const two = join(dir, 'two.db');
    const lanes = ['none', 'uffd-async', 'soft-dirty'].join(',');
    expect(pteplay(['replay', trace, '--db', one, '--lanes', lanes, '--threads', '1', '-q']).status).toBe(0);
    expect(pteplay(['replay', trace, '--db', two, '--lanes', lanes, '--threads', '2', '-q']).status).toBe(0);
    const rows = (p: string) => {
      const db = new Database(p, { readonly: true });
      const out = [
        db.prepare('SELECT * FROM pagemap_read_entry ORDER BY lane_id, pos, vpn').raw().all(),
        db.prepare('SELECT * FROM pagemap_scan_region ORDER BY lane_id, pos, idx').raw().all(),
        db.prepare('SELECT lane_id, pos, walk_end_vpn FROM op_result WHERE walk_end_vpn IS NOT NULL ORDER BY op_id').raw().all(),
      ];
      db.close();
      return out;
    };
    const a = rows(one);
    expect(a[0]!.length).toBeGreaterThan(0);
    expect(a[1]!.length).toBeGreaterThan(0);
    expect(rows(two)).toEqual(a);
  });
});

describe('UFFD_EVENT_REMAP is stored with its len (uffd_msg.pages)', () => {
  it("a shrinking move reports what moved from 6.16 on (6.18) and the syscall's old_len before (6.1)", () => {
    const path = join(dir, 'remap.db');
    const r = pteplay(['replay', trace, '--db', path, '--lanes', LANES.join(','), '--interval', 'none', '-q']);
    expect(r.status, r.stderr).toBe(0);
    const db = new Database(path, { readonly: true });
    const msgs = db.prepare('SELECT lane_id, vpn, vpn2, pages FROM uffd_msg WHERE event = 20 ORDER BY lane_id').all();
    db.close();
    const mremap = RECORDS.find((x) => 'op' in x && x.op === 'mremap') as { old_len: number; new_len: number };
    expect(msgs).toEqual([
      { lane_id: 0, vpn: R / PAGE_SIZE, vpn2: R2 / PAGE_SIZE, pages: mremap.new_len / PAGE_SIZE },
      { lane_id: 1, vpn: R / PAGE_SIZE, vpn2: R2 / PAGE_SIZE, pages: mremap.old_len / PAGE_SIZE },
    ]);
  });
});

describe('a run database of schema version 2 (before the pagemap answers) stays readable', () => {
  it('report, sql, state and play read it', () => {
    const path = join(dir, 'v2.db');
    expect(pteplay(['replay', trace, '--db', path, '--lanes', 'uffd-async,soft-dirty', '-q']).status).toBe(0);
    // What version 2 did not have.
    const db = new Database(path);
    db.exec(`DROP VIEW v_pagemap_scan_region; DROP TABLE pagemap_read_entry; DROP TABLE pagemap_scan_region; DROP TABLE page_category;
      ALTER TABLE op_result DROP COLUMN walk_end_vpn; ALTER TABLE uffd_msg DROP COLUMN pages;
      UPDATE meta SET value = '2' WHERE key = 'schema_version'; PRAGMA user_version = 2;`);
    db.close();
    const report = pteplay(['report', path, '--json']);
    expect(report.status, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout).run.schemaVersion).toBe(2);
    const sql = pteplay(['sql', path, '--mode', 'json', "SELECT count(*) AS n FROM op_result WHERE call = 'PAGEMAP_SCAN'"]);
    expect(sql.status, sql.stderr).toBe(0);
    expect(JSON.parse(sql.stdout)[0].n).toBeGreaterThan(0);
    const state = pteplay(['state', path, '--range', `${hex(A)}+16`, '--json']);
    expect(state.status, state.stderr).toBe(0);
    expect(state.stdout.trim().split('\n').length).toBeGreaterThan(0);
    const play = pteplay(['play', path, '--json']);
    expect(play.status, play.stderr).toBe(0);
  });
});
