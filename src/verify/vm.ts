/**
 * The VM backend of the differential tester: a batch of kreplay traces runs inside qemu on a real
 * Debian kernel package (one boot for the whole batch), and comes back as the same per-trace result
 * lines as {@link runKernel} gives on the host.
 *
 * The guest is a gzip newc initramfs written here: busybox-static, a static kreplay, tools/vm/init.sh
 * as /init, the batch (/batch.txt) and the per-trace timeout. /init records the kernel (uname -r and
 * -v), /sys/kernel/mm/transparent_hugepage/{enabled,use_zero_page} and /proc/swaps, runs the batch
 * and writes everything to the second serial port, which qemu writes to a file — the console (first
 * port) stays apart. The batch starts with the probe traces: userfaultfd + WP_ASYNC + PAGEMAP_SCAN,
 * then {@link kernelProbes} (soft-dirty, zero page, split to zero page).
 *
 * Kernels are Debian's `linux-image-*-amd64-unsigned` packages, extracted (dpkg -x) into a cache
 * directory (PTEPLAY_KERNEL_CACHE, default ~/.cache/pteplay/kernels/<package>/boot/vmlinuz-*):
 * {@link resolveKernel} takes the newest cached package of a series, or downloads the newest one the
 * apt sources know (apt-get download).
 *
 * In the guest, `file:NAME` objects would live on the tmpfs root (shmem, not a regular file), so
 * {@link vmCommands} turns them into `memfd:file.NAME` on both sides.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { EXIT, PteplayError } from '../errors.js';
import type { Sysfs } from '../mm/system.js';
import { PACKAGE_ROOT } from '../version.js';
import { kernelOptsFromProbes, kernelProbes, softDirtyFromConfig } from './kreplay.js';
import { nearestProfile } from './probe.js';

/** A kernel series with a Debian package and a simulator profile. */
export const VM_SERIES = ['6.1', '6.12'] as const;
export type VmSeries = (typeof VM_SERIES)[number];

/** Package names of a series in Debian 12 (bookworm: 6.1 and the 6.12 backport) and 13 (6.12). */
const PACKAGE_RE: Record<VmSeries, RegExp> = {
  '6.1': /^linux-image-6\.1\.0-(\d+)-amd64-unsigned$/,
  '6.12': /^linux-image-6\.12\.(\d+)\+deb1\d-amd64-unsigned$/,
};

export interface KernelPackage {
  /** Debian package name, e.g. linux-image-6.12.107+deb12-amd64-unsigned (or the vmlinuz path). */
  name: string;
  /** Debian package version where known (pteplay-package.json of a download), else null. */
  version: string | null;
  vmlinuz: string;
  /** The package's boot/config-* text ('' when there is none beside the vmlinuz). */
  config: string;
}

export function kernelCacheDir(): string {
  return process.env.PTEPLAY_KERNEL_CACHE || join(homedir(), '.cache', 'pteplay', 'kernels');
}

const INSTALL_HINT = 'install them with: sudo apt-get install qemu-system-x86 busybox-static cpio';

/** What is missing to run the VM backend (qemu, a static busybox, gcc), or null. */
export function vmMissing(): string | null {
  const missing: string[] = [];
  if (which('qemu-system-x86_64') === null) missing.push('qemu-system-x86_64');
  const bb = which('busybox');
  if (bb === null || !isStaticElf(readFileSync(bb))) missing.push('a static busybox (busybox-static)');
  if (which('gcc') === null) missing.push('gcc');
  return missing.length ? `cannot run the VM backend: ${missing.join(', ')} not found; ${INSTALL_HINT} gcc` : null;
}

/** An ELF executable without a PT_INTERP program header (no dynamic loader: runs in a bare initramfs). */
function isStaticElf(b: Buffer): boolean {
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const size = b.readUInt16LE(0x36);
  for (let i = 0; i < b.readUInt16LE(0x38); i++) if (b.readUInt32LE(phoff + i * size) === 3) return false;
  return true;
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir || '.', cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** The extracted package at `dir` (a dpkg -x tree), or null when it holds no vmlinuz. */
function packageAt(dir: string, name: string): KernelPackage | null {
  const boot = join(dir, 'boot');
  if (!existsSync(boot)) return null;
  const files = readdirSync(boot);
  const vm = files.find((f) => f.startsWith('vmlinuz-'));
  if (vm === undefined) return null;
  const cfg = files.find((f) => f.startsWith('config-'));
  let version: string | null = null;
  try {
    version = (JSON.parse(readFileSync(join(dir, 'pteplay-package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // extracted by hand: the guest's uname -v names the version
  }
  return { name, version, vmlinuz: join(boot, vm), config: cfg ? readFileSync(join(boot, cfg), 'utf8') : '' };
}

const abi = (series: VmSeries, name: string): number => Number(PACKAGE_RE[series].exec(name)?.[1] ?? -1);

/** The newest package of `series` already in the cache, or null. */
export function cachedKernel(series: VmSeries): KernelPackage | null {
  const dir = kernelCacheDir();
  if (!existsSync(dir)) return null;
  const names = readdirSync(dir)
    .filter((n) => PACKAGE_RE[series].test(n))
    .sort((a, b) => abi(series, b) - abi(series, a));
  for (const n of names) {
    const p = packageAt(join(dir, n), n);
    if (p) return p;
  }
  return null;
}

/** apt-get download + dpkg -x the newest package of `series` the apt sources know, into the cache. */
export function downloadKernel(series: VmSeries): KernelPackage {
  const hint = `(sudo apt-get update; then apt-cache search linux-image-${series} should list it)`;
  if (which('apt-get') === null || which('dpkg') === null) {
    throw new PteplayError(
      `cannot download a ${series} kernel: apt-get and dpkg are needed (a Debian or Ubuntu system); ` +
        `or put an extracted linux-image package in ${kernelCacheDir()}`,
      EXIT.NO_INPUT,
    );
  }
  const search = spawnSync('apt-cache', ['search', '--names-only', `^linux-image-${series.replace('.', '\\.')}`], { encoding: 'utf8' });
  const names = (search.stdout ?? '')
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => PACKAGE_RE[series].test(n))
    .sort((a, b) => abi(series, b) - abi(series, a));
  if (names.length === 0) throw new PteplayError(`no linux-image-${series} amd64 package in the apt sources ${hint}`, EXIT.NO_INPUT);
  const name = names[0]!;
  const work = mkdtempSync(join(tmpdir(), 'pteplay-kernel-'));
  try {
    const dl = spawnSync('apt-get', ['download', name], { cwd: work, encoding: 'utf8' });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (dl.status !== 0 || deb === undefined) {
      throw new PteplayError(`apt-get download ${name} failed: ${(dl.stderr ?? '').trim().split('\n').pop()} ${hint}`, EXIT.IO);
    }
    const dest = join(kernelCacheDir(), name);
    mkdirSync(dest, { recursive: true });
    const x = spawnSync('dpkg', ['-x', join(work, deb), dest], { encoding: 'utf8' });
    if (x.status !== 0) throw new PteplayError(`dpkg -x ${deb} failed: ${x.stderr.trim()}`, EXIT.IO);
    const version = spawnSync('dpkg-deb', ['-f', join(work, deb), 'Version'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(dest, 'pteplay-package.json'), JSON.stringify({ name, version, deb }) + '\n');
    const p = packageAt(dest, name);
    if (p === null) throw new PteplayError(`${deb} holds no boot/vmlinuz-*`, EXIT.DATA);
    return p;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A series ("6.12": the newest cached package, else downloaded) or the path of a vmlinuz. */
export function resolveKernel(spec: string): KernelPackage {
  if ((VM_SERIES as readonly string[]).includes(spec)) return cachedKernel(spec as VmSeries) ?? downloadKernel(spec as VmSeries);
  if (!existsSync(spec)) {
    throw new PteplayError(`--vm ${spec}: expected ${VM_SERIES.join(' or ')} or the path of a vmlinuz (no such file)`, EXIT.NO_INPUT);
  }
  const dir = join(spec, '..');
  const cfgName = spec.replace(/.*vmlinuz-/, 'config-');
  const cfg = join(dir, cfgName);
  return { name: spec, version: null, vmlinuz: spec, config: existsSync(cfg) && cfg !== spec ? readFileSync(cfg, 'utf8') : '' };
}

/** kreplay commands as the guest runs them: `file:NAME` objects become `memfd:file.NAME` (see above). */
export function vmCommands(cmds: string[]): string[] {
  return cmds.map((c) => c.replace(/(^|\s)file:(\S+)/g, '$1memfd:file.$2'));
}

/* ------------------------------------------------------------------ guest image */

const STATIC_BIN = join(PACKAGE_ROOT, 'tools', 'kreplay', 'kreplay-static');

/** gcc -static build of kreplay (git-ignored), rebuilt when its sources are newer. */
function staticKreplay(): string {
  const srcs = [join(PACKAGE_ROOT, 'tools', 'kreplay', 'kreplay.c'), join(PACKAGE_ROOT, 'tools', 'probes', 'common.h')];
  const newest = Math.max(...srcs.map((s) => statSync(s).mtimeMs));
  if (!existsSync(STATIC_BIN) || statSync(STATIC_BIN).mtimeMs < newest) {
    const r = spawnSync('gcc', ['-static', '-O1', '-Wall', '-Wno-unused-function', '-Wno-sign-compare', '-o', STATIC_BIN, srcs[0]!, '-lpthread'], {
      encoding: 'utf8',
    });
    if (r.status !== 0)
      throw new PteplayError(
        `cannot build a static kreplay (gcc -static; glibc's static libraries: libc6-dev): ${r.stderr.trim().split('\n').pop()}`,
        EXIT.INTERNAL,
      );
  }
  return STATIC_BIN;
}

/** A newc cpio archive (what the kernel unpacks as initramfs) of directories and files. */
export function cpioNewc(entries: { name: string; mode: number; data?: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const put = (name: string, mode: number, data: Buffer) => {
    const hex = (v: number) => v.toString(16).padStart(8, '0');
    const nameBuf = Buffer.from(name + '\0');
    const head = '070701' + [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBuf.length, 0].map(hex).join('');
    parts.push(Buffer.from(head), nameBuf, pad(110 + nameBuf.length), data, pad(data.length));
  };
  for (const e of entries) put(e.name, e.mode, e.data ?? Buffer.alloc(0));
  put('TRAILER!!!', 0, Buffer.alloc(0));
  return Buffer.concat(parts);
}

const DIR = 0o040755;
const EXE = 0o100755;
const FILE = 0o100644;

/** The uffd probe (kreplayUsable's): userfaultfd, UFFD_FEATURE_WP_ASYNC, PAGEMAP_SCAN. */
const UFFD_PROBE = ['userfaultfd 3 0', 'uffdio_api 3 0xaa 0x8000', 'pagemap_scan 0 1p 0 0 0 0 0 0 0'];

function initramfs(traces: string[][], timeoutS: number): Buffer {
  const batch = [UFFD_PROBE, ...kernelProbes(true), ...traces].map((t) => t.join('\n') + '\n---\n').join('');
  return gzipSync(
    cpioNewc([
      { name: 'bin', mode: DIR },
      { name: 'bin/busybox', mode: EXE, data: readFileSync(which('busybox')!) },
      { name: 'init', mode: EXE, data: readFileSync(join(PACKAGE_ROOT, 'tools', 'vm', 'init.sh')) },
      { name: 'kreplay', mode: EXE, data: readFileSync(staticKreplay()) },
      { name: 'batch.txt', mode: FILE, data: Buffer.from(batch) },
      { name: 'timeout', mode: FILE, data: Buffer.from(String(timeoutS)) },
    ]),
    { level: 1 },
  );
}

/* ------------------------------------------------------------------ run */

export interface VmRun {
  package: KernelPackage;
  /** uname -r and uname -v in the guest. */
  release: string;
  build: string;
  sysfs: Sysfs;
  /** The raw sysfs / proc readings. */
  raw: Record<string, string>;
  /** "ok", or why userfaultfd / WP_ASYNC / PAGEMAP_SCAN do not work in the guest. */
  uffd: string;
  /**
   * The userfaultfd syscall works in the guest (it runs as root). WP_ASYNC and PAGEMAP_SCAN may still be
   * missing (6.1): the simulator's profile refuses them the same way, so sequences that use them compare.
   */
  uffdSyscall: boolean;
  /** CONFIG_MEM_SOFT_DIRTY from the package's config (null: no config beside the vmlinuz). */
  configSoftDirty: boolean | null;
  /** `--kernel-opt`s that describe the guest kernel beyond its profile (from the probes). */
  kernelOpts: string[];
  /** The simulator profile nearest the release. */
  profile: string;
  /** One list of result lines per trace, like runKernel. */
  outputs: string[][];
  /** Wall time of the boot and the batch. */
  seconds: number;
}

/** Run `traces` (kreplay commands, already {@link vmCommands}) in one boot of `kernel`. */
export async function runInVm(opts: { kernel: string | KernelPackage; traces: string[][]; timeoutS?: number }): Promise<VmRun> {
  const missing = vmMissing();
  if (missing) throw new PteplayError(missing, EXIT.NO_INPUT);
  const pkg = typeof opts.kernel === 'string' ? resolveKernel(opts.kernel) : opts.kernel;
  const work = mkdtempSync(join(tmpdir(), 'pteplay-vm-'));
  const t0 = Date.now();
  try {
    writeFileSync(join(work, 'initrd.gz'), initramfs(opts.traces, opts.timeoutS ?? 120));
    const out = join(work, 'out.txt');
    const console = join(work, 'console.log');
    const args = [
      '-accel',
      'tcg',
      '-m',
      '1G',
      '-nodefaults',
      '-display',
      'none',
      '-no-reboot',
      '-kernel',
      pkg.vmlinuz,
      '-initrd',
      join(work, 'initrd.gz'),
      '-append',
      'console=ttyS0 panic=-1 quiet',
      '-serial',
      `file:${console}`,
      '-serial',
      `file:${out}`,
    ];
    // Generous: TCG runs a few hundred traces a minute; the guest powers off when done.
    const limitMs = 60_000 + opts.traces.length * 3_000;
    const status = await new Promise<number | string>((resolve, reject) => {
      const q = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      q.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => q.kill('SIGKILL'), limitMs);
      q.on('error', reject);
      q.on('close', (code, sig) => {
        clearTimeout(timer);
        resolve(sig ? `killed by ${sig} after ${limitMs / 1000} s` : code === 0 ? 0 : `exit ${code}: ${err.trim()}`);
      });
    });
    const text = existsSync(out) ? readFileSync(out, 'utf8').replace(/\r/g, '') : '';
    const tail = () => (existsSync(console) ? readFileSync(console, 'utf8').trim().split('\n').slice(-5).join(' | ') : '');
    const lines = text.split('\n');
    const begin = lines.indexOf('=begin');
    const end = lines.indexOf('=end');
    if (status !== 0 || begin < 0 || end < 0) {
      throw new PteplayError(`the ${pkg.name} VM did not finish its batch (qemu ${status === 0 ? 'exit 0' : status}); console: ${tail()}`, EXIT.IO);
    }
    const raw: Record<string, string> = {};
    for (const l of lines.slice(0, begin)) {
      const i = l.indexOf(' ');
      if (i > 0) raw[l.slice(0, i)] = l.slice(i + 1);
    }
    const outputs: string[][] = [[]];
    for (const l of lines.slice(begin + 1, end)) {
      if (l === '---') outputs.push([]);
      else if (l !== '') outputs[outputs.length - 1]!.push(l);
    }
    outputs.pop();
    const [uffdOut, ...rest] = outputs;
    const probes = rest.slice(0, kernelProbes(true).length);
    const thp = (/\[(\w+)\]/.exec(raw.thp ?? '')?.[1] ?? 'never') as Sysfs['thp'];
    const sysfs: Sysfs = { thp, thpZeroPage: raw.thp_zero === '1', swap: Number(raw.swaps ?? 0) > 0 };
    const u = uffdOut ?? [];
    const uffd =
      u[0] !== 'ok 3'
        ? `userfaultfd: ${u[0]}`
        : u[1] !== 'ok 0'
          ? `UFFD_FEATURE_WP_ASYNC: ${u[1]}`
          : !u[2]?.startsWith('ok')
            ? `PAGEMAP_SCAN: ${u[2]}`
            : 'ok';
    const sdConfig = softDirtyFromConfig(pkg.config);
    return {
      package: pkg,
      release: raw.release ?? '?',
      build: raw.build ?? '?',
      sysfs,
      raw,
      uffd,
      uffdSyscall: u[0] === 'ok 3',
      configSoftDirty: sdConfig ?? null,
      kernelOpts: kernelOptsFromProbes(probes, thp !== 'never', sdConfig),
      profile: nearestProfile(raw.release ?? ''),
      outputs: rest.slice(kernelProbes(true).length),
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
