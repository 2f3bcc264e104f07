/**
 * A replay compares the lanes over the whole trace by default (issue 13 item 1), end to end on a real
 * `perf script` trace (sh | sort | uniq, traces/real) and a real lackey trace: `--interval auto` collects,
 * the tail after the last interval and each process's last interval before it exits are collected, a
 * trace's own collects are kept as they are, and a run without any collect is flagged by the report.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { pteplay, ROOT } from './helpers/cli.js';

let dir: string;
let sort: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pteplay-interval-'));
  sort = join(dir, 'sort.trace');
  expect(pteplay(['import', 'perf', join(ROOT, 'traces', 'real', 'sh-sort-uniq.perf.txt'), '-o', sort]).status).toBe(0);
}, 60_000);

interface Replayed {
  accesses: number;
  plan: { protocol: string; interval: number; intervalUs: number; intervalAuto?: string };
  warnings: string[];
  /** Per lane: collects, and the accesses their intervals cover (sum of interval_accesses). */
  lanes: Record<string, { collects: number; covered: number }>;
  labels: string[];
  db: string;
}

function replayed(trace: string, name: string, args: string[] = []): Replayed {
  const db = join(dir, `${name}.db`);
  const r = pteplay(['replay', trace, '--db', db, '--json', ...args]);
  expect(r.status, r.stderr).toBe(0);
  const s = JSON.parse(r.stdout) as Omit<Replayed, 'lanes' | 'labels'>;
  const sql = new Database(db, { readonly: true });
  const rows = sql
    .prepare(`SELECT l.name, count(c.collect_idx) AS collects, coalesce(sum(c.interval_accesses), 0) AS covered
    FROM lane l LEFT JOIN collect c USING (lane_id) GROUP BY l.lane_id`)
    .all() as { name: string; collects: number; covered: number }[];
  const labels = sql.prepare('SELECT DISTINCT label FROM collect WHERE lane_id = 0 ORDER BY label').pluck().all() as string[];
  sql.close();
  return { ...s, db, labels, lanes: Object.fromEntries(rows.map((x) => [x.name, { collects: x.collects, covered: x.covered }])) };
}

const everyLane = (r: Replayed, f: (l: { collects: number; covered: number }) => void) => {
  expect(Object.keys(r.lanes)).toHaveLength(4);
  for (const l of Object.values(r.lanes)) f(l);
};

describe('replay without --interval (auto) on a real perf trace', () => {
  it('collects about 10 intervals of the trace time in every lane, and every access reaches a collect', () => {
    const r = replayed(sort, 'auto');
    expect(r.plan).toMatchObject({ protocol: 'interval', interval: 0 });
    expect(r.plan.intervalUs).toBeGreaterThan(1000); // 10 intervals of the ~57 ms the trace spans
    expect(r.warnings).toEqual([]);
    everyLane(r, (l) => {
      expect(l.collects).toBeGreaterThanOrEqual(10);
      expect(l.covered).toBe(r.accesses);
    });
    // sh, sort and uniq exit before the end: each is collected just before (their pages are gone after).
    expect(r.labels).toContain('exit');
    const sql = new Database(r.db, { readonly: true });
    const exits = sql.prepare("SELECT count(DISTINCT pid) FROM collect WHERE label = 'exit'").pluck().get();
    const written = sql.prepare("SELECT sum(true_w) FROM collect WHERE lane_id = 0 AND label = 'exit'").pluck().get() as number;
    sql.close();
    expect(exits).toBe(4);
    expect(written).toBeGreaterThan(0);
    // The report compares the lanes and warns of nothing.
    const text = pteplay(['report', r.db]).stdout;
    expect(text).not.toContain('warning');
    expect(text).toMatch(/soft-dirty +soft-dirty +\d{2,} /);
  });

  it('--interval N also collects the last partial interval, and a trace shorter than N still gets its collect', () => {
    for (const [n, min] of [
      [500, 4],
      [1_000_000, 1],
    ] as const) {
      const r = replayed(sort, `n${n}`, ['--interval', String(n)]);
      expect(r.plan).toMatchObject({ protocol: 'interval', interval: n });
      everyLane(r, (l) => {
        expect(l.collects).toBeGreaterThanOrEqual(min);
        expect(l.covered).toBe(r.accesses);
      });
    }
  });

  it('--interval none replays the trace as it is: no collect, and the report warns in text, JSON and (on stderr) CSV', () => {
    const r = replayed(sort, 'none', ['--interval', 'none']);
    expect(r.plan.protocol).toBe('none');
    everyLane(r, (l) => expect(l.collects).toBe(0));
    expect(r.warnings.join()).toContain('no collect');
    const text = pteplay(['report', r.db]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/warning: no collect.*--interval/);
    const json = JSON.parse(pteplay(['report', r.db, '--json']).stdout) as { warnings: string[] };
    expect(json.warnings).toHaveLength(1);
    expect(json.warnings[0]).toContain('no collect');
    const csv = pteplay(['report', r.db, '--csv']);
    expect(csv.stdout.trim().split('\n')).toHaveLength(1); // the header: still a CSV file
    expect(csv.stderr).toContain('warning: no collect');
  });
});

describe('auto on other traces', () => {
  it('a trace without time (lackey) is split into 10 intervals of its accesses', () => {
    const lackey = join(dir, 'lackey.trace');
    expect(pteplay(['import', 'lackey', join(ROOT, 'traces', 'real', 'lackey-mmap-demo.txt.gz'), '-o', lackey]).status).toBe(0);
    const r = replayed(lackey, 'lackey');
    expect(r.plan).toMatchObject({ protocol: 'interval', intervalUs: 0, interval: Math.ceil(r.accesses / 10) });
    everyLane(r, (l) => {
      expect(l.collects).toBeGreaterThanOrEqual(10);
      expect(l.covered).toBe(r.accesses);
    });
  });

  it("a trace with its own collects keeps exactly them when nothing follows the last one (the scenarios' counts)", () => {
    const r = replayed(join(ROOT, 'traces', 'scenarios', 'vma-merge.jsonl'), 'own');
    expect(r.plan.protocol).toBe('tail');
    everyLane(r, (l) => expect(l.collects).toBe(1));
    expect(r.labels).toEqual(['after']);
  });

  it('a trace with its own collects gets one more, at the end, for accesses after its last', () => {
    const f = join(dir, 'after-last.jsonl');
    writeFileSync(
      f,
      [
        '{"op":"mmap","addr":"0x7f0000000000","len":16384,"prot":"rw","flags":["private","anonymous","fixed"]}',
        '{"op":"reset"}',
        '{"op":"write","addr":"0x7f0000000000"}',
        '{"op":"collect","reset":true,"label":"mine"}',
        '{"op":"write","addr":"0x7f0000001000"}',
        '{"op":"write","addr":"0x7f0000002000"}',
        '',
      ].join('\n'),
    );
    const r = replayed(f, 'after-last');
    everyLane(r, (l) => {
      expect(l.collects).toBe(2);
      expect(l.covered).toBe(3);
    });
    expect(r.labels).toEqual(['end', 'mine']);
    const sql = new Database(r.db, { readonly: true });
    expect(sql.prepare("SELECT DISTINCT true_w FROM collect WHERE label = 'end'").pluck().all()).toEqual([2]);
    sql.close();
  });
});
