/**
 * `pteplay verify`: check the simulator against a real kernel (src/verify/run-verify.ts), or say
 * which profile and switches describe this machine's kernel (`--probe`, src/verify/probe.ts).
 */
import type { Command } from 'commander';
import { EXIT, UsageError } from '../src/errors.js';
import { DEFAULT_PROFILE, PROFILES, profileList, resolveProfile } from '../src/kernel/profile.js';
import { hostBackend, vmBackend } from '../src/verify/backend.js';
import { formatProbe, formatVerify, probeJson } from '../src/verify/format.js';
import { runVerify, type VerifySummary, type VerifyTarget } from '../src/verify/run-verify.js';
import { parseCount } from './options.js';

const collectRepeat = (v: string, prev: string[]) => [...prev, v];

interface VerifyCliOptions {
  fuzz?: number;
  seed?: number;
  ops?: number;
  probe?: boolean;
  kernel?: string;
  kernelOpt: string[];
  vm?: string;
  json?: boolean;
}

function target(trace: string | undefined, o: VerifyCliOptions): VerifyTarget {
  const given = [trace !== undefined, o.fuzz !== undefined, o.probe === true].filter(Boolean).length;
  if (given !== 1) throw new UsageError('verify: give one of TRACE, --fuzz N or --probe');
  if (o.fuzz === undefined && (o.seed !== undefined || o.ops !== undefined)) throw new UsageError('verify: --seed and --ops go with --fuzz N');
  if (o.fuzz === 0) throw new UsageError('option --fuzz: expected at least 1 sequence');
  return trace !== undefined ? { kind: 'trace', path: trace } : { kind: 'fuzz', sequences: o.fuzz!, seed: o.seed ?? 1, ops: o.ops ?? 40 };
}

export function register(program: Command): void {
  program
    .command('verify')
    .description(
      "check the simulator against a real kernel: run a trace's ops (or random op sequences) on the kernel and in the\n" +
        'simulator, compare every return value, errno, pagemap bit, PAGEMAP_SCAN region, VMA and uffd message,\n' +
        'and print the first difference shrunk to a minimal op sequence',
    )
    .argument('[trace]', 'trace file to run (one process; its memory is moved into a 64 MiB window)')
    .option('--fuzz <n>', 'run N seeded random op sequences instead of a trace', parseCount('--fuzz'))
    .option('--seed <s>', 'first seed of --fuzz (default 1; sequence i uses seed S+i)', parseCount('--seed'))
    .option('--ops <k>', 'operations per --fuzz sequence (default 40)', parseCount('--ops'))
    .option('--probe', "print which profile and switches describe this machine's kernel, and the replay arguments that simulate it")
    .option('--kernel <version>', `simulator profile: ${profileList()}; default: the one nearest the kernel's release`)
    .option('--kernel-opt <key=value>', 'override one simulator switch after the probed ones (repeatable), e.g. zero_page=on', collectRepeat, [])
    .option(
      '--vm <version>',
      'run the kernel side in qemu: 6.1 or 6.12 (the newest Debian package, kept in $PTEPLAY_KERNEL_CACHE, default ~/.cache/pteplay/kernels) or the path of a vmlinuz',
    )
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText(
      'after',
      `
The kernel side runs tools/kreplay (built with gcc on first use) on this machine's kernel: x86-64
Linux, and userfaultfd must be permitted (root, or sysctl vm.unprivileged_userfaultfd=1) for
sequences that use it. The simulator is set up to describe that kernel: the profile nearest its
release (--kernel to choose another), the switches probed on it (zero page, soft-dirty compiled in,
WP_ASYNC, WP_UNPOPULATED, PAGEMAP_SCAN and its categories), this machine's THP mode and swap; then
your --kernel-opt values. pteplay replay never follows the host by itself: paste the arguments
--probe prints to simulate this kernel there.

A trace runs as one process (no fork, brk, pin or DMA records); reset, collect and mark records
are points where the state is observed (pagemap, PAGEMAP_SCAN, VMAs, uffd messages), as is the end
of every operation. The first divergence is shrunk by delta debugging: the commands after it go,
then chunks and single commands before it while the same command still differs. The result is
printed as kreplay commands with both answers and as trace records to save and replay.

Exit status: 0 no divergence, 1 a divergence (the first one printed), 69 no kernel to check against
(the message says what is missing: qemu, a static busybox or gcc for --vm).

Examples:
  pteplay verify traces/scenarios/vma-merge.jsonl
  pteplay verify --fuzz 200 --seed 7
  pteplay verify --fuzz 20 --ops 80 --json > verify.json
  pteplay verify --probe
  pteplay verify --fuzz 50 --kernel-opt zero_page=on     # a model this host contradicts: exit 1`,
    )
    .action(async (trace: string | undefined, o: VerifyCliOptions) => {
      const t = o.probe ? null : target(trace, o);
      if (o.probe && (trace !== undefined || o.fuzz !== undefined)) target(trace, o);
      if (o.kernel !== undefined && !(o.kernel in PROFILES)) {
        throw new UsageError(`option --kernel: unknown profile "${o.kernel}" (expected one of ${Object.keys(PROFILES).join(', ')})`);
      }
      try {
        resolveProfile(o.kernel ?? DEFAULT_PROFILE, o.kernelOpt); // every profile has the same switches
      } catch (e) {
        throw new UsageError(`option --kernel-opt: ${(e as Error).message}`);
      }
      if (t === null) {
        if (o.vm !== undefined) throw new UsageError("--probe asks this machine's kernel: give it without --vm");
        const probe = hostBackend().probe;
        process.stdout.write(o.json ? `${JSON.stringify(probeJson(probe), null, 2)}\n` : `${formatProbe(probe)}\n`);
        return;
      }
      const backend = o.vm !== undefined ? await vmBackend(o.vm) : hostBackend();
      const tty = process.stderr.isTTY && !o.json;
      const progress = (done: number, total: number, bad: number) => {
        if (tty && total > 1) process.stderr.write(`\r\x1b[Kverify: ${done}/${total} sequences, ${bad} divergent`);
      };
      const shrinking = (seq: string | number, batches: number) => {
        if (tty)
          process.stderr.write(
            `\r\x1b[Kverify: shrinking the first divergence (${typeof seq === 'number' ? `seed ${seq}` : seq}): kreplay batch ${batches}`,
          );
      };
      let summary: VerifySummary;
      try {
        summary = await runVerify({ target: t, backend, kernel: o.kernel, kernelOpts: o.kernelOpt, onProgress: progress, onShrink: shrinking });
      } finally {
        if (tty) process.stderr.write('\r\x1b[K');
      }
      if (!o.json) for (const w of summary.warnings) process.stderr.write(`pteplay: warning: ${w}\n`);
      process.stdout.write(o.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatVerify(summary)}\n`);
      if (summary.first !== null) process.exitCode = EXIT.DIVERGENCE;
    });
}
