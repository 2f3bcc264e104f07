/**
 * A software-event page-fault trace (`perf record -e page-faults -d`, traces/real/sort-page-faults.perf.txt.gz)
 * through the CLI (issue 13 item 5): its samples have an address but no read/write bit and the trace
 * shows no mapping at all, so the summary says what such a trace can and cannot tell, and the mappings
 * are synthesised as ranges (one VMA per touched region, as the lackey importer does), not one per page.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import type { ImportSummary } from '../src/trace/importers/types.js';
import { SYNTH_GAP_PAGES } from '../src/trace/importers/synth.js';
import { pteplay } from './helpers/cli.js';

const FIXTURE = join(import.meta.dirname, '..', 'traces', 'real', 'sort-page-faults.perf.txt.gz');
const tmp = mkdtempSync(join(tmpdir(), 'pteplay-pagefaults-'));
const lines = gunzipSync(readFileSync(FIXTURE))
  .toString('utf8')
  .split('\n')
  .filter((l) => l.includes(' page-faults: '));
/** The data address of each sample: the first hex token after the event. */
const pages = lines.map((l) => Math.floor(parseInt(/page-faults:\s+([0-9a-f]+)\s/.exec(l)![1]!, 16) / 4096));

/** Touched pages grouped into regions whose holes are at most SYNTH_GAP_PAGES pages. */
function regions(touched: number[]): number {
  const s = [...new Set(touched)].sort((a, b) => a - b);
  let n = 0;
  for (let i = 0; i < s.length; i++) if (i === 0 || s[i]! - s[i - 1]! - 1 > SYNTH_GAP_PAGES) n++;
  return n;
}

describe('perf record -e page-faults -d: a trace without read/write bits or mappings', () => {
  const trace = join(tmp, 'sort.ptrace');
  let summary: ImportSummary;

  test('import: every sample a load, the summary says what the trace can and cannot tell', () => {
    const r = pteplay(['import', 'perf', FIXTURE, '-o', trace, '--json']);
    expect(r.status, r.stderr).toBe(0);
    summary = JSON.parse(r.stdout) as ImportSummary;
    expect(lines.length).toBeGreaterThan(1000);
    expect(summary.reads).toBe(lines.length);
    expect(summary.writes).toBe(0);
    const notes = summary.notes.join('\n');
    expect(notes).toMatch(new RegExp(`${lines.length} page-faults samples .*no read/write bit`));
    expect(notes).toMatch(/imported as loads/);
    expect(notes).toMatch(/exceptions:page_fault_user/);
    // Mappings as ranges: fewer synthesised mmaps than touched pages (a hole of up to SYNTH_GAP_PAGES is
    // filled by the mmap that reaches over it; a page touched right after its neighbour still needs one).
    expect(summary.pages).toBe(new Set(pages).size);
    expect(summary.ops.mmap!).toBeLessThan(summary.pages * 0.9);
    expect(notes).toMatch(/mappings \(\d+ pages\) synthesised/);
  });

  test('replay: no access outside a mapping, and one VMA per touched region', () => {
    const db = join(tmp, 'sort.db');
    const r = pteplay(['replay', trace, '--db', db, '--lanes', 'soft-dirty,uffd-async', '--interval', '200']);
    expect(r.status, r.stderr).toBe(0);
    const sql = new Database(db, { readonly: true });
    expect(sql.prepare("SELECT sum(value) FROM counter_total WHERE counter = 'fault_sigsegv'").pluck().get()).toBe(0);
    expect(sql.prepare("SELECT count(*) FROM op_result WHERE origin = 'trace' AND errno IS NOT NULL").pluck().get()).toBe(0);
    const vmas = sql.prepare("SELECT sum(change = 'add') - sum(change = 'remove') FROM vma_change WHERE lane_id = 0").pluck().get();
    sql.close();
    expect(vmas).toBe(regions(pages));
  });
});
