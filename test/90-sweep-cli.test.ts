/**
 * `pteplay sweep` end to end (issue 18): a local sweep of 2 traces × 4 lanes × 2 kernels in parallel
 * child processes; a re-run skips done cells and a changed plan runs only its new cells; a shard
 * SIGKILLed mid-cell leaves no done.json for that cell and a re-run completes exactly the missing
 * cells; a failing cell is recorded, reported by `sweep status`, and retried only with --force-failed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/errors.js';
import { pteplay, ROOT } from './helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pteplay-sweep-'));
});

const LANES = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async'];
const plan = (name: string, p: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(p));
  return file;
};
const cellFiles = (out: string, suffix: string) =>
  readdirSync(join(out, 'cells'))
    .filter((f) => f.endsWith(suffix) && (suffix !== '.json' || !/\.(done|failed)\.json$/.test(f)))
    .map((f) => f.slice(0, 12))
    .sort();
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const status = (out: string) => {
  const r = pteplay(['sweep', 'status', out, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { counts: Record<string, number>; cells: { cell: string; status: string; error?: string }[] };
};

describe('pteplay sweep (local, parallel)', () => {
  const base = {
    traces: [
      { gen: 'zipf', pages: 1024, accesses: 3000, seed: 1 },
      { gen: 'uniform', pages: 512, accesses: 2000, seed: 2 },
    ],
    lanes: LANES,
    kernels: ['6.1', '6.18'],
    options: { interval: [1000] },
  };

  it('runs 2 traces × 4 lanes × 2 kernels in child shards; every cell has its run, Parquet files and done.json', () => {
    const out = join(dir, 'local');
    const r = pteplay(['sweep', plan('local.json', base), '--out', out, '--jobs', '2', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const sum = JSON.parse(r.stdout);
    expect(sum).toMatchObject({ cells: 4, done: 4, skipped: 0, failed: 0 });
    const done = cellFiles(out, '.done.json');
    expect(done).toHaveLength(4);
    expect(readdirSync(join(out, 'runs')).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    const kernels = new Set<string>();
    for (const id of done) {
      const d = readJson(join(out, 'cells', `${id}.done.json`));
      expect(d).toMatchObject({ cell: id, status: 'done', lanes: LANES, options: { interval: 1000 } });
      expect(d.accesses).toBeGreaterThan(2000);
      expect(d.db_bytes).toBeGreaterThan(0);
      expect(d.parquet_bytes).toBeGreaterThan(0);
      kernels.add(d.kernel);
      const db = new Database(join(out, 'runs', `${id}.db`), { readonly: true });
      expect(db.prepare('SELECT name FROM lane ORDER BY lane_id').pluck().all()).toEqual(LANES);
      db.close();
      const accuracy = join(out, 'parquet', 'collect_accuracy', `trace=${d.trace}`, `kernel=${d.kernel}`, 'lane=uffd-async', `${id}-0.parquet`);
      expect(existsSync(accuracy), accuracy).toBe(true);
    }
    expect([...kernels].sort()).toEqual(['6.1', '6.18']);
    expect(status(out).counts).toMatchObject({ done: 4, failed: 0, missing: 0 });
  });

  it('a re-run skips the done cells; a changed plan runs only its new cells', () => {
    const out = join(dir, 'local');
    const again = pteplay(['sweep', plan('local.json', base), '--out', out, '--json']);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ cells: 4, done: 0, skipped: 4 });
    const before = cellFiles(out, '.done.json').map((id) => readJson(join(out, 'cells', `${id}.done.json`)).finished_at);
    const more = pteplay(['sweep', plan('local.json', { ...base, options: { interval: [1000, 'none'] } }), '--out', out, '--jobs', '2', '--json']);
    expect(more.status, more.stderr).toBe(0);
    expect(JSON.parse(more.stdout)).toMatchObject({ cells: 8, done: 4, skipped: 4 });
    const after = cellFiles(out, '.done.json');
    expect(after).toHaveLength(8);
    expect(after.map((id) => readJson(join(out, 'cells', `${id}.done.json`)).finished_at)).toEqual(expect.arrayContaining(before));
  });

  it('sweep report prints the cross-run table: one row per cell and lane, equal to each run database; a lane the kernel lacks names its error', () => {
    const out = join(dir, 'local');
    const r = pteplay(['sweep', 'report', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as {
      cells: number;
      rows: { cell: string; kernel: string; lane: string; tp: number; fp: number; fn: number; collects: number; errors: string[] }[];
    };
    expect(rep.cells).toBe(8);
    expect(rep.rows).toHaveLength(8 * LANES.length);
    for (const row of rep.rows) {
      const db = new Database(join(out, 'runs', `${row.cell}.db`), { readonly: true });
      const want = db
        .prepare(
          `SELECT count(*) AS collects, sum(a.tp) AS tp, sum(a.fp) AS fp, sum(a.fn) AS fn
           FROM v_collect_accuracy a JOIN lane l ON l.lane_id = a.lane_id WHERE l.name = ?`,
        )
        .get(row.lane) as { collects: number; tp: number | null; fp: number | null; fn: number | null };
      db.close();
      expect({ collects: row.collects, tp: row.tp, fp: row.fp, fn: row.fn }, `${row.cell} ${row.lane}`).toEqual(want);
    }
    // Kernel 6.1 has no UFFD_FEATURE_WP_ASYNC (6.7): the async lane cannot track, and the report says why.
    // (The cells with --interval none have no collect, so nothing to report an error at.)
    const async61 = rep.rows.filter((x) => x.kernel === '6.1' && x.lane === 'uffd-async' && x.collects > 0);
    expect(async61).toHaveLength(2);
    for (const x of async61) expect(x.errors.join(' ')).toMatch(/UFFDIO_API failed/);
    const text = pteplay(['sweep', 'report', out]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/tracker errors [^\n]*\n(?: {4}[^\n]*\n)* {4}kernel 6\.1 uffd-async: UFFDIO_API failed/);
  });

  it("--drop-runs deletes each done cell's run database; sweep report reads the same rows from Parquet alone", () => {
    const out = join(dir, 'dropped');
    const r = pteplay(['sweep', plan('dropped.json', base), '--out', out, '--jobs', '2', '--drop-runs', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ cells: 4, done: 4 });
    expect(readdirSync(join(out, 'runs'))).toEqual([]);
    for (const id of cellFiles(out, '.done.json')) {
      const d = readJson(join(out, 'cells', `${id}.done.json`));
      expect(d).toMatchObject({ status: 'done', db_dropped: true });
      expect(d.db_bytes).toBeGreaterThan(0);
    }
    // The same plan kept its databases in 'local': the cross-run table is the same without them.
    const rows = (o: string) => {
      const x = pteplay(['sweep', 'report', o, '--json']);
      expect(x.status, x.stderr).toBe(0);
      return (JSON.parse(x.stdout).rows as { options: { interval: unknown } }[]).filter((row) => row.options.interval === 1000);
    };
    expect(rows(out)).toEqual(rows(join(dir, 'local')));
  });

  it('pteplay sweep status names a directory that is not a sweep (exit 66)', () => {
    const r = pteplay(['sweep', 'status', join(dir, 'nothing')]);
    expect(r.status).toBe(EXIT.NO_INPUT);
    expect(r.stderr).toMatch(/is not a sweep directory: no plan\.json/);
  });
});

describe('a shard killed mid-cell', () => {
  it('leaves no done.json for its cell; a re-run completes exactly the missing cells', async () => {
    const out = join(dir, 'killed');
    const file = plan('killed.json', {
      traces: [{ gen: 'zipf', pages: 4096, accesses: 150000, seed: 5 }],
      lanes: LANES,
      kernels: ['6.1', '6.18'],
      options: { interval: [20000] },
    });
    // One shard runs both cells in turn: kill it (SIGKILL: no handler runs) while it replays the first.
    const child = spawn(
      process.execPath,
      [join(ROOT, 'dist', 'cli', 'pteplay.js'), 'sweep', file, '--out', out, '--shard', '0/1', '--threads', '1', '-q'],
      {
        stdio: 'ignore',
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_, signal) => resolve(signal)));
    const runs = join(out, 'runs');
    const deadline = Date.now() + 60_000;
    while (!(existsSync(runs) && readdirSync(runs).some((f) => f.startsWith('.tmp-')))) {
      if (Date.now() > deadline) throw new Error('the shard never started a replay');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const started = cellFiles(out, '.json');
    const done = cellFiles(out, '.done.json');
    expect(started.length).toBeGreaterThan(done.length);
    const killedCell = started.find((id) => !done.includes(id))!;
    expect(readdirSync(runs).some((f) => f.startsWith(`.tmp-${killedCell}-`))).toBe(true);
    const st = status(out);
    expect(st.cells.find((c) => c.cell === killedCell)!.status).toBe('started');
    expect(st.counts.done).toBe(done.length);

    const rerun = pteplay(['sweep', file, '--out', out, '--json']);
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ cells: 2, done: 2 - done.length, skipped: done.length });
    expect(cellFiles(out, '.done.json')).toHaveLength(2);
    expect(readdirSync(runs).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    expect(status(out).counts).toMatchObject({ done: 2, started: 0, missing: 0 });
  }, 120_000);
});

describe('a failing cell', () => {
  it('is recorded with its error, shown by status, exit 65; retried only with --force-failed', () => {
    const out = join(dir, 'failing');
    const good = join(ROOT, 'traces', 'scenarios', 'vma-merge.jsonl');
    const bad = join(dir, 'broken.jsonl');
    writeFileSync(bad, `${readFileSync(good, 'utf8').split('\n').slice(0, 4).join('\n')}\n{"op":"mmap","pid":1,"addr":"nowhere"}\n`);
    const file = plan('failing.json', { traces: [good, bad], lanes: ['soft-dirty'] });
    const r = pteplay(['sweep', file, '--out', out, '--jobs', '1']);
    expect(r.status, r.stderr).toBe(EXIT.DATA);
    expect(r.stderr).toMatch(/1 cell done, 0 already done, 1 failed/);
    expect(r.stderr).toMatch(/cell [0-9a-f]{12} \(broken, kernel 6\.18\) failed: .*broken\.jsonl:line 5: /);
    const failed = cellFiles(out, '.failed.json');
    expect(failed).toHaveLength(1);
    const rec = readJson(join(out, 'cells', `${failed[0]}.failed.json`));
    expect(rec.error).toMatch(/broken\.jsonl:line 5: mmap: field "addr"/);
    expect(existsSync(join(out, 'cells', `${failed[0]}.done.json`))).toBe(false);
    const text = pteplay(['sweep', 'status', out]);
    expect(text.stdout).toMatch(/2 cells: 1 done, 1 failed, 0 running, 0 started \(not finished\), 0 missing/);
    expect(text.stdout).toContain(`${failed[0]}  broken  kernel 6.18  failed: `);

    const again = pteplay(['sweep', file, '--out', out, '--json']);
    expect(again.status).toBe(EXIT.DATA);
    expect(JSON.parse(again.stdout)).toMatchObject({ done: 0, skipped: 1, failed: 0, failed_before: 1 });
    expect(readJson(join(out, 'cells', `${failed[0]}.failed.json`)).finished_at).toBe(rec.finished_at);

    const forced = pteplay(['sweep', file, '--out', out, '--force-failed', '--json']);
    expect(forced.status).toBe(EXIT.DATA);
    expect(JSON.parse(forced.stdout)).toMatchObject({ done: 0, skipped: 1, failed: 1, failed_before: 0 });
    expect(readJson(join(out, 'cells', `${failed[0]}.failed.json`)).finished_at).not.toBe(rec.finished_at);
  });
});
