/**
 * The code's layers point one way (docs/architecture.md): cli → run, bench, verify → store, report,
 * tui → pipeline, workers → lanes → trace (importers, readers) → trackers → mm → kernel profile,
 * with src/trace/types.ts (the record vocabulary) and the root utilities (errors, version,
 * node-flags) at the bottom. A file may import its own layer or any layer below it, never one above,
 * and no chain of run-time imports may lead back to where it started.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

/** Layer of a file (relative to the repository root), bottom 0. */
function layer(file: string): number {
  if (file === 'src/trace/types.ts' || /^src\/[^/]+\.ts$/.test(file)) return 0;
  const dir = /^src\/([^/]+)\//.exec(file)?.[1];
  if (file.startsWith('cli/')) return 9;
  const ranks: Record<string, number> = {
    kernel: 0,
    mm: 1,
    trackers: 2,
    trace: 3,
    lanes: 4,
    pipeline: 5,
    workers: 5,
    store: 6,
    report: 6,
    tui: 6,
    run: 7,
    bench: 7,
    verify: 7,
    export: 7,
    sweep: 8,
  };
  const r = dir === undefined ? undefined : ranks[dir];
  if (r === undefined) throw new Error(`${file}: no layer (add its directory to test/00-layers.test.ts and docs/architecture.md)`);
  return r;
}

const files: string[] = [];
const walk = (d: string): void => {
  for (const f of readdirSync(join(ROOT, d))) {
    const p = join(d, f);
    if (statSync(join(ROOT, p)).isDirectory()) walk(p);
    else if (/\.tsx?$/.test(f)) files.push(p);
  }
};
walk('src');
walk('cli');

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}
const edges: Edge[] = files.flatMap((f) => {
  const text = readFileSync(join(ROOT, f), 'utf8');
  return [...text.matchAll(/^(?:import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'/gm)].map((m) => {
    const abs = resolve(ROOT, dirname(f), m[2]!).replace(/\.js$/, '.ts');
    const to = relative(ROOT, files.includes(relative(ROOT, abs)) ? abs : abs.replace(/\.ts$/, '.tsx'));
    return { from: f, to, typeOnly: m[1] !== undefined };
  });
});

describe('layers (issue 16: imports point down only)', () => {
  it('every import resolves to a file of the tree', () => {
    expect(edges.filter((e) => !files.includes(e.to)).map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
    expect(edges.length).toBeGreaterThan(500);
  });

  it('no file imports a layer above its own', () => {
    const up = edges.filter((e) => layer(e.to) > layer(e.from)).map((e) => `${e.from} (${layer(e.from)}) -> ${e.to} (${layer(e.to)})`);
    expect(up).toEqual([]);
  });

  it('no run-time import cycle', () => {
    const next = new Map<string, string[]>(files.map((f) => [f, []]));
    for (const e of edges) if (!e.typeOnly) next.get(e.from)!.push(e.to);
    // Tarjan's strongly connected components: a component of more than one file is a cycle.
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const cycles: string[][] = [];
    const visit = (v: string): void => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      for (const w of next.get(v) ?? []) {
        if (!idx.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const c: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          c.push(w);
        } while (w !== v);
        if (c.length > 1) cycles.push(c.sort());
      }
    };
    for (const f of files) if (!idx.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('the check sees an upward import and a cycle (it can fail)', () => {
    expect(layer('src/mm/fault.ts')).toBeLessThan(layer('src/lanes/lane.ts'));
    expect(edges.some((e) => e.from === 'src/lanes/lane.ts' && e.to === 'src/mm/counters.ts')).toBe(true);
  });
});
