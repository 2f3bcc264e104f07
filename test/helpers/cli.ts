import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run the built `pteplay` CLI as a user would (a real process, real files). */
export function pteplay(args: string[], cwd = ROOT): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'pteplay.js'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
