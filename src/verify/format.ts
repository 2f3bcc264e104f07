/**
 * The text `pteplay verify` prints: the probe as a table with the arguments to paste into `pteplay
 * replay`, and a verify run's summary with the first divergence minimised, side by side.
 */
import { type HostProbe, probeTable, replayArgs } from './probe.js';
import type { VerifySummary } from './run-verify.js';

export function formatProbe(p: HostProbe): string {
  const rows = probeTable(p);
  const w = Math.max(...rows.map(([k]) => k.length));
  return [
    ...rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`),
    '',
    'pteplay replay arguments that simulate this kernel:',
    `  ${replayArgs(p).join(' ')}`,
  ].join('\n');
}

/** The probe as JSON: every answer, and the replay arguments. */
export function probeJson(p: HostProbe) {
  return { ...p, replayArgs: replayArgs(p) };
}

function setup(s: VerifySummary): string {
  const opts = s.kernelOpts.length > 0 ? ` ${s.kernelOpts.map((o) => `--kernel-opt ${o}`).join(' ')}` : '';
  const un = s.unmodelled.length > 0 ? `; not simulated by this build: ${s.unmodelled.join(', ')}` : '';
  return (
    `verify: ${s.backend} kernel ${s.release} against the simulator --kernel ${s.profile}${opts}, ` +
    `thp ${s.sysfs.thp}, swap ${s.sysfs.swap ? 'on' : 'off'}${un}`
  );
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const list = (xs: (string | number)[], max = 10) => xs.slice(0, max).join(', ') + (xs.length > max ? `, … (${xs.length - max} more)` : '');

export function formatVerify(s: VerifySummary): string {
  const what =
    s.mode === 'trace'
      ? `${s.trace}: ${s.commands} commands`
      : `${s.sequences} sequences (seeds ${s.seed}..${s.seed! + s.sequences - 1}, ${s.ops} ops each, ${s.commands} commands)`;
  const lines = [setup(s)];
  if (s.first === null) {
    lines.push(`verify: ${what}: no divergence`);
    return lines.join('\n');
  }
  lines.push(`verify: ${what}: ${s.mode === 'trace' ? 'diverges' : `${s.divergent.length} diverge (seeds ${list(s.divergent)})`}`);
  const d = s.first;
  const m = d.first;
  lines.push(
    '',
    `first divergence: ${s.mode === 'trace' ? d.sequence : `seed ${d.sequence}`}, command ${m.index} of ${d.commands}: ${m.cmd}`,
    `  kernel: ${m.kernel}`,
    `  sim:    ${m.sim}`,
  );
  const min = d.minimized;
  lines.push(
    '',
    `minimised to ${plural(min.commands.length, 'command')} (from ${m.index + 1}, ${plural(min.batches, 'kreplay batch', 'kreplay batches')}); kernel and simulator answers:`,
  );
  const w = Math.max(...min.answers.map((a) => a.command.length));
  min.answers.forEach((a, i) => {
    if (a.differs) {
      lines.push(`* ${String(i).padStart(3)}  ${a.command}`, `        kernel: ${a.kernel}`, `        sim:    ${a.sim}`);
    } else {
      lines.push(`  ${String(i).padStart(3)}  ${a.command.padEnd(w)}  ${a.kernel}`);
    }
  });
  lines.push('', 'as trace records (save as a .jsonl file: pteplay replay and pteplay verify take it):', ...min.records.map((r) => `  ${r}`));
  return lines.join('\n');
}
