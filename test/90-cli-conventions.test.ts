/**
 * CLI conventions a user expects (issue 13 items 5 and 6), end to end through the built CLI on real
 * files: --lanes validation, write errors on stdout, an unmakeable runs/ directory, --version, --json
 * summaries, the replay progress line on a terminal, and help and error texts.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../cli/commands.js';
import { SCHEMA_VERSION } from '../src/store/schema.js';
import { pteplay, ROOT } from './helpers/cli.js';

const CLI = join(ROOT, 'dist', 'cli', 'pteplay.js');
const SORT = join(ROOT, 'traces', 'real', 'sh-sort-uniq.perf.txt');

let dir: string;
let trace: string;
let db: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pteplay-conv-'));
  trace = join(dir, 'sort.trace');
  expect(pteplay(['import', 'perf', SORT, '-o', trace]).status).toBe(0);
  db = join(dir, 'sort.db');
  expect(pteplay(['replay', trace, '--db', db, '-q']).status).toBe(0);
}, 120_000);

const oneLine = (s: string) => expect(s.trim().split('\n'), s).toHaveLength(1);

/** Run the CLI with stdout going to `path` (a file or a device such as /dev/full). */
function toFile(args: string[], path: string): { status: number; stderr: string } {
  const fd = openSync(path, 'w');
  try {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    return { status: r.status ?? -1, stderr: r.stderr };
  } finally {
    closeSync(fd);
  }
}

describe('--lanes', () => {
  it('a lane name given twice is a usage error (64) naming it, before anything is created', () => {
    const out = join(dir, 'dup.db');
    const r = pteplay(['replay', trace, '--db', out, '--lanes', 'soft-dirty,uffd-async,soft-dirty']);
    expect(r.status).toBe(64);
    oneLine(r.stderr);
    expect(r.stderr).toContain('"soft-dirty"');
    expect(r.stderr).not.toContain('UNIQUE');
    expect(existsSync(out)).toBe(false);
    // Two lanes of one kind are fine once they have their own names.
    const ok = pteplay(['replay', trace, '--db', out, '--lanes', 'soft-dirty,soft-dirty:name=sd2', '-q']);
    expect(ok.status, ok.stderr).toBe(0);
  });

  it('an empty list or an empty item is a usage error, not the default lanes', () => {
    for (const lanes of ['', 'soft-dirty,', ',uffd-async']) {
      const out = join(dir, `empty-${lanes.length}.db`);
      const r = pteplay(['replay', trace, '--db', out, '--lanes', lanes]);
      expect(r.status, lanes).toBe(64);
      oneLine(r.stderr);
      expect(r.stderr).toContain('--lanes');
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('write errors on stdout: one line, exit 74; a closed pipe: quiet, exit 0', () => {
  it.each([
    ['report --csv', () => ['report', db, '--csv']],
    ['report', () => ['report', db]],
    ['sql', () => ['sql', db, 'select * from pte_change', '--mode', 'csv']],
    ['convert -', () => ['convert', trace, '-']],
    ['gen -o -', () => ['gen', 'seq', '--pages', '64', '--accesses', '2000', '-o', '-']],
    ['--help', () => ['--help']],
  ])('%s > /dev/full', (_name, args) => {
    const r = toFile(args(), '/dev/full');
    expect(r.status, r.stderr).toBe(74);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/^pteplay: cannot write to stdout: no space left on device/);
  });

  it.each([
    ['sql', () => ['sql', db, 'select * from pte_change', '--mode', 'csv']],
    ['convert -', () => ['convert', trace, '-']],
    ['report --csv', () => ['report', db, '--csv']],
  ])('%s | head -c 100', (_name, args) => {
    const cmd = `"${process.execPath}" "${CLI}" ${args()
      .map((a) => `'${a}'`)
      .join(' ')} 2>"${dir}/epipe.err" | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('0');
    expect(readFileSync(join(dir, 'epipe.err'), 'utf8')).toBe('');
  });

  it('a runs/ directory that cannot be made: one line naming it, exit 73', () => {
    const cwd = join(dir, 'no-runs-dir');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'runs'), 'a file where the directory should be\n');
    const r = pteplay(['replay', trace], cwd);
    expect(r.status).toBe(73);
    oneLine(r.stderr);
    expect(r.stderr).toContain('runs');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('conventions', () => {
  it('--version and -V print the version of package.json', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = pteplay([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('replay --json prints the summary as JSON on stdout and nothing on stderr', () => {
    const out = join(dir, 'json.db');
    const r = pteplay(['replay', trace, '--db', out, '--interval', '400', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const s = JSON.parse(r.stdout) as {
      db: string;
      accesses: number;
      collects: number;
      lanes: string[];
      plan: { interval: number };
      warnings: string[];
    };
    expect(s).toMatchObject({ db: out, lanes: ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async'], plan: { interval: 400 }, warnings: [] });
    const report = JSON.parse(pteplay(['report', out, '--json']).stdout) as { lanes: { summary: { collects: number } }[] };
    expect(s.collects).toBe(report.lanes.reduce((n, l) => n + l.summary.collects, 0));
    expect(s.accesses).toBeGreaterThan(1000);
  });

  it('gen --json and convert --json print their summaries as JSON on stdout; with - as the output they are usage errors', () => {
    const g = join(dir, 'g.jsonl');
    const r = pteplay(['gen', 'seq', '--pages', '16', '--accesses', '100', '-o', g, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const gs = JSON.parse(r.stdout) as { records: number; accesses: number; ops: number; format: string; bytes: number };
    expect(gs.format).toBe('jsonl');
    expect(gs.bytes).toBe(readFileSync(g).length);
    expect(readFileSync(g, 'utf8').trim().split('\n')).toHaveLength(gs.records + 1); // + the header line
    expect(gs.accesses + gs.ops).toBe(gs.records);
    const c = pteplay(['convert', g, join(dir, 'g.trace'), '--json']);
    expect(c.status, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({
      inputFormat: 'jsonl',
      outputFormat: 'msgpack',
      records: gs.records,
      outputBytes: readFileSync(join(dir, 'g.trace')).length,
    });
    expect(pteplay(['gen', 'seq', '-o', '-', '--json']).status).toBe(64);
    expect(pteplay(['convert', g, '-', '--json']).status).toBe(64);
  });

  it('replay on a terminal shows a progress line with the total, percentage, rate and ETA', () => {
    const big = join(dir, 'big.trace');
    expect(pteplay(['gen', 'zipf', '--pages', '4096', '--accesses', '400000', '-o', big]).status).toBe(0);
    // script(1) gives the replay a pseudo-terminal.
    // PTEPLAY_PROGRESS_MS=0: draw on every update, or a fast machine finishes before the first redraw.
    const cmd = `PTEPLAY_PROGRESS_MS=0 "${process.execPath}" "${CLI}" replay "${big}" --db "${join(dir, 'big.db')}" --lanes soft-dirty --interval 50000`;
    const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/replay: \d+\.\d MiB \/ \d+\.\d MiB +\d+\.\d%, \d+ accesses, \d+\.\d MiB\/s, \d+ acc\/s ETA \d+s/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the progress line's carriage return and erase-line sequence (ESC [ K)
    expect(r.stdout).toMatch(/\r\x1b\[Kreplay: \d+ accesses, \d+ records, \d+ collects per lane/); // the summary replaces it
  });

  it('report --help names the command that writes a run database', () => {
    const r = pteplay(['report', '--help']);
    expect(r.stdout).toContain('written by `pteplay replay`');
    expect(r.stdout).not.toContain('pteplay run`');
  });

  it('report, sql and state of a directory say so in one line (exit 66), not "disk I/O error"', () => {
    const d = join(dir, 'a-directory');
    mkdirSync(d);
    for (const args of [
      ['report', d],
      ['sql', d, 'select 1'],
      ['state', d, '--range', '0x1000+1'],
    ]) {
      const r = pteplay(args);
      expect(r.status, args[0]).toBe(66);
      oneLine(r.stderr);
      expect(r.stderr).toContain('is a directory');
      expect(r.stderr).not.toContain('disk I/O');
    }
  });

  it('report, state, play and sql open a run database alike: the same line and exit code for a missing, foreign, corrupt or newer file', () => {
    const d = join(dir, 'openers');
    mkdirSync(d);
    const at = (name: string) => join(d, name);
    writeFileSync(at('text.db'), 'hello\n');
    writeFileSync(at('trunc.db'), readFileSync(db).subarray(0, 4096));
    writeFileSync(at('newer.db'), readFileSync(db));
    const newer = new Database(at('newer.db'));
    newer.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    newer.close();
    const other = new Database(at('other.db'));
    other.exec('CREATE TABLE t (x)');
    other.close();
    const run = (cmd: string, f: string) =>
      pteplay(
        cmd === 'sql'
          ? ['sql', at(f), 'SELECT 1']
          : cmd === 'state'
            ? ['state', at(f), '--range', '0x1000+1']
            : cmd === 'play'
              ? ['play', at(f), '--plain']
              : ['report', at(f)],
      );
    const cases: [string, number, string, string?][] = [
      ['nope.db', 66, 'no such run database'],
      ['text.db', 65, 'not a pteplay run database (file is not a database)', 'cannot read: file is not a database'],
      ['trunc.db', 65, 'not a pteplay run database (database disk image is malformed)', 'cannot read: database disk image is malformed'],
      ['newer.db', 65, `run database schema version 99 is not supported (this pteplay reads 1..${SCHEMA_VERSION})`],
      ['other.db', 65, 'not a pteplay run database (no meta table)'],
    ];
    for (const [f, code, message, sqlMessage] of cases) {
      for (const cmd of ['report', 'state', 'play', 'sql']) {
        // `pteplay sql` reads any SQLite file: only a file SQLite cannot read is an error.
        if (cmd === 'sql' && (f === 'newer.db' || f === 'other.db')) continue;
        const r = run(cmd, f);
        expect([r.status, r.stderr], `${cmd} ${f}`).toEqual([code, `pteplay: ${at(f)}: ${cmd === 'sql' ? (sqlMessage ?? message) : message}\n`]);
      }
    }
  });

  it('every option of every command is listed in its --help', () => {
    const program = new Command('pteplay');
    for (const register of COMMANDS) register(program);
    for (const cmd of program.commands) {
      const help = pteplay([cmd.name(), '--help']).stdout;
      for (const opt of cmd.options) expect(help, `${cmd.name()} ${opt.flags}`).toContain(opt.flags);
    }
  });
});
