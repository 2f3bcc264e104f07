/**
 * A local parallel sweep: N child processes of the pteplay CLI, each running `sweep PLAN --out DIR
 * --shard i/N` (the same shards a cluster runs), reporting their events as JSON lines on stdout, which
 * are passed on here as they come; their stderr lines are passed on too. stop() sends every child a
 * signal; the promise resolves once all have exited, with how each ended.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { SweepEvent, ShardSummary } from './sweep.js';

export interface ChildEnd {
  shard: number;
  /** Exit status, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  summary: ShardSummary | null;
}

export interface LocalSweep {
  done: Promise<ChildEnd[]>;
  stop(signal: NodeJS.Signals): void;
}

/** One line a child writes on stdout: an event, or its summary at the end. */
export type ChildLine = { event: SweepEvent } | { summary: ShardSummary };

export function runLocalShards(o: {
  /** node, its flags and the CLI entry: the command of a child before its arguments. */
  command: string[];
  /** The arguments of child i of n. */
  args: (i: number, n: number) => string[];
  jobs: number;
  onEvent: (shard: number, e: SweepEvent) => void;
  onStderr: (shard: number, line: string) => void;
}): LocalSweep {
  const children: ChildProcess[] = [];
  const ends: Promise<ChildEnd>[] = [];
  for (let i = 0; i < o.jobs; i++) {
    const child = spawn(o.command[0]!, [...o.command.slice(1), ...o.args(i, o.jobs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let summary: ShardSummary | null = null;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg: ChildLine;
      try {
        msg = JSON.parse(line) as ChildLine;
      } catch {
        o.onStderr(i, line);
        return;
      }
      if ('event' in msg) o.onEvent(i, msg.event);
      else summary = msg.summary;
    });
    const errLines = createInterface({ input: child.stderr! });
    errLines.on('line', (line) => o.onStderr(i, line));
    ends.push(
      new Promise((resolve) => {
        child.on('close', (code, signal) => resolve({ shard: i, code, signal, summary }));
        child.on('error', (e) => {
          o.onStderr(i, `cannot start shard ${i}/${o.jobs}: ${e.message}`);
          resolve({ shard: i, code: null, signal: null, summary: null });
        });
      }),
    );
  }
  return {
    done: Promise.all(ends),
    stop(signal) {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
    },
  };
}
