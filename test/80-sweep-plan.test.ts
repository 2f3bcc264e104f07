/**
 * Sweep plans, cells and shards (issue 18): a malformed plan is one line naming the plan file and the
 * JSON path (exit 65; a missing plan or trace 66); cell ids depend on content, not on the order of the
 * plan; shards are deterministic, disjoint, covering and balanced by cost; `--shard auto/N` maps the
 * Kubernetes and Slurm index variables.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT, UsageError } from '../src/errors.js';
import { planCells } from '../src/sweep/cells.js';
import { PROFILES } from '../src/kernel/profile.js';
import { GEN_KEY_NAMES, OPTION_RULES, PLAN_KEYS, parsePlan } from '../src/sweep/plan.js';
import { assignShards, shardCells, shardFromEnv } from '../src/sweep/shard.js';
import { resolveTraces } from '../src/sweep/traces.js';
import { pteplay, ROOT } from './helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pteplay-sweep-plan-'));
});

function planFile(name: string, plan: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof plan === 'string' ? plan : JSON.stringify(plan));
  return p;
}

const GEN = { gen: 'zipf', pages: 512, accesses: 1000, seed: 1 };

describe('sweep plan errors (CLI)', () => {
  const cases: [string, unknown, number, RegExp][] = [
    ['not JSON', '{"traces": [', EXIT.DATA, /bad-json\.json: not valid JSON/],
    ['no traces', { lanes: ['soft-dirty'] }, EXIT.DATA, /: \$\.traces: expected a non-empty list/],
    ['unknown top-level key', { traces: [GEN], lane: ['x'] }, EXIT.DATA, /: \$\.lane: unknown key/],
    ['bad lane', { traces: [GEN], lanes: ['soft-dirty', 'uffd-wp'] }, EXIT.DATA, /: \$\.lanes\[1\]: unknown lane "uffd-wp"/],
    ['unknown kernel', { traces: [GEN], kernels: ['6.18', '5.4'] }, EXIT.DATA, /: \$\.kernels\[1\]: unknown kernel profile "5\.4"/],
    ['unknown option', { traces: [GEN], options: { intervl: [1] } }, EXIT.DATA, /: \$\.options\.intervl: unknown key/],
    [
      'bad option value',
      { traces: [GEN], options: { interval: [1000, -1] } },
      EXIT.DATA,
      /: \$\.options\.interval\[1\]: expected a whole number of accesses/,
    ],
    [
      'bad kernel_opt',
      { traces: [GEN], options: { kernel_opt: ['zero_page=maybe'] } },
      EXIT.DATA,
      /: \$\.options\.kernel_opt\[0\]: expected a kernel switch/,
    ],
    ['interval_us with auto', { traces: [GEN], options: { interval_us: [100] } }, EXIT.DATA, /: \$\.options: "interval": "auto"/],
    ['bad gen value', { traces: [{ ...GEN, pages: 0 }] }, EXIT.DATA, /: \$\.traces\[0\]\.pages: expected a whole number ≥ 1, got 0/],
    ['gen key of another kind', { traces: [{ ...GEN, gen: 'seq', theta: 1 }] }, EXIT.DATA, /: \$\.traces\[0\]\.theta: applies to gen zipf only/],
    ['glob without match', { traces: ['nothing-here/*.jsonl'] }, EXIT.NO_INPUT, /: \$\.traces\[0\]: "nothing-here\/\*\.jsonl" matches no file/],
    ['missing trace', { traces: ['missing.jsonl'] }, EXIT.NO_INPUT, /: \$\.traces\[0\]: cannot read trace .*missing\.jsonl: no such file/],
  ];
  for (const [name, plan, code, message] of cases) {
    it(name, () => {
      const file = planFile(name === 'not JSON' ? 'bad-json.json' : `${name.replace(/\W+/g, '-')}.json`, plan);
      const r = pteplay(['sweep', file, '--out', join(dir, 'out-errors')]);
      expect(r.status, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(file);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('a missing plan file is exit 66', () => {
    const r = pteplay(['sweep', join(dir, 'no-such-plan.json'), '--out', join(dir, 'out-errors')]);
    expect(r.status).toBe(EXIT.NO_INPUT);
    expect(r.stderr).toMatch(/cannot read sweep plan .*no-such-plan\.json: no such file or directory/);
  });

  it('a file that is no trace is exit 65 with what it looks like', () => {
    writeFileSync(join(dir, 'notes.txt'), 'just some text\nnot a trace\n');
    const r = pteplay(['sweep', planFile('notes-plan.json', { traces: ['notes.txt'] }), '--out', join(dir, 'out-errors')]);
    expect(r.status).toBe(EXIT.DATA);
    expect(r.stderr).toMatch(/\$\.traces\[0\]: .*notes\.txt is not a trace pteplay reads or imports/);
  });
});

describe('the schema file and the plan reader agree', () => {
  it('top-level keys, option grids and gen keys', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'sweep-plan.schema.json'), 'utf8'));
    expect(Object.keys(schema.properties).sort()).toEqual([...PLAN_KEYS].sort());
    expect(Object.keys(schema.properties.options.properties).sort()).toEqual(Object.keys(OPTION_RULES).sort());
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.kernels.items.enum).toEqual(Object.keys(PROFILES));
    expect(Object.keys(schema.$defs.gen.properties).sort()).toEqual([...GEN_KEY_NAMES].sort());
  });

  it('the bundled example plan is valid', () => {
    const file = join(ROOT, 'traces', 'sweeps', 'example.json');
    const plan = parsePlan(file, JSON.parse(readFileSync(file, 'utf8')));
    expect(plan.traces.length).toBeGreaterThanOrEqual(2);
  });
});

describe('cell ids', () => {
  const base = {
    traces: [GEN, { gen: 'uniform', pages: 256, accesses: 500, seed: 3 }, 'traces/scenarios/vma-merge.jsonl'],
    lanes: ['soft-dirty', 'uffd-async'],
    kernels: ['6.1', '6.18'],
    options: { interval: [1000, 'none'], monitor_latency_us: [5, 100] },
  };
  const ids = async (plan: unknown) => {
    const p = parsePlan(join(ROOT, 'plan.json'), plan);
    return planCells(p, await resolveTraces(p, join(dir, 'hash-cache'))).map((c) => c.id);
  };

  it('are stable across runs and reorderings of traces, lanes, kernels, option values and keys', async () => {
    const a = await ids(base);
    expect(a).toHaveLength(3 * 2 * 2 * 2);
    expect(new Set(a).size).toBe(a.length);
    expect(a.every((id) => /^[0-9a-f]{12}$/.test(id))).toBe(true);
    expect(await ids(base)).toEqual(a);
    const reordered = {
      options: { monitor_latency_us: [100, 5], interval: ['none', 1000] },
      kernels: ['6.18', '6.1'],
      lanes: ['uffd-async', 'soft-dirty'],
      traces: [
        { seed: 3, accesses: 500, pages: 256, gen: 'uniform' },
        'traces/scenarios/vma-merge.jsonl',
        { seed: 1, accesses: 1000, gen: 'zipf', pages: 512 },
      ],
    };
    expect((await ids(reordered)).sort()).toEqual([...a].sort());
  });

  it('a changed plan keeps the ids of the cells it still has and adds only new ones', async () => {
    const a = await ids(base);
    const more = await ids({ ...base, kernels: ['6.1', '6.18', '6.12'] });
    expect(more).toHaveLength(a.length * 1.5);
    expect(a.every((id) => more.includes(id))).toBe(true);
    const otherSeed = await ids({ ...base, traces: [{ ...GEN, seed: 2 }, ...base.traces.slice(1)] });
    expect(otherSeed.filter((id) => a.includes(id))).toHaveLength((a.length * 2) / 3);
  });

  it('a trace file is known by its bytes: a copy under another name makes the same cells', async () => {
    const copy = join(dir, 'copy-of-merge.jsonl');
    writeFileSync(copy, readFileSync(join(ROOT, 'traces/scenarios/vma-merge.jsonl')));
    const one = await ids({ traces: ['traces/scenarios/vma-merge.jsonl'] });
    const two = await ids({ traces: [copy] });
    expect(two).toEqual(one);
  });
});

describe('shards', () => {
  // A seeded spread of costs: a few big traces and many small ones, as a real sweep has.
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const cells = Array.from({ length: 300 }, (_, i) => ({ id: `c${String(i).padStart(4, '0')}`, cost: Math.floor(1 + 1e6 * rnd() ** 4) }));

  it('are deterministic, disjoint, covering and balanced by cost', () => {
    for (const n of [1, 2, 7, 40]) {
      const of = assignShards(cells, n);
      expect(assignShards([...cells].reverse(), n)).toEqual([...of].reverse());
      const parts = Array.from({ length: n }, (_, i) => shardCells(cells, { index: i, count: n }).map((c) => c.id));
      const all = parts.flat();
      expect(all).toHaveLength(cells.length);
      expect(new Set(all).size).toBe(cells.length);
      const load = parts.map((p) => p.reduce((s, id) => s + cells.find((c) => c.id === id)!.cost, 0));
      const max = Math.max(...load);
      const total = cells.reduce((s, c) => s + c.cost, 0);
      const biggest = Math.max(...cells.map((c) => c.cost));
      // LPT: the fullest shard exceeds the mean by at most the biggest cell.
      expect(max).toBeLessThanOrEqual(total / n + biggest);
      if (n > 1) expect(Math.min(...load)).toBeGreaterThan(0);
    }
  });

  it('balance by cost, not count: one big cell gets a shard of its own', () => {
    const cs = [{ id: 'big', cost: 100 }, ...Array.from({ length: 10 }, (_, i) => ({ id: `s${i}`, cost: 10 }))];
    expect(shardCells(cs, { index: 0, count: 2 }).map((c) => c.id)).toEqual(['big']);
    expect(shardCells(cs, { index: 1, count: 2 })).toHaveLength(10);
  });

  it('auto/N maps JOB_COMPLETION_INDEX, else SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN', () => {
    expect(shardFromEnv('auto/4', { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 3, count: 4 });
    expect(shardFromEnv('auto/4', { SLURM_ARRAY_TASK_ID: '2' })).toEqual({ index: 2, count: 4 });
    expect(shardFromEnv('auto/4', { SLURM_ARRAY_TASK_ID: '11', SLURM_ARRAY_TASK_MIN: '10' })).toEqual({ index: 1, count: 4 });
    expect(shardFromEnv('auto/4', { JOB_COMPLETION_INDEX: '0', SLURM_ARRAY_TASK_ID: '3' })).toEqual({ index: 0, count: 4 });
    expect(shardFromEnv('2/4', { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 2, count: 4 });
    expect(() => shardFromEnv('auto/4', {})).toThrow(UsageError);
    expect(() => shardFromEnv('auto/4', {})).toThrow(/neither JOB_COMPLETION_INDEX .* nor SLURM_ARRAY_TASK_ID/);
    expect(() => shardFromEnv('auto/4', { JOB_COMPLETION_INDEX: '4' })).toThrow(/shard index 4 is out of range 0\.\.3/);
    expect(() => shardFromEnv('auto/4', { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '2' })).toThrow(/out of range/);
    expect(() => shardFromEnv('auto/4', { JOB_COMPLETION_INDEX: 'x' })).toThrow(/is not a whole number/);
    expect(() => shardFromEnv('4/4', {})).toThrow(/out of range/);
    expect(() => shardFromEnv('1/0', {})).toThrow(/at least 1/);
    expect(() => shardFromEnv('1-4', {})).toThrow(/expected I\/N/);
  });

  it('the CLI exits 64 on a bad --shard, naming the variable', () => {
    const r = pteplay(['sweep', planFile('shard-plan.json', { traces: [GEN] }), '--out', join(dir, 'out-shard'), '--shard', 'auto/2']);
    expect(r.status).toBe(EXIT.USAGE);
    expect(r.stderr).toMatch(/neither JOB_COMPLETION_INDEX/);
  });
});
