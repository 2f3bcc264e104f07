/**
 * Recorded real-kernel answers (test/fixtures/kernel-<release>/<batch>.json.gz), so the simulator is
 * compared with the 6.1 and 6.12 kernels without qemu: `npm run verify:vm` records them
 * (tools/vm/record.mjs → {@link recordBatch}), test/96-kernel-fixtures.test.ts replays them
 * ({@link compareFixture}). Each file holds the kernel (release, build, Debian package), the config
 * switches that matter, the guest's sysfs, the profile and kernel options the simulator runs with,
 * and every sequence with the kernel's result lines.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Sysfs } from '../mm/system.js';
import { compare, formatDiff, simRun } from './kreplay.js';
import { runInVm, vmCommands, type KernelPackage } from './vm.js';

export interface KernelFixture {
  release: string;
  build: string;
  package: { name: string; version: string | null };
  /** The config switches that matter, from the package's boot/config-*. */
  config: Record<string, string>;
  sysfs: Sysfs;
  raw: Record<string, string>;
  uffd: string;
  profile: string;
  kernelOpts: string[];
  recorded: string;
  seconds: number;
  sequences: { name: string; cmds: string[]; kernel: string[] }[];
}

const CONFIG_KEYS = [
  'CONFIG_MEM_SOFT_DIRTY',
  'CONFIG_TRANSPARENT_HUGEPAGE_ALWAYS',
  'CONFIG_TRANSPARENT_HUGEPAGE_MADVISE',
  'CONFIG_SWAP',
  'CONFIG_USERFAULTFD',
  'CONFIG_PTE_MARKER_UFFD_WP',
  'CONFIG_HAVE_ARCH_USERFAULTFD_WP',
  'CONFIG_PT_RECLAIM',
];

function configSwitches(config: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of CONFIG_KEYS) {
    const m = new RegExp(`^${k}=(\\S+)$`, 'm').exec(config);
    out[k] = m ? m[1]! : 'n';
  }
  return out;
}

/** Run named sequences in one boot of `kernel` and return them as a fixture. */
export async function recordBatch(kernel: string | KernelPackage, seqs: { name: string; cmds: string[] }[]): Promise<KernelFixture> {
  const cmds = seqs.map((s) => vmCommands(s.cmds));
  const r = await runInVm({ kernel, traces: cmds });
  if (r.profile === null) throw new Error(`no simulator profile for kernel ${r.release}`);
  const deb = /Debian (\S+)/.exec(r.build)?.[1] ?? null;
  return {
    release: r.release,
    build: r.build,
    package: { name: r.package.name, version: r.package.version ?? deb },
    config: configSwitches(r.package.config),
    sysfs: r.sysfs,
    raw: r.raw,
    uffd: r.uffd,
    profile: r.profile,
    kernelOpts: r.kernelOpts,
    recorded: new Date().toISOString().slice(0, 10),
    seconds: r.seconds,
    sequences: seqs.map((s, i) => ({ name: s.name, cmds: cmds[i]!, kernel: r.outputs[i] ?? [] })),
  };
}

export function readFixture(path: string): KernelFixture {
  const buf = readFileSync(path);
  return JSON.parse((path.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8')) as KernelFixture;
}

/** The simulator under the fixture's profile, sysfs and options against every recorded sequence. */
export function compareFixture(f: KernelFixture, profile = f.profile): { name: string; report: string; count: number }[] {
  return f.sequences.map((s) => {
    const ms = compare(s.cmds, s.kernel, simRun(s.cmds, profile, f.sysfs, f.kernelOpts));
    return { name: s.name, report: formatDiff(s.cmds, ms), count: ms.length };
  });
}
