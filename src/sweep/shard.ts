/**
 * Which cells a shard runs. `--shard I/N` (I from 0): every shard computes the same assignment from the
 * plan alone, longest processing time first: cells by cost (trace size × lanes) descending, ties by
 * cell id, each to the shard with the least cost so far (ties: the lower index). That balances by
 * size, not count, and needs no coordination: shards share nothing but the output directory.
 * `--shard auto/N` takes I from the engine that started the process: JOB_COMPLETION_INDEX (a
 * Kubernetes Indexed Job), else SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN (a Slurm array; MIN 0 when unset).
 */
import { UsageError } from '../errors.js';

export interface Shard {
  index: number;
  count: number;
}

/** Parse `--shard`: `I/N` (0 ≤ I < N), or `auto/N` with I from JOB_COMPLETION_INDEX, else SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN. */
export function shardFromEnv(spec: string, env: NodeJS.ProcessEnv): Shard {
  const m = /^\s*(\d+|auto)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!m) throw new UsageError(`option --shard: expected I/N (e.g. 3/40, I from 0) or auto/N, got "${spec}"`);
  const count = Number(m[2]);
  if (m[1] !== 'auto') return checked(Number(m[1]), count, `option --shard ${spec}`);
  const whole = (name: string): number => {
    const v = env[name]!.trim();
    if (!/^\d+$/.test(v)) throw new UsageError(`option --shard ${spec}: ${name}="${env[name]}" is not a whole number`);
    return Number(v);
  };
  if (env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETION_INDEX !== '') {
    return checked(whole('JOB_COMPLETION_INDEX'), count, `option --shard ${spec}: JOB_COMPLETION_INDEX`);
  }
  if (env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_ID !== '') {
    const min = env.SLURM_ARRAY_TASK_MIN !== undefined && env.SLURM_ARRAY_TASK_MIN !== '' ? whole('SLURM_ARRAY_TASK_MIN') : 0;
    return checked(whole('SLURM_ARRAY_TASK_ID') - min, count, `option --shard ${spec}: SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN`);
  }
  throw new UsageError(
    `option --shard ${spec}: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm array) is set: give --shard I/N`,
  );
}

function checked(index: number, count: number, what: string): Shard {
  if (count < 1) throw new UsageError(`${what}: the shard count must be at least 1`);
  if (index < 0 || index >= count) throw new UsageError(`${what}: shard index ${index} is out of range 0..${count - 1}`);
  return { index, count };
}

/** The shard of every cell (by position in `cells`), longest first. */
export function assignShards(cells: readonly { id: string; cost: number }[], count: number): number[] {
  const order = cells
    .map((_, i) => i)
    .sort((a, b) => cells[b]!.cost - cells[a]!.cost || (cells[a]!.id < cells[b]!.id ? -1 : cells[a]!.id > cells[b]!.id ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  const shard = new Array<number>(cells.length);
  for (const i of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s;
    shard[i] = best;
    load[best]! += cells[i]!.cost;
  }
  return shard;
}

/** The cells of one shard, longest first (the order it runs them). */
export function shardCells<T extends { id: string; cost: number }>(cells: readonly T[], shard: Shard): T[] {
  const of = assignShards(cells, shard.count);
  return cells.filter((_, i) => of[i] === shard.index).sort((a, b) => b.cost - a.cost || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
