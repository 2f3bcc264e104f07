/**
 * Where `pteplay verify` runs the real kernel side: this machine's kernel (the host backend) or a
 * kernel booted in qemu (the VM backend, `--vm VERSION`). Both run batches of kreplay command
 * lists and say which kernel answered and how the simulator must be set up to describe it.
 */
import { spawnSync } from 'node:child_process';
import { EXIT, PteplayError } from '../errors.js';
import type { Sysfs } from '../mm/system.js';
import { kreplayBinary, runKernel } from './kreplay.js';
import { probedKernelOpts, probeHost, type HostProbe } from './probe.js';
import { resolveKernel, runInVm, vmCommands, vmMissing } from './vm.js';
import { resolveProfile } from '../kernel/profile.js';

export interface VerifyBackend {
  name: 'host' | 'vm';
  /** The kernel's `uname -r`. */
  release: string;
  /** The profile nearest that release (the simulator's default profile). */
  profile: string;
  /** THP mode, THP zero page and swap of the machine the kernel runs on. */
  sysfs: Sysfs;
  /** Can the trace's userfaultfd calls run (root, or vm.unprivileged_userfaultfd=1)? */
  userfaultfd: boolean;
  /** The probed switches as `--kernel-opt` values relative to `profile`, and those this build cannot simulate. */
  kernelOpts(profile: string): { kernelOpts: string[]; unmodelled: string[] };
  /** Run command lists on the kernel: one list of result lines per command list. */
  run(traces: string[][]): Promise<string[][]>;
  /** Command lists per run (a kreplay process, a VM boot). */
  batch: number;
  /** Rewrite a command list before both sides run it (the VM has no regular files). */
  prepare?: (cmds: string[]) => string[];
}

/** The backend is missing something it needs: exit 69 (EX_UNAVAILABLE) with what to do. */
export class BackendUnavailable extends PteplayError {
  constructor(message: string) {
    super(message, EXIT.UNAVAILABLE);
    this.name = 'BackendUnavailable';
  }
}

/** Is gcc on PATH (kreplay is built from source on first use)? */
function haveGcc(): boolean {
  return spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Why kreplay cannot run on this machine, or null when it can. */
function hostProblem(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return (
      `the host backend runs the real kernel through tools/kreplay, which needs x86-64 Linux (this is ${process.platform}-${process.arch}); ` +
      'use --vm VERSION to boot a kernel in qemu'
    );
  }
  if (kreplayBinary() === null) {
    return haveGcc()
      ? 'building tools/kreplay/kreplay failed (run bash tools/kreplay/build.sh to see why)'
      : 'gcc is not installed: tools/kreplay/kreplay.c is built with gcc on first use (apt-get install gcc, or dnf install gcc)';
  }
  return null;
}

/** This machine's kernel, probed once (verify --probe prints the same probe). */
export function hostBackend(): VerifyBackend & { probe: HostProbe } {
  const problem = hostProblem();
  if (problem !== null) throw new BackendUnavailable(problem);
  const probe = probeHost();
  return {
    name: 'host',
    release: probe.release,
    profile: probe.profile,
    sysfs: probe.sysfs,
    userfaultfd: probe.userfaultfd,
    probe,
    kernelOpts: (profile) => probedKernelOpts(probe, profile),
    run: async (traces) => runKernel(traces),
    batch: 50,
  };
}

/** The message for a trace or fuzz run that needs userfaultfd where it is not permitted. */
export const USERFAULTFD_DENIED = 'userfaultfd is not permitted for this user: run `sysctl vm.unprivileged_userfaultfd=1` or run as root';

/**
 * A kernel booted in qemu (`--vm 6.12`, `--vm 6.1` or the path of a vmlinuz): the Debian package is
 * taken from the kernel cache or downloaded, one boot probes it, and every batch runs in one boot.
 * Regular files become memfds on both sides (the guest has no disk file system: {@link vmCommands}).
 */
export async function vmBackend(version: string): Promise<VerifyBackend> {
  const missing = vmMissing();
  if (missing !== null) throw new BackendUnavailable(missing);
  const pkg = resolveKernel(version);
  const probe = await runInVm({ kernel: pkg, traces: [] });
  return {
    name: 'vm',
    release: probe.release,
    profile: probe.profile,
    sysfs: probe.sysfs,
    userfaultfd: probe.uffdSyscall,
    batch: 1000,
    prepare: vmCommands,
    kernelOpts: (profile) => {
      const base = resolveProfile(profile) as unknown as Record<string, boolean>;
      // The probes name switches that are off on the guest; pass those the profile has on.
      return {
        kernelOpts: probe.kernelOpts.filter((o) => base[o.replace(/=.*/, '').replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] !== false),
        unmodelled: [],
      };
    },
    run: async (traces) => (await runInVm({ kernel: pkg, traces })).outputs,
  };
}
