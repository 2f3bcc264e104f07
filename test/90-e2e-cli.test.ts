import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { pteplay, ROOT } from './helpers/cli.js';
import { NODE_FLAGS } from '../src/node-flags.js';
import { PROFILES, type KernelProfile } from '../src/kernel/profile.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pteplay-e2e-'));
});

describe('pteplay CLI errors: one line, documented exit code', () => {
  it('a missing trace file exits 66 naming the file', () => {
    const r = pteplay(['replay', join(dir, 'nope.jsonl'), '--db', join(dir, 'x.db')]);
    expect(r.status).toBe(66);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('nope.jsonl');
  });

  it('a malformed event exits 65 with its file and line number', () => {
    const f = join(dir, 'bad.jsonl');
    writeFileSync(
      f,
      '{"op":"mmap","addr":"0x7f0000000000","len":4096,"prot":"rw","flags":["private","anonymous","fixed"]}\n{"op":"write","addr":"0xZZ"}\n',
    );
    const r = pteplay(['replay', f, '--db', join(dir, 'bad.db')]);
    expect(r.status).toBe(65);
    expect(r.stderr).toMatch(/bad\.jsonl:line 2/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an unknown option or a bad value exits 64', () => {
    expect(pteplay(['replay', 'x', '--frobnicate']).status).toBe(64);
    const r = pteplay(['replay', 'x', '--interval', 'lots']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('--interval');
    expect(pteplay(['replay', 'x', '--lanes', 'soft-clean']).status).toBe(64);
  });

  it('--help documents the exit codes', () => {
    const r = pteplay(['replay', '--help']);
    expect(r.status).toBe(0);
    for (const code of ['64', '65', '66', '70', '73', '74']) expect(r.stdout).toContain(`  ${code}  `);
  });
});

describe('--kernel-opt zero_page=off: a kernel without the zero page (pvm_no_zero_page=1), end to end', () => {
  const fps = (db: string): { lane: string; collect_label: string; cause: string }[] => {
    const sql = new Database(db, { readonly: true });
    const rows = sql.prepare('select lane, collect_label, cause from v_false_positive order by lane, collect_idx, vpn').all() as {
      lane: string;
      collect_label: string;
      cause: string;
    }[];
    sql.close();
    return rows;
  };

  it('the read of a never-touched page becomes a soft-dirty false positive with cause read-fault-alloc (do_anonymous_page), and only with the option', () => {
    const trace = join(ROOT, 'traces', 'scenarios', 'unpopulated-sync.jsonl');
    const off = join(dir, 'nozp.db');
    const on = join(dir, 'zp.db');
    const r = pteplay(['replay', trace, '--db', off, '--lanes', 'soft-dirty,uffd-sync', '--kernel-opt', 'zero_page=off', '-q']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(pteplay(['replay', trace, '--db', on, '--lanes', 'soft-dirty,uffd-sync', '-q']).status).toBe(0);
    expect(fps(off)).toEqual([{ lane: 'soft-dirty', collect_label: 'load-Q', cause: 'read-fault-alloc' }]);
    expect(fps(on)).toEqual([]);
    const sql = new Database(off, { readonly: true });
    expect(sql.prepare("select value from meta where key = 'kernel_profile'").pluck().get()).toBe('6.18+zero_page=off');
    expect(sql.prepare("select distinct config_json ->> '$.profile.zeroPage' from lane").pluck().all()).toEqual([0]);
    sql.close();
  });

  it('a value that is not on/off exits 64 naming the option', () => {
    const r = pteplay([
      'replay',
      join(ROOT, 'traces', 'scenarios', 'unpopulated-sync.jsonl'),
      '--db',
      join(dir, 'zpbad.db'),
      '--kernel-opt',
      'zero_page=maybe',
    ]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('zero_page=maybe');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('--kernel profiles', () => {
  it('every --kernel profile models something no other profile does (a copy would be a name without a model)', () => {
    const switches = (p: KernelProfile) => JSON.stringify({ ...p, name: '' });
    const names = Object.keys(PROFILES);
    const twins = names.flatMap((a, i) =>
      names
        .slice(i + 1)
        .filter((b) => switches(PROFILES[a]!) === switches(PROFILES[b]!))
        .map((b) => `${a} = ${b}`),
    );
    expect(twins).toEqual([]);
    const r = pteplay(['replay', join(ROOT, 'traces', 'scenarios', 'unpopulated-sync.jsonl'), '--db', join(dir, 'mm2026.db'), '--kernel', 'mm-2026']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('unknown kernel profile "mm-2026"');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('mmap errno as the kernel returns it (kreplay-checked: test/95-kreplay-diff.test.ts)', () => {
  it('MAP_FIXED and MAP_FIXED_NOREPLACE beyond TASK_SIZE are ENOMEM, also when unaligned (__get_unmapped_area); an unaligned fixed address below it EINVAL', () => {
    const f = join(dir, 'task-size.jsonl');
    const m = (addr: string, flag: string) => `{"op":"mmap","addr":"${addr}","len":4096,"prot":"rw","flags":["private","anonymous","${flag}"]}`;
    writeFileSync(
      f,
      [m('0x800000000000', 'fixed'), m('0x7ffffffff000', 'fixed_noreplace'), m('0x7ffffffff001', 'fixed'), m('0x7f0000000001', 'fixed')].join('\n') +
        '\n',
    );
    const db = join(dir, 'task-size.db');
    expect(pteplay(['replay', f, '--db', db, '--lanes', 'soft-dirty', '-q']).status).toBe(0);
    const sql = new Database(db, { readonly: true });
    expect(sql.prepare("select errno from op_result where call = 'mmap' order by pos").pluck().all()).toEqual([
      'ENOMEM',
      'ENOMEM',
      'ENOMEM',
      'EINVAL',
    ]);
    sql.close();
  });
});

describe('gen → replay → report on a real database file', () => {
  it('replays a generated zipf trace into four lanes and reports per-interval accuracy', () => {
    const trace = join(dir, 'z.trace');
    const db = join(dir, 'z.db');
    expect(pteplay(['gen', 'zipf', '--pages', '2048', '--accesses', '50000', '--seed', '3', '-o', trace]).status).toBe(0);
    const r = pteplay(['replay', trace, '--db', db, '--interval', '10000', '-q']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const sql = new Database(db, { readonly: true });
    const lanes = sql.prepare('select name from lane order by lane_id').pluck().all();
    expect(lanes).toEqual(['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async']);
    // Every lane saw the same intervals; ground truth is the same trace in every lane.
    const perLane = sql.prepare('select lane_id, count(*) n, sum(true_w) w from collect group by lane_id').all() as { n: number; w: number }[];
    expect(new Set(perLane.map((x) => x.n)).size).toBe(1);
    expect(new Set(perLane.map((x) => x.w)).size).toBe(1);
    expect(perLane[0]!.n).toBeGreaterThanOrEqual(5);
    // A plain anon workload: every tracker sees every write (no false negatives).
    expect(sql.prepare('select sum(fn) from collect').pluck().get()).toBe(0);
    expect(sql.prepare("select value from meta where key = 'status'").pluck().get()).toBe('complete');
    sql.close();
    const rep = pteplay(['report', db, '--json']);
    expect(rep.status).toBe(0);
    const data = JSON.parse(rep.stdout) as { lanes: { name: string; summary: { recall: number } }[] };
    expect(data.lanes.map((l) => l.summary.recall)).toEqual([1, 1, 1, 1]);
  });
});

describe('V8 flags (src/node-flags.ts) wherever pteplay starts node', () => {
  const root = join(import.meta.dirname, '..');
  it('the #! line of cli/pteplay.ts and the npm scripts that run the CLI pass every flag', () => {
    const shebang = readFileSync(join(root, 'cli/pteplay.ts'), 'utf8').split('\n')[0]!;
    expect(shebang).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
    const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
    const cli = Object.entries(scripts).filter(([, cmd]) => /^node (?:--\S+ )*dist\/cli\/pteplay\.js/.test(cmd));
    expect(cli.map(([name]) => name)).toEqual(expect.arrayContaining(['start', 'bench']));
    for (const [name, cmd] of cli) expect(cmd, name).toContain(`node ${NODE_FLAGS.join(' ')} dist/cli/pteplay.js`);
  });

  it('the built CLI runs by itself through its #! line, as npx starts it (npm run build makes it executable)', () => {
    const r = spawnSync(join(root, 'dist/cli/pteplay.js'), ['--help'], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: pteplay/);
  });
});
