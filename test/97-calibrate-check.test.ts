/**
 * `pteplay calibrate --check`: the binary stream the real executor runs, the clear errors for traces
 * the host cannot run, and a real check of a tiny zipf trace on this machine's kernel (skipped where
 * userfaultfd cannot run). No timing is asserted beyond "measured > 0".
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCheckStream, encodeCheckStream } from '../src/calibrate/check-encode.js';
import { DEFAULT_COST_MODEL } from '../src/report/cost-model.js';
import { probeHost } from '../src/verify/probe.js';
import { kreplayUsable } from '../src/verify/kreplay.js';
import { calibrationFile } from './helpers/calibration.js';
import { pteplay } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'pteplay-check-'));
const usable = kreplayUsable();

function jsonl(name: string, lines: object[]): string {
  const p = join(tmp, name);
  writeFileSync(p, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  return p;
}

const anon = (addr: string, len: number) => ({ op: 'mmap', addr, len, prot: 'rw', flags: ['private', 'anonymous', 'fixed'] });
const TRACE = [
  anon('0x7f0000000000', 8192),
  { op: 'write', addr: '0x7f0000000ff8', size: 16 },
  { op: 'read', addr: '0x7f0000001000' },
  { op: 'write', addr: '0x7f0000000010', kernel: true },
  { op: 'mprotect', addr: '0x7f0000001000', len: 4096, prot: 'r' },
  { op: 'madvise', addr: '0x7f0000000000', len: 4096, advice: 'dontneed' },
  { op: 'mremap', addr: '0x7f0000000000', old_len: 8192, new_len: 8192, flags: ['maymove', 'fixed'], new_addr: '0x7f0000200000' },
  { op: 'mark', label: 'moved' },
  { op: 'munmap', addr: '0x7f0000200000', len: 8192 },
];

describe('calibrate --check: the executor stream', () => {
  it('round-trips every record the host runs, addresses relative to the 1 GiB-aligned window', async () => {
    const s = await encodeCheckStream(jsonl('ops.jsonl', TRACE), { protocol: 'none', interval: 0, intervalUs: 0 });
    const d = decodeCheckStream(s.bytes);
    expect(s.base).toBe(0x7f0000000000);
    expect(d.span).toBe(0x400000);
    expect(s.accesses).toBe(3);
    expect(d.records).toEqual([
      { op: 'mmap', arg: 3 | ((0x02 | 0x20 | 0x10) << 8), args: [0, 8192] },
      { op: 'write', arg: 0, args: [] },
      { op: 'write', arg: 1, args: [] },
      { op: 'read', arg: 1, args: [] },
      { op: 'kwrite', arg: 0, args: [] },
      { op: 'mprotect', arg: 1, args: [4096, 4096] },
      { op: 'madvise', arg: 4, args: [0, 4096] },
      { op: 'mremap', arg: 1 | 2, args: [0, 8192, 8192, 0x200000] },
      { op: 'munmap', arg: 0, args: [0x200000, 8192] },
    ]);
  });

  it("carries the replay's collect protocol: a reset before the first access, a collect with re-arm every N, the tail collect", async () => {
    const s = await encodeCheckStream(jsonl('ops2.jsonl', TRACE), { protocol: 'interval', interval: 2, intervalUs: 0 });
    const ops = decodeCheckStream(s.bytes).records.map((r) => (r.op === 'collect' ? `collect:${r.arg}` : r.op));
    // The first access spans two pages (two words), one record: the collect follows the second record.
    expect(ops).toEqual(['mmap', 'reset', 'write', 'write', 'read', 'collect:1', 'kwrite', 'mprotect', 'madvise', 'mremap', 'munmap', 'collect:0']);
    expect(s.collects).toBe(2);
  });

  it('refuses a stream with a bad magic or a wrong length', async () => {
    const s = await encodeCheckStream(jsonl('ops3.jsonl', TRACE), { protocol: 'none', interval: 0, intervalUs: 0 });
    const bad = s.bytes.slice();
    bad[0] = 0;
    expect(() => decodeCheckStream(bad)).toThrow(/bad magic/);
    expect(() => decodeCheckStream(s.bytes.slice(0, s.bytes.length - 8))).toThrow(/words announced/);
  });
});

describe('calibrate --check: traces the host cannot run (exit 65, naming the record)', () => {
  it('a fork', () => {
    const t = jsonl('fork.jsonl', [anon('0x7f0000000000', 4096), { op: 'write', addr: '0x7f0000000000' }, { op: 'fork', child: 2 }]);
    const r = pteplay(['calibrate', '--check', t]);
    expect(r.status).toBe(65);
    expect(r.stderr).toMatch(/^pteplay: .*fork\.jsonl:record 2: calibrate --check: fork: the host cannot run fork/m);
    expect(r.stdout).toBe('');
  });

  it('shared memory is not anonymous memory', () => {
    const t = jsonl('shm.jsonl', [
      { op: 'mmap', addr: '0x7f0000000000', len: 4096, prot: 'rw', flags: ['shared', 'fixed'], memfd: 'm' },
      { op: 'write', addr: '0x7f0000000000' },
    ]);
    const r = pteplay(['calibrate', '--check', t]);
    expect(r.status).toBe(65);
    expect(r.stderr).toMatch(/shm\.jsonl:record 0: calibrate --check: mmap: not anonymous memory/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a missing trace is exit 66; --reps 0, --reps without --check, --check with -o: exit 64', () => {
    expect(pteplay(['calibrate', '--check', join(tmp, 'nope.trace')]).status).toBe(66);
    const ok = jsonl('ok.jsonl', TRACE);
    for (const args of [
      ['--check', ok, '--reps', '0'],
      ['--reps', '3', '-o', join(tmp, 'c.json')],
      ['--check', ok, '-o', join(tmp, 'c.json')],
    ]) {
      const r = pteplay(['calibrate', ...args]);
      expect(r.status, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(/^pteplay: .*(--reps|--check)/m);
    }
  });
});

describe.skipIf(!usable.ok)(`calibrate --check on this kernel${usable.ok ? '' : ` (skipped: ${usable.why})`}`, () => {
  it('a tiny zipf trace: a row per supported lane, measured > 0, the estimate equal to the report of the same replay', () => {
    const trace = join(tmp, 'z.trace');
    expect(pteplay(['gen', 'zipf', '--pages', '64', '--accesses', '2000', '-o', trace]).status).toBe(0);
    const db = join(tmp, 'z.db');
    const r = pteplay(['calibrate', '--check', trace, '--reps', '1', '--db', db, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    const rep = JSON.parse(pteplay(['report', db, '--json']).stdout);
    const probe = probeHost();
    const rows = new Map<string, any>(c.rows.map((x: any) => [x.lane, x]));
    expect([...rows.keys()]).toEqual(['uffd-sync', 'uffd-sync+unpop', 'uffd-async', 'soft-dirty']);
    expect(c.baseline.wallNs).toBeGreaterThan(0);
    for (const lane of ['uffd-sync', 'uffd-sync+unpop', 'uffd-async']) {
      const row = rows.get(lane);
      expect(row.unavailable, lane).toBeNull();
      expect(row.measured.wallNs, lane).toBeGreaterThan(0);
      expect(row.measured.reps).toHaveLength(1);
      const sim = rep.lanes.find((l: any) => l.name === lane);
      expect(row.estimatedNs, lane).toBe(sim.estimate.totalNs);
      expect(row.estimatedNs, lane).toBeGreaterThan(0);
      // The real run collected where the replay did.
      expect(c.collects, lane).toBe(sim.collects.length);
    }
    // The sync monitor really read one message per write fault it un-protected.
    expect(rows.get('uffd-sync').measured.reps[0].msgs).toBeGreaterThan(0);
    if (probe.softDirty) expect(rows.get('soft-dirty').unavailable).toBeNull();
    else expect(rows.get('soft-dirty').unavailable).toBe('not available: CONFIG_MEM_SOFT_DIRTY off');
  });

  it('--costs FILE prices the estimates with the calibration (the same as report of the run it keeps)', () => {
    const trace = join(tmp, 'z3.trace');
    expect(pteplay(['gen', 'zipf', '--pages', '32', '--accesses', '500', '-o', trace]).status).toBe(0);
    const items: Record<string, unknown> = {};
    for (const it of DEFAULT_COST_MODEL)
      items[it.item] = { ns: it.ns * 10 + 1, unit: 'x', p50: 1, p90: 1, samples: 1, method: 'test', status: 'measured' };
    const cal = jsonl('cal.json', []);
    writeFileSync(cal, JSON.stringify(calibrationFile(items)));
    const dbDefault = join(tmp, 'z3-default.db');
    const dbCal = join(tmp, 'z3-cal.db');
    const byDefault = JSON.parse(pteplay(['calibrate', '--check', trace, '--reps', '1', '--db', dbDefault, '--json']).stdout);
    const r = pteplay(['calibrate', '--check', trace, '--reps', '1', '--db', dbCal, '--costs', cal, '--json']);
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.costs).toMatchObject({ kind: 'calibration', path: cal, kernel: '9.9.9-test' });
    expect(c.replayCommand).toContain(`--costs ${cal}`);
    const rep = JSON.parse(pteplay(['report', dbCal, '--json']).stdout);
    for (const lane of ['uffd-sync', 'uffd-async']) {
      const row = c.rows.find((x: any) => x.lane === lane);
      expect(row.estimatedNs, lane).toBe(rep.lanes.find((l: any) => l.name === lane).estimate.totalNs);
      expect(row.estimatedNs, lane).toBeGreaterThan(byDefault.rows.find((x: any) => x.lane === lane).estimatedNs * 5);
    }
  });

  it('the text table has the baseline and each lane with its ratio', () => {
    const trace = join(tmp, 'z2.trace');
    expect(pteplay(['gen', 'zipf', '--pages', '32', '--accesses', '500', '-o', trace]).status).toBe(0);
    const r = pteplay(['calibrate', '--check', trace, '--reps', '1']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}none \(baseline\) +\d/m);
    for (const lane of ['uffd-sync', 'uffd-sync\\+unpop', 'uffd-async'])
      expect(r.stdout).toMatch(new RegExp(`^  ${lane} .* \\d+\\.\\d\\dx +-?\\d+\\.\\d\\dx$`, 'm'));
  });
});
