/**
 * Trace generators: PRNG and zipf sampler against references, then every generator kind for
 * determinism, exact counts, the prelude, address bounds, write ratio, kind-specific shape, and
 * streaming at 5 M accesses; finally the `pteplay gen` command end to end.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../cli/gen.js';
import { UsageError } from '../src/errors.js';
import { PAGE_SIZE } from '../src/mm/uapi.js';
import { CHUNK_RECORDS } from '../src/trace/chunk.js';
import {
  genChurn,
  genPhased,
  genSeq,
  genThreads,
  genUniform,
  genZipf,
  GENERATORS,
  GEN_KINDS,
  type AnyGenOptions,
} from '../src/trace/generators/index.js';
import { DEFAULT_BASE } from '../src/trace/generators/options.js';
import { Rng } from '../src/trace/generators/rng.js';
import { zipfHotPages } from '../src/trace/generators/zipfian.js';
import { ZipfSampler, zipfTopShare } from '../src/trace/generators/zipf.js';
import { openTrace } from '../src/trace/reader.js';
import { REC_OP, REC_READ, REC_WRITE, type TraceChunk, type TraceOp } from '../src/trace/types.js';

/** A whole (small) trace as plain columns. */
interface Flat {
  kind: number[];
  pid: number[];
  tid: number[];
  time: number[];
  addr: number[];
  size: number[];
  flags: number[];
  /** ops[i] for op records, undefined for accesses. */
  op: (TraceOp | undefined)[];
  chunks: number;
}

function flatten(chunks: Iterable<TraceChunk>): Flat {
  const f: Flat = { kind: [], pid: [], tid: [], time: [], addr: [], size: [], flags: [], op: [], chunks: 0 };
  let pos = 0;
  for (const c of chunks) {
    expect(c.pos0).toBe(pos);
    f.chunks++;
    let k = 0;
    for (let i = 0; i < c.n; i++) {
      f.kind.push(c.kind[i]!);
      f.pid.push(c.pid[i]!);
      f.tid.push(c.tid[i]!);
      f.time.push(c.time[i]!);
      f.addr.push(c.addr[i]!);
      f.size.push(c.size[i]!);
      f.flags.push(c.flags[i]!);
      f.op.push(c.kind[i] === REC_OP ? c.ops[k++] : undefined);
    }
    expect(k).toBe(c.ops.length);
    pos += c.n;
  }
  return f;
}

function accessIdx(f: Flat): number[] {
  const out: number[] = [];
  for (let i = 0; i < f.kind.length; i++) if (f.kind[i] !== REC_OP) out.push(i);
  return out;
}

/** Indices of the workload accesses (after the reset op). */
function workload(f: Flat): number[] {
  const reset = f.op.findIndex((o) => o?.op === 'reset');
  return accessIdx(f).filter((i) => i > reset);
}

const base: AnyGenOptions = { seed: 7, pages: 512, accesses: 20_000 };

describe('Rng (xoshiro128** seeded by splitmix32)', () => {
  it('matches the reference C implementation', () => {
    // Reference values from Vigna's xoshiro128starstar.c with s = {1, 2, 3, 4}.
    const r = Rng.fromState(1, 2, 3, 4);
    expect(Array.from({ length: 10 }, () => r.u32())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804,
    ]);
    // The same C code seeded by splitmix32(42) for the four state words.
    const q = new Rng(42);
    expect(Array.from({ length: 5 }, () => q.u32())).toEqual([2837322924, 544945897, 479756282, 3500138142, 339756180]);
  });

  it('below(n) is in range and unbiased (chi-square), for small and huge n', () => {
    const r = new Rng(3);
    const n = 10;
    const counts = new Array<number>(n).fill(0);
    const draws = 200_000;
    for (let i = 0; i < draws; i++) counts[r.below(n)]!++;
    const e = draws / n;
    const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(27.9); // p = 0.001 for 9 degrees of freedom
    const big = 3_000_000_000;
    let hiHalf = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r.below(big);
      if (!(Number.isInteger(x) && x >= 0 && x < big)) outside++;
      if (x >= big / 2) hiHalf++;
    }
    expect(outside).toBe(0);
    expect(Math.abs(hiHalf / 100_000 - 0.5)).toBeLessThan(0.01);
  });

  it('float() is in [0, 1) with mean 1/2', () => {
    const r = new Rng(9);
    let s = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r.float();
      if (!(x >= 0 && x < 1)) outside++;
      s += x;
    }
    expect(outside).toBe(0);
    expect(Math.abs(s / 100_000 - 0.5)).toBeLessThan(0.005);
  });
});

describe('ZipfSampler (rejection-inversion)', () => {
  for (const theta of [0, 0.5, 0.99, 1, 1.5]) {
    it(`rank frequencies match 1/k^${theta}`, () => {
      const n = 1000;
      const z = new ZipfSampler(n, theta);
      const r = new Rng(11);
      const counts = new Float64Array(n + 1);
      const draws = 400_000;
      let outside = 0;
      for (let i = 0; i < draws; i++) {
        const k = z.sample(r);
        if (k >= 1 && k <= n && Number.isInteger(k)) counts[k]!++;
        else outside++;
      }
      expect(outside).toBe(0);
      let h = 0;
      for (let k = 1; k <= n; k++) h += k ** -theta;
      for (const k of [1, 2, 3, 10, 100]) {
        const p = k ** -theta / h;
        const sd = Math.sqrt(draws * p * (1 - p));
        expect(Math.abs(counts[k]! - draws * p)).toBeLessThan(5 * sd + 1);
      }
    });
  }
});

describe.each(GEN_KINDS)('generator %s', (kind) => {
  const gen = GENERATORS[kind];
  const opts: AnyGenOptions = { ...base, opEvery: 200 };

  it('is deterministic for a seed and differs across seeds', () => {
    const a = flatten(gen(opts));
    const b = flatten(gen(opts));
    expect(b).toEqual(a);
    const c = flatten(gen({ ...opts, seed: 8 }));
    expect([c.addr, c.kind]).not.toEqual([a.addr, a.kind]); // seq's addresses do not depend on the seed; its kinds do
  });

  it('starts with mmap, warm-up writes of every page, and a reset; emits exactly the accesses asked', () => {
    const f = flatten(gen(opts));
    const firstMmap = f.op.findIndex((o) => o?.op === 'mmap');
    const mm = f.op[firstMmap]!;
    expect(mm).toEqual({
      op: 'mmap',
      pid: 1,
      t: 0,
      addr: DEFAULT_BASE,
      len: 512 * PAGE_SIZE,
      prot: { read: true, write: true, exec: false },
      flags: ['private', 'anonymous', 'fixed'],
      backing: { kind: 'anon' },
      offset: 0,
    });
    // Only an exec (churn with brk) may precede it.
    for (let i = 0; i < firstMmap; i++) expect(f.op[i]?.op).toBe('exec');
    const warm = f.addr.slice(firstMmap + 1, firstMmap + 1 + 512);
    expect(warm).toEqual(Array.from({ length: 512 }, (_, p) => DEFAULT_BASE + p * PAGE_SIZE));
    expect(f.kind.slice(firstMmap + 1, firstMmap + 1 + 512).every((k) => k === REC_WRITE)).toBe(true);
    expect(f.op[firstMmap + 1 + 512]).toMatchObject({ op: 'reset', pid: 1, addr: 0, len: 0 });
    expect(workload(f).length).toBe(20_000);
    expect(accessIdx(f).length).toBe(20_000 + 512);
    const opCount = f.op.filter((o) => o !== undefined).length;
    if (kind === 'phased') expect(opCount).toBe(2 + 4);
    else if (kind !== 'churn') expect(opCount).toBe(2);
  });

  it('without warm-up goes straight from mmap to reset', () => {
    const f = flatten(gen({ ...opts, warmup: false, accesses: 100 }));
    const m = f.op.findIndex((o) => o?.op === 'mmap');
    expect(f.op[m + 1]?.op).toBe('reset');
    expect(accessIdx(f).length).toBe(100);
  });

  it('keeps time non-decreasing and stamps access i at i * nsPerAccess', () => {
    const f = flatten(gen({ ...opts, nsPerAccess: 3 }));
    const acc = accessIdx(f);
    expect(acc.map((i) => f.time[i])).toEqual(acc.map((_, j) => j * 3));
    let backwards = 0;
    for (let i = 1; i < f.time.length; i++) if (f.time[i]! < f.time[i - 1]!) backwards++;
    expect(backwards).toBe(0);
  });

  it('emits a whole-process collect every --interval accesses and one at the end', () => {
    const f = flatten(gen({ ...opts, interval: 3000 }));
    const collects = f.op.filter((o) => o?.op === 'collect');
    expect(collects.length).toBe(Math.ceil(20_000 / 3000));
    expect(collects[0]).toMatchObject({ op: 'collect', pid: 1, addr: 0, len: 0, reset: true });
    expect(f.op[f.op.length - 1]?.op === 'collect' || f.op[f.op.length - 1]?.op === 'exit').toBe(true);
  });

  if (kind !== 'churn') {
    it('stays inside the mapping, with the access size, and respects --write-ratio', () => {
      for (const writeRatio of [0, 0.3, 1]) {
        const f = flatten(gen({ ...opts, writeRatio, accessSize: 64 }));
        const w = workload(f);
        let writes = 0;
        const bad: string[] = [];
        for (const i of w) {
          const a = f.addr[i]!;
          const ok =
            a >= DEFAULT_BASE &&
            a + 64 <= DEFAULT_BASE + 512 * PAGE_SIZE &&
            a % 64 === 0 &&
            Math.floor(a / PAGE_SIZE) === Math.floor((a + 63) / PAGE_SIZE) && // never spans pages
            f.size[i] === 64 &&
            (f.kind[i] === REC_WRITE || f.kind[i] === REC_READ);
          if (!ok) bad.push(`#${i}: 0x${a.toString(16)} size ${f.size[i]} kind ${f.kind[i]}`);
          if (f.kind[i] === REC_WRITE) writes++;
        }
        expect(bad.slice(0, 5)).toEqual([]);
        expect(Math.abs(writes / w.length - writeRatio)).toBeLessThan(0.015);
      }
    });
  }
});

describe('kind-specific shape', () => {
  it('seq sweeps the pages in order, wrapping', () => {
    const f = flatten(genSeq({ ...base, accesses: 1200 }));
    const pages = workload(f).map((i) => ((f.addr[i]! - DEFAULT_BASE) / PAGE_SIZE) | 0);
    expect(pages).toEqual(Array.from({ length: 1200 }, (_, i) => i % 512));
  });

  it('uniform covers the pages evenly', () => {
    const f = flatten(genUniform({ ...base, accesses: 512 * 200 }));
    const counts = new Array<number>(512).fill(0);
    for (const i of workload(f)) counts[((f.addr[i]! - DEFAULT_BASE) / PAGE_SIZE) | 0]!++;
    const chi2 = counts.reduce((s, c) => s + (c - 200) ** 2 / 200, 0);
    expect(chi2).toBeLessThan(650); // 511 degrees of freedom: mean 511, sd 32
  });

  it('zipf: the top 1 % of pages get the analytic share, and they are scattered', () => {
    const pages = 10_000;
    const accesses = 500_000;
    for (const theta of [0.99, 0.8]) {
      const f = flatten(genZipf({ seed: 5, pages, accesses, theta }));
      const counts = new Float64Array(pages);
      for (const i of workload(f)) counts[((f.addr[i]! - DEFAULT_BASE) / PAGE_SIZE) | 0]!++;
      const sorted = Array.from(counts).sort((a, b) => b - a);
      const top = sorted.slice(0, 100).reduce((s, c) => s + c, 0) / accesses;
      const expected = zipfTopShare(pages, theta, 100);
      expect(expected).toBeGreaterThan(0.3);
      expect(Math.abs(top - expected)).toBeLessThan(0.01);
      // The hottest page is the one the permutation put at rank 1, and hot pages are spread out.
      const perm = zipfHotPages(5, pages);
      expect(counts[perm[0]!]).toBe(sorted[0]);
      const hot = Array.from(perm.slice(0, 100));
      const mean = hot.reduce((s, p) => s + p, 0) / hot.length;
      expect(mean).toBeGreaterThan(pages * 0.3);
      expect(mean).toBeLessThan(pages * 0.7);
    }
  });

  it('phased: each phase stays inside the window its mark announces', () => {
    const f = flatten(genPhased({ ...base, accesses: 10_001, phases: 3, phasePages: 40 }));
    let window: [number, number] | undefined;
    let inPhase = 0;
    const perPhase: number[] = [];
    const start = f.op.findIndex((o) => o?.op === 'reset');
    for (let i = start + 1; i < f.kind.length; i++) {
      const o = f.op[i];
      if (o?.op === 'mark') {
        const m = /pages (\d+)\.\.(\d+)/.exec(o.label)!;
        window = [Number(m[1]), Number(m[2])];
        expect(window[1] - window[0] + 1).toBe(40);
        if (inPhase) perPhase.push(inPhase);
        inPhase = 0;
        continue;
      }
      const p = ((f.addr[i]! - DEFAULT_BASE) / PAGE_SIZE) | 0;
      expect(p >= window![0] && p <= window![1]).toBe(true);
      inPhase++;
    }
    perPhase.push(inPhase);
    expect(perPhase).toEqual([3334, 3334, 3333]);
  });

  it('threads: tids pid*1000+k, private slices never shared, round-robin bursts', () => {
    const f = flatten(genThreads({ ...base, threads: 3, sharedPages: 128, sharedRatio: 0.2, burst: 4 }));
    const w = workload(f);
    const slice = Math.floor((512 - 128) / 3);
    const sharedHits = new Map<number, number>();
    w.forEach((i, j) => {
      const tid = f.tid[i]!;
      expect(tid).toBe(1000 + (Math.floor(j / 4) % 3));
      expect(f.pid[i]).toBe(1);
      const p = ((f.addr[i]! - DEFAULT_BASE) / PAGE_SIZE) | 0;
      if (p < 128) sharedHits.set(tid, (sharedHits.get(tid) ?? 0) + 1);
      else expect(Math.floor((p - 128) / slice)).toBe(tid - 1000);
    });
    for (const k of [1000, 1001, 1002]) expect(Math.abs(sharedHits.get(k)! / (w.length / 3) - 0.2)).toBeLessThan(0.03);
  });

  it('--threads on other kinds spreads accesses over tids pid*1000+k', () => {
    const f = flatten(genUniform({ ...base, threads: 2, accesses: 64 }));
    const tids = workload(f).map((i) => f.tid[i]);
    expect(tids).toEqual(Array.from({ length: 64 }, (_, j) => 1000 + (Math.floor(j / 16) % 2)));
  });
});

describe('option validation', () => {
  const bad: [string, AnyGenOptions, RegExp][] = [
    ['pages', { ...base, pages: 0 }, /--pages/],
    ['accesses', { ...base, accesses: -1 }, /--accesses/],
    ['seed', { ...base, seed: 2 ** 32 }, /--seed/],
    ['write ratio', { ...base, writeRatio: 1.5 }, /--write-ratio/],
    ['threads', { ...base, threads: 1000 }, /--threads/],
    ['base alignment', { ...base, base: DEFAULT_BASE + 4096 }, /--base/],
    ['base overflow', { ...base, base: 0x7fffffe00000, pages: 1024 }, /--pages.*top of user space/],
    ['access size', { ...base, accessSize: 8192 }, /--access-size/],
    ['interval', { ...base, interval: 0 }, /--interval/],
  ];
  for (const [what, o, re] of bad) {
    it(`rejects a bad ${what} when the generator is created`, () => {
      for (const g of [genSeq, genUniform]) expect(() => g(o)).toThrow(UsageError);
      expect(() => genSeq(o)).toThrow(re);
    });
  }
  it('rejects kind options out of range', () => {
    expect(() => genZipf({ ...base, theta: -1 })).toThrow(/--theta/);
    expect(() => genPhased({ ...base, phasePages: 513 })).toThrow(/--phase-pages/);
    expect(() => genPhased({ ...base, phases: 0 })).toThrow(/--phases/);
    expect(() => genThreads({ ...base, threads: 600 })).toThrow(/--pages.*600 threads/);
    expect(() => genChurn({ ...base, opEvery: 0 })).toThrow(/--op-every/);
    expect(() => genChurn({ ...base, base: 0x200000 })).toThrow(/--base.*brk/);
  });
});

describe('streaming', () => {
  it('generates 5 M accesses chunk by chunk without holding them', () => {
    let records = 0;
    let chunks = 0;
    let peak = 0;
    for (const c of genUniform({ seed: 1, pages: 65536, accesses: 5_000_000 })) {
      expect(c.n).toBeLessThanOrEqual(CHUNK_RECORDS);
      expect(c.pos0).toBe(records);
      records += c.n;
      chunks++;
      if (chunks % 8 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }
    expect(records).toBe(5_000_000 + 65536 + 2);
    expect(chunks).toBe(Math.ceil(records / CHUNK_RECORDS));
    // One chunk of 64 K records is 2.4 MiB; all of them would be about 190 MiB.
    expect(peak).toBeLessThan(120 * 1024 * 1024);
  });
});

describe('pteplay gen', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pteplay-gen-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function gen(args: string[]): Promise<string> {
    const program = new Command('pteplay').exitOverride();
    register(program);
    for (const c of program.commands) c.exitOverride();
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => {
      err.push(String(s));
      return true;
    }) as typeof process.stderr.write;
    try {
      await program.parseAsync(['node', 'pteplay', 'gen', ...args]);
    } finally {
      process.stderr.write = write;
    }
    return err.join('');
  }

  it('writes a trace whose header source reproduces it byte for byte', async () => {
    const out1 = join(dir, 'a.ptrace');
    const summary = await gen(['zipf', '--pages', '2k', '--accesses', '30000', '--seed', '3', '--theta', '0.8', '-o', out1]);
    expect(summary).toMatch(/^pteplay gen: zipf → .*a\.ptrace: 32002 records \(32000 accesses, 2 ops\), msgpack, .* s\n$/);
    const t = await openTrace(out1);
    expect(t.format).toBe('msgpack');
    const source = t.header.source!;
    expect(source).toBe(
      'pteplay gen zipf --pages 2000 --accesses 30000 --seed 3 --write-ratio 0.5 --threads 1 ' +
        '--base 0x7f0000000000 --access-size 8 --ns-per-access 10 --theta 0.8',
    );
    const direct = flatten(genZipf({ seed: 3, pages: 2000, accesses: 30000, theta: 0.8 }));
    let n = 0;
    const addrs: number[] = [];
    for await (const c of t.chunks) {
      for (let i = 0; i < c.n; i++) addrs.push(c.addr[i]!);
      n += c.n;
    }
    expect(n).toBe(direct.kind.length);
    expect(addrs).toEqual(direct.addr);
    const out2 = join(dir, 'b.ptrace');
    await gen([...source.split(' ').slice(2), '-o', out2]);
    expect(Buffer.compare(await readFile(out1), await readFile(out2))).toBe(0);
  });

  it('reproduces churn from its source line, in JSON Lines', async () => {
    const out1 = join(dir, 'c.jsonl');
    await gen(['churn', '--pages', '256', '--accesses', '20000', '--op-every', '50', '--ops', 'fork,mremap:2', '--no-warmup', '-o', out1]);
    const t = await openTrace(out1);
    expect(t.header.source).toMatch(/--no-warmup --op-every 50 --ops mremap,fork$/);
    const out2 = join(dir, 'd.jsonl');
    await gen([...t.header.source!.split(' ').slice(2), '-o', out2]);
    expect(await readFile(out2, 'utf8')).toBe(await readFile(out1, 'utf8'));
  });

  it('rejects bad values with a UsageError naming the option (exit 64), before creating the file', async () => {
    const out = join(dir, 'never.ptrace');
    const cases: [string[], RegExp][] = [
      [['zipf', '--pages', 'lots'], /option --pages/],
      [['zipf', '--write-ratio', 'half'], /option --write-ratio/],
      [['zipf', '--seed', '4294967296'], /option --seed/],
      [['zipf', '--theta', '-2'], /option --theta/],
      [['uniform', '--theta', '0.5'], /option --theta: applies to zipf only/],
      [['churn', '--ops', 'mmap,teleport'], /option --ops: unknown item "teleport"/],
      [['seq', '--base', '0x7f0000001000'], /option --base/],
      [['nosuch'], /unknown kind "nosuch"/],
    ];
    for (const [args, re] of cases) {
      const p = gen([...args, '-o', out]);
      await expect(p).rejects.toThrow(re);
      await expect(p).rejects.toMatchObject({ exitCode: 64 });
    }
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  });
});
