/**
 * `pteplay play` end to end without a terminal (a real process with piped stdio, real run databases):
 * the plain-text and JSON summaries, --help listing every key, and one clear line with the documented
 * exit code for every bad input.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { helpLines } from '../src/tui/keymap.js';
import { ROOT, pteplay } from './helpers/cli.js';
import { tempDir } from './helpers/store-fixture.js';

const dir = tempDir();
let merge: string;

beforeAll(() => {
  merge = join(dir, 'merge.db');
  expect(pteplay(['replay', 'traces/scenarios/vma-merge.jsonl', '--db', merge, '-q']).status).toBe(0);
});

/** The one-line error contract: exit code, nothing on stdout, one line on stderr, no stack trace. */
function expectError(r: ReturnType<typeof pteplay>, code: number, text: RegExp): void {
  expect(r.status).toBe(code);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(text);
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
}

describe('pteplay play without a terminal', () => {
  it("piped: prints the summary of the frame it opens on (exit 0), soft-dirty's false positives and their cause", () => {
    const r = pteplay(['play', merge]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('1 collects, 1 with a false page in a shown lane: #0 @7 "after"');
    expect(r.stdout).toContain('#0 soft-dirty: reported 5, written 0, FP 5, FN 0');
    expect(r.stdout).toContain('position 7 of 7, collect #0 "after" (verdicts shown); pid 1, range 0x7f0000000000+5 pages, 1 page per cell');
    expect(r.stdout).toMatch(/\ntruth {12}\.\.\.\.\.\n\*soft-dirty {6}\+\+\+\+\+\n uffd-sync {7}pppp\.\n/);
    expect(r.stdout).toContain('0x7f0000000000 soft-dirty: false positive, cause vma-merge-softdirty');
    expect(r.stdout).toContain('+ false positive');
  });

  it('--json: the same frame as JSON, rows as glyph strings', () => {
    const r = pteplay(['play', merge, '--json', '--lanes', 'uffd-async,soft-dirty', '--at', '6']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as {
      frame: { pos: number; truth: string; lanes: Record<string, string>; verdictsOfCollect: number | null; legend: Record<string, string> };
    };
    expect(j.frame.pos).toBe(6);
    expect(j.frame.verdictsOfCollect).toBeNull();
    // Not at a collect: the range is the VMA of uffd-async's (the first shown lane's) first change, A without N.
    expect(j.frame.lanes).toEqual({ 'uffd-async': 'pppp', 'soft-dirty': 'oooo' });
    expect(j.frame.truth).toBe('....');
    expect(j.frame.legend['+']).toBe('false positive');
  });

  it('--range and --lanes choose what the map shows', () => {
    const r = pteplay(['play', merge, '--plain', '--range', '0x7f0000003000+2', '--lanes', 'soft-dirty']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\*soft-dirty {6}\+\+\n/);
    expect(r.stdout).not.toContain('uffd-sync ');
  });

  it("the README's play section lists every key of the keymap", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Watching a run: `pteplay play`'), readme.indexOf('## What each lane does'));
    for (const line of helpLines()) expect(section).toContain(line);
  });

  it('--help lists every key of the keymap and the exit codes', () => {
    const r = pteplay(['play', '--help']);
    expect(r.status).toBe(0);
    for (const line of helpLines()) expect(r.stdout).toContain(line);
    expect(r.stdout).toContain('130 interrupted (SIGINT, Ctrl-C); 143 terminated (SIGTERM)');
  });
});

describe('pteplay play: bad input is one line and a documented exit code', () => {
  it('a missing file: 66', () => {
    expectError(pteplay(['play', join(dir, 'nope.db')]), 66, /nope\.db: no such run database/);
  });

  it('a file that is not SQLite, and a SQLite file that is not a pteplay run: 65', () => {
    const text = join(dir, 'text.db');
    writeFileSync(text, 'not a database\n'.repeat(100));
    expectError(pteplay(['play', text]), 65, /text\.db: not a pteplay run database/);
    const other = join(dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE t (x)');
    db.close();
    expectError(pteplay(['play', other]), 65, /other\.db: not a pteplay run database \(no meta table\)/);
  });

  it('a run of a newer schema: 65', () => {
    const newer = join(dir, 'newer.db');
    copyFileSync(merge, newer);
    const db = new Database(newer);
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    db.close();
    expectError(pteplay(['play', newer]), 65, /newer\.db: run database schema version 99 is not supported/);
  });

  it('bad options: 64', () => {
    expectError(pteplay(['play', merge, '--range', 'zz']), 64, /option --range: expected ADDRESS\+PAGES/);
    expectError(pteplay(['play', merge, '--lanes', 'soft-dirty,nope']), 64, /option --lanes: no lane "nope"/);
    expectError(pteplay(['play', merge, '--at', '99']), 64, /option --at: position 99 is beyond the run's last position 7/);
    expectError(pteplay(['play', merge, '--json', '--plain']), 64, /--json and --plain/);
  });
});
