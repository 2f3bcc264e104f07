/**
 * Differential testing against the real kernel: the same command sequence runs in the real kernel
 * (tools/kreplay/kreplay, see the command format at the top of kreplay.c) and in a simulated
 * System, and every observable result is compared line by line.
 *
 * Both sides speak the kreplay command language; {@link recordsToCommands} converts pteplay trace
 * records (TraceOps and accesses) into it, and {@link simRun} executes it in the simulator by
 * turning each command back into a TraceOp (absolute addresses: KREPLAY_BASE + offset) and
 * formatting the result exactly as kreplay prints it.
 *
 * What is compared, and what is ignored (environmental or compiled out on the probed kernel):
 *   - every command's ret / errno (mmap and mremap: the returned page, relative to the base);
 *   - pagemap bits 55, 56, 57, 58, 61, 62, 63 (bit 55 too: a kernel without CONFIG_MEM_SOFT_DIRTY
 *     is compared with a simulator set to `soft_dirty=off`, see {@link kernelOptsFromProbes});
 *   - PAGEMAP_SCAN ret, errno, walk_end, regions (PAGE_IS_SOFT_DIRTY included);
 *   - /proc/self/maps inside the reservation (VMA boundaries and permissions: merges and splits);
 *   - the uffd messages (page faults with their page and flags, and events: a REMAP with its from, to
 *     and len).
 * A trace is compared only up to a command the simulator does not model (its result line starts
 * with UNMODELLED): MADV_COLLAPSE of a shmem/file range (collapse_file puts a PMD-sized folio in
 * the page cache and maps it with a PMD — no file THPs are modelled), after which every
 * observation of that range differs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { release as osRelease } from 'node:os';
import { join } from 'node:path';
import { resolveProfile } from '../kernel/profile.js';
import { PACKAGE_ROOT } from '../version.js';
import { Why } from '../mm/cause.js';
import { ACCESS_OK, accessPage } from '../mm/access.js';
import { PteEventSink } from '../mm/events.js';
import { FAULT_BLOCKED, FAULT_EFAULT, FAULT_SIGBUS, FAULT_SIGSEGV } from '../mm/fault-types.js';
import type { Mm } from '../mm/mm.js';
import { System, type Sysfs, type UffdListener } from '../mm/system.js';
import {
  PAGE_SIZE,
  UFFD_EVENT_FORK,
  UFFD_EVENT_PAGEFAULT,
  UFFD_EVENT_REMAP,
  UFFD_EVENT_REMOVE,
  UFFD_EVENT_UNMAP,
  UFFD_PAGEFAULT_FLAG_WP,
  UFFD_PAGEFAULT_FLAG_WRITE,
} from '../mm/uapi.js';
import { VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE } from '../mm/vma.js';
import { executeOp } from '../lanes/ops.js';
import type { OpResult } from '../mm/system.js';
import { pagemapScan } from '../trackers/pagemap-scan.js';
import { PMB_EXCLUSIVE, PMB_FILE, PMB_GUARD, PMB_PRESENT, PMB_SOFT_DIRTY, PMB_SWAP, PMB_UFFD_WP, pagemapRuns } from '../trackers/pagemap.js';
import { uffdioWriteprotect } from '../trackers/userfaultfd.js';
import type { UffdCtx, UffdMsg } from '../mm/uffd-ctx.js';
import type { Backing, MadviseAdvice, MmapFlag, MremapFlag, Prot, TraceOp, TraceRecord, UffdFlag } from '../trace/types.js';

/** The reservation kreplay maps in every child (kreplay.c KREPLAY_BASE / REGION). */
export const KREPLAY_BASE = 0x200000000000;
export const REGION_BYTES = 64 << 20;
export const REGION_PAGES = REGION_BYTES / PAGE_SIZE;
const BASE_VPN = KREPLAY_BASE / PAGE_SIZE;

const ROOT = PACKAGE_ROOT;
const SRC = join(ROOT, 'tools', 'kreplay', 'kreplay.c');
const BIN = join(ROOT, 'tools', 'kreplay', 'kreplay');

/* ------------------------------------------------------------------ kernel side */

let built: string | null | undefined;

/** Build tools/kreplay/kreplay if it is missing or older than its sources; null if that fails. */
export function kreplayBinary(): string | null {
  if (built !== undefined) return built;
  try {
    const newest = Math.max(statSync(SRC).mtimeMs, statSync(join(ROOT, 'tools', 'probes', 'common.h')).mtimeMs);
    if (!existsSync(BIN) || statSync(BIN).mtimeMs < newest) {
      const r = spawnSync('bash', [join(ROOT, 'tools', 'kreplay', 'build.sh')], { encoding: 'utf8' });
      if (r.status !== 0) return (built = null);
    }
    built = BIN;
  } catch {
    built = null;
  }
  return built;
}

/** Can this machine run the differential test: kreplay builds, x86-64 Linux, userfaultfd works? */
export function kreplayUsable(): { ok: boolean; why: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { ok: false, why: 'not x86-64 Linux' };
  const bin = kreplayBinary();
  if (bin === null) return { ok: false, why: 'kreplay does not build' };
  const out = runKernel([['userfaultfd 3 0', 'uffdio_api 3 0xaa 0x8000', 'pagemap_scan 0 1p 0 0 0 0 0 0 0']]);
  const lines = out[0] ?? [];
  if (lines[0] !== 'ok 3') return { ok: false, why: `userfaultfd not permitted (${lines[0] ?? 'no output'})` };
  if (lines[1] !== 'ok 0') return { ok: false, why: `UFFD_FEATURE_WP_ASYNC not supported (${lines[1]})` };
  if (!lines[2]?.startsWith('ok')) return { ok: false, why: `PAGEMAP_SCAN not supported (${lines[2]})` };
  return { ok: true, why: '' };
}

/** Run traces (lists of commands) on the real kernel: one list of result lines per trace. */
export function runKernel(traces: string[][], timeoutS = 20): string[][] {
  const bin = kreplayBinary();
  if (bin === null) throw new Error('kreplay is not available');
  const input = traces.map((t) => t.join('\n') + '\n---\n').join('');
  const r = spawnSync(bin, [], {
    input,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, KREPLAY_TIMEOUT: String(timeoutS) },
  });
  if (r.error) throw r.error;
  const out: string[][] = [[]];
  for (const line of r.stdout.split('\n')) {
    if (line === '---') out.push([]);
    else if (line !== '') out[out.length - 1]!.push(line);
  }
  out.pop();
  return out;
}

/* ------------------------------------------------------------------ command <-> TraceOp */

const pagesTxt = (bytes: number): string =>
  bytes % PAGE_SIZE === 0 ? `${bytes / PAGE_SIZE}p` : bytes < 0 ? '-0x' + (-bytes).toString(16) : '0x' + bytes.toString(16);
const rel = (addr: number): string => pagesTxt(addr - KREPLAY_BASE);
const protTxt = (p: Prot): string => (p.read ? 'r' : '') + (p.write ? 'w' : '') + (p.exec ? 'x' : '') || '-';
const listTxt = (xs: readonly string[]): string => (xs.length ? xs.join('|') : '0');
const backingTxt = (b: Backing): string => (b.kind === 'anon' ? 'anon' : `${b.kind}:${b.name}`);

/** One trace record (absolute addresses inside the reservation) as kreplay commands. */
export function recordToCommands(r: TraceRecord): string[] {
  switch (r.op) {
    case 'read':
    case 'write': {
      const out: string[] = [];
      const first = Math.floor(r.addr / PAGE_SIZE);
      const last = Math.floor((r.addr + Math.max(r.size, 1) - 1) / PAGE_SIZE);
      for (let v = first; v <= last; v++) out.push(`${r.kernel ? 'k' : ''}${r.op} ${rel(v * PAGE_SIZE)}`);
      return out;
    }
    case 'mmap':
      return [`mmap ${rel(r.addr)} ${r.len} ${protTxt(r.prot)} ${listTxt(r.flags)} ${backingTxt(r.backing)} ${r.offset}`];
    case 'munmap':
      return [`munmap ${rel(r.addr)} ${r.len}`];
    case 'mprotect':
      return [`mprotect ${rel(r.addr)} ${r.len} ${protTxt(r.prot)}`];
    case 'madvise':
      return [`madvise ${rel(r.addr)} ${r.len} ${r.advice}`];
    case 'mremap':
      return [`mremap ${rel(r.addr)} ${r.oldLen} ${r.newLen} ${listTxt(r.flags)}${r.newAddr !== undefined ? ' ' + rel(r.newAddr) : ''}`];
    case 'userfaultfd':
      return [`userfaultfd ${r.fd} ${listTxt(r.flags)}`];
    case 'uffdio_api':
      return [`uffdio_api ${r.fd} ${r.api} ${r.features}`];
    case 'uffdio_register':
      return [`uffdio_register ${r.fd} ${rel(r.start)} ${r.len} ${r.mode}`];
    case 'uffdio_unregister':
      return [`uffdio_unregister ${r.fd} ${rel(r.start)} ${r.len}`];
    case 'uffdio_writeprotect':
      return [`uffdio_writeprotect ${r.fd} ${rel(r.start)} ${r.len} ${r.mode}`];
    case 'close':
      return [`close ${r.fd}`];
    case 'pagemap_scan':
      return [
        `pagemap_scan ${rel(r.start)} ${rel(r.end)} ${r.flags} ${r.categoryInverted} ${r.categoryMask} ` +
          `${r.categoryAnyofMask} ${r.returnMask} ${r.vecLen} ${r.maxPages}${r.size !== undefined ? ' ' + r.size : ''}`,
      ];
    case 'pagemap_read':
      if (r.offset % 8 !== 0 || r.count % 8 !== 0 || r.count === 0) throw new Error(`pagemap_read ${r.offset}+${r.count}: not convertible`);
      return [`pagemap ${rel((r.offset / 8) * PAGE_SIZE)} ${r.count / 8}`];
    case 'pwrite':
      if (r.backing.kind === 'anon') throw new Error('pwrite to anon');
      return [`pwrite ${backingTxt(r.backing)} ${r.offset} ${r.len}`];
    case 'clear_refs':
      if (!/^\S+$/.test(r.value)) throw new Error(`clear_refs "${r.value}": not convertible`);
      return [`clear_refs ${r.value}`];
    case 'mark':
      return [];
    default:
      throw new Error(`kreplay cannot run "${r.op}"`);
  }
}

export function recordsToCommands(rs: TraceRecord[]): string[] {
  return rs.flatMap(recordToCommands);
}

function num(s: string | undefined): number {
  if (s === undefined) throw new Error('missing argument');
  let t = s;
  let mul = 1;
  if (t.endsWith('p')) {
    mul = PAGE_SIZE;
    t = t.slice(0, -1);
  }
  const neg = t.startsWith('-');
  if (neg) t = t.slice(1);
  const v = Number(t);
  if (!Number.isFinite(v) || t === '') throw new Error(`bad number "${s}"`);
  return (neg ? -v : v) * mul;
}
const prot = (s: string): Prot => ({ read: s.includes('r'), write: s.includes('w'), exec: s.includes('x') });
const list = <T extends string>(s: string): T[] => (s === '0' ? [] : (s.split('|') as T[]));
function backing(s: string | undefined): Backing {
  if (s === undefined || s === 'anon') return { kind: 'anon' };
  const i = s.indexOf(':');
  const kind = s.slice(0, i);
  if (kind !== 'memfd' && kind !== 'file') throw new Error(`bad backing ${s}`);
  return { kind, name: s.slice(i + 1) };
}

/** A command as a TraceOp with absolute addresses (null for the observation / access commands). */
export function commandToOp(cmd: string): TraceOp | null {
  const a = cmd.trim().split(/\s+/);
  const abs = (i: number) => KREPLAY_BASE + num(a[i]);
  const pid = 1;
  switch (a[0]) {
    case 'mmap':
      return {
        op: 'mmap',
        pid,
        addr: abs(1),
        len: num(a[2]),
        prot: prot(a[3]!),
        flags: list<MmapFlag>(a[4]!),
        backing: backing(a[5]),
        offset: a[6] ? num(a[6]) : 0,
      };
    case 'munmap':
      return { op: 'munmap', pid, addr: abs(1), len: num(a[2]) };
    case 'mprotect':
      return { op: 'mprotect', pid, addr: abs(1), len: num(a[2]), prot: prot(a[3]!) };
    case 'madvise':
      return { op: 'madvise', pid, addr: abs(1), len: num(a[2]), advice: a[3] as MadviseAdvice };
    case 'mremap':
      return {
        op: 'mremap',
        pid,
        addr: abs(1),
        oldLen: num(a[2]),
        newLen: num(a[3]),
        flags: list<MremapFlag>(a[4]!),
        ...(a[5] !== undefined ? { newAddr: abs(5) } : {}),
      };
    case 'userfaultfd':
      return { op: 'userfaultfd', pid, fd: num(a[1]), flags: list<UffdFlag>(a[2]!) };
    case 'uffdio_api':
      return { op: 'uffdio_api', pid, fd: num(a[1]), api: num(a[2]), features: num(a[3]) };
    case 'uffdio_register':
      return { op: 'uffdio_register', pid, fd: num(a[1]), start: abs(2), len: num(a[3]), mode: num(a[4]) };
    case 'uffdio_unregister':
      return { op: 'uffdio_unregister', pid, fd: num(a[1]), start: abs(2), len: num(a[3]) };
    case 'uffdio_writeprotect':
      return { op: 'uffdio_writeprotect', pid, fd: num(a[1]), start: abs(2), len: num(a[3]), mode: num(a[4]) };
    case 'close':
      return { op: 'close', pid, fd: num(a[1]) };
    case 'pagemap_scan':
      return {
        op: 'pagemap_scan',
        pid,
        start: abs(1),
        end: abs(2),
        flags: num(a[3]),
        categoryInverted: num(a[4]),
        categoryMask: num(a[5]),
        categoryAnyofMask: num(a[6]),
        returnMask: num(a[7]),
        vecLen: num(a[8]),
        maxPages: num(a[9]),
        ...(a[10] !== undefined ? { size: num(a[10]) } : {}),
      };
    case 'pwrite':
      return { op: 'pwrite', pid, backing: backing(a[1]), offset: num(a[2]), len: num(a[3]) };
    case 'clear_refs':
      return { op: 'clear_refs', pid, value: a[1] ?? '' };
    default:
      return null;
  }
}

/* ------------------------------------------------------------------ simulator side */

/** /sys/kernel/mm settings of this machine (what the kernel side runs with). */
export function machineSysfs(): Sysfs {
  const read = (p: string, d: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return d;
    }
  };
  const thp = /\[(\w+)\]/.exec(read('/sys/kernel/mm/transparent_hugepage/enabled', '[madvise]'))?.[1] ?? 'madvise';
  const zero = read('/sys/kernel/mm/transparent_hugepage/use_zero_page', '1').trim() === '1';
  const swaps = read('/proc/swaps', '').trim().split('\n').length > 1;
  return { thp: thp as Sysfs['thp'], thpZeroPage: zero, swap: swaps };
}

/** Zero-page probe, fault path: a read fault on a fresh private anon page, then pagemap. */
export const ZERO_PAGE_PROBE = ['mmap 1024p 1p rw private|anonymous|fixed', 'read 1024p', 'pagemap 1024p 1'];
/** Zero-page probe, split path: one store into a THP, MADV_COLD of half of it splits the folio. */
export const SPLIT_ZERO_PAGE_PROBE = [
  'mmap 2048p 512p rw private|anonymous|fixed',
  'madvise 2048p 512p hugepage',
  'write 2048p',
  'madvise 2048p 256p cold',
  'pagemap 2049p 1',
];

/** Soft-dirty probe: a store into a fresh private anon page reads soft-dirty (bit 55) unless compiled out. */
export const SOFT_DIRTY_PROBE = ['mmap 1024p 1p rw private|anonymous|fixed', 'write 1024p', 'pagemap 1024p 1'];

/** Migration-entry dirty probe: a THP stored to, soft-dirty cleared, then a folio split (COLD of half). */
export const MIGRATION_DIRTY_PROBE = [
  'mmap 2048p 512p rw private|anonymous|fixed',
  'madvise 2048p 512p hugepage',
  'write 2049p',
  'clear_refs 4',
  'madvise 2048p 256p cold',
  'pagemap 2049p 1',
];

/** The probe traces {@link kernelOptsFromProbes} reads, in order (the THP probes only with THP on). */
export function kernelProbes(thp: boolean): string[][] {
  return thp ? [SOFT_DIRTY_PROBE, ZERO_PAGE_PROBE, SPLIT_ZERO_PAGE_PROBE, MIGRATION_DIRTY_PROBE] : [SOFT_DIRTY_PROBE, ZERO_PAGE_PROBE];
}

/**
 * Kernel options (`--kernel-opt`) that describe a kernel beyond its release, from its answers to
 * {@link kernelProbes}. A store into a fresh page that does not read soft-dirty: CONFIG_MEM_SOFT_DIRTY
 * is off, `soft_dirty=off` (`softDirtyConfig`, the kernel's own config where readable, decides
 * instead). A read fault on never-touched private anon memory maps the shared zero page (pagemap:
 * present, not exclusive) unless the kernel forbids it at fault time (present and exclusive: a fresh
 * page), as with pvm_no_zero_page=1: `zero_page=off`. With THP on, a folio split maps an unused
 * subpage to the zero page (v6.12) unless mm_forbids_zeropage(): `split_unused_to_zero_page=off`.
 * A folio split that loses the dirty bit of a stored-to subpage after clear_refs 4:
 * `migration_entry_dirty=off` (soft-dirty kernels with THP only).
 */
export function kernelOptsFromProbes(outputs: string[][], thp: boolean, softDirtyConfig?: boolean): string[] {
  const [sd, fault, split, migration] = outputs;
  const flags = (lines: string[] | undefined, at: number, page: number): string => {
    const m = new RegExp(`^ok ${page}\\+1:([A-Z]+)$`).exec(lines?.[at] ?? '');
    if (!m) throw new Error(`kernel probe: unexpected answer ${JSON.stringify(lines)}`);
    return m[1]!;
  };
  const softDirty = softDirtyConfig ?? flags(sd, 2, 1024).includes('D');
  const opts = softDirty ? [] : ['soft_dirty=off'];
  /** PX (exclusive, a fresh page): the option; P (the zero page): nothing. */
  const zero = (lines: string[] | undefined, at: number, page: number, opt: string): string[] => {
    const f = flags(lines, at, page).replace('D', '');
    if (f === 'PX') return [opt];
    if (f === 'P') return [];
    throw new Error(`zero-page probe: unexpected kernel answer ${JSON.stringify(lines)}`);
  };
  opts.push(...zero(fault, 2, 1024, 'zero_page=off'));
  if (thp) opts.push(...zero(split, 4, 2049, 'split_unused_to_zero_page=off'));
  // Without soft-dirty the split's dirty carry-over is invisible (and so irrelevant).
  if (thp && softDirty && !flags(migration, 5, 2049).includes('D')) opts.push('migration_entry_dirty=off');
  return opts;
}

/** CONFIG_MEM_SOFT_DIRTY from a kernel config text (absent: the arch does not offer it); undefined for no config. */
export function softDirtyFromConfig(config: string): boolean | undefined {
  if (!/^CONFIG_/m.test(config)) return undefined;
  return /^CONFIG_MEM_SOFT_DIRTY=y$/m.test(config);
}

/** This machine's kernel config (/proc/config.gz, else /boot/config-RELEASE), or '' when neither is readable. */
export function hostConfig(): string {
  try {
    return gunzipSync(readFileSync('/proc/config.gz')).toString('latin1');
  } catch {
    try {
      return readFileSync(`/boot/config-${osRelease()}`, 'latin1');
    } catch {
      return '';
    }
  }
}

let hostOpts: string[] | undefined;

/** {@link kernelOptsFromProbes} for this machine's kernel, probed once; empty where kreplay cannot run. */
export function hostKernelOpts(): string[] {
  if (hostOpts !== undefined) return hostOpts;
  if (kreplayBinary() === null) return (hostOpts = []);
  const thp = machineSysfs().thp !== 'never';
  hostOpts = kernelOptsFromProbes(runKernel(kernelProbes(thp)), thp, softDirtyFromConfig(hostConfig()));
  return hostOpts;
}

const PMB_LETTERS: [number, string][] = [
  [PMB_PRESENT, 'P'],
  [PMB_SWAP, 'S'],
  [PMB_FILE, 'F'],
  [PMB_GUARD, 'G'],
  [PMB_UFFD_WP, 'U'],
  [PMB_EXCLUSIVE, 'X'],
  [PMB_SOFT_DIRTY, 'D'],
];
const relPage = (vpn: number): string => String(vpn - BASE_VPN);
/** An address as kreplay's out_addr prints it. */
function addrTxt(addr: number): string {
  const r = addr - KREPLAY_BASE;
  if (r < 0 || r >= REGION_BYTES) return `out:0x${addr.toString(16)}`;
  if (r % PAGE_SIZE !== 0) return `u:0x${r.toString(16)}`;
  return String(r / PAGE_SIZE);
}

/** One simulated process running kreplay commands, with a sync monitor that answers at once. */
export class SimReplay implements UffdListener {
  readonly sys: System;
  readonly mm: Mm;
  private msgs: string[] = [];
  private results: OpResult[] = [];
  /** Live children of `fork` (kreplay keeps them waiting until `reap` or the end of the trace). */
  private children: number[] = [];
  private nextPid = 2;

  constructor(profile = '6.18', sysfs: Sysfs = machineSysfs(), kernelOpts: string[] = hostKernelOpts()) {
    this.sys = new System(0, resolveProfile(profile, kernelOpts), sysfs, new PteEventSink(0, null));
    this.sys.uffdListener = this;
    this.sys.opSink = (r) => this.results.push(r);
    this.mm = this.sys.mm(1)!;
    // kreplay's reservation: 64 MiB PROT_NONE, MAP_NORESERVE, MAP_FIXED_NOREPLACE.
    executeOp(this.sys, {
      op: 'mmap',
      pid: 1,
      addr: KREPLAY_BASE,
      len: REGION_BYTES,
      prot: { read: false, write: false, exec: false },
      flags: ['private', 'anonymous', 'fixed_noreplace', 'noreserve'],
      backing: { kind: 'anon' },
      offset: 0,
    });
  }

  /** UffdListener: a kernel-mode (GUP) fault is answered at once by the monitor thread. */
  resolveKernelFault(mm: Mm, vpn: number): void {
    const ctx = mm.vmas.find(vpn)?.uffd;
    if (ctx) this.unprotect(ctx, vpn);
  }

  /** UffdListener: the monitor thread reads every message; page faults are answered by the access loop. */
  onMessage(ctx: UffdCtx, msg: UffdMsg): void {
    switch (msg.event) {
      case UFFD_EVENT_PAGEFAULT:
        this.msgs.push(`pf:${relPage(msg.vpn)}:${msg.flags & UFFD_PAGEFAULT_FLAG_WRITE ? 'w' : 'r'}${msg.flags & UFFD_PAGEFAULT_FLAG_WP ? 'p' : ''}`);
        return;
      case UFFD_EVENT_REMAP:
        this.msgs.push(`remap:${relPage(msg.vpn)}:${relPage(msg.vpn2)}:${msg.pages}`);
        break;
      case UFFD_EVENT_REMOVE:
        this.msgs.push(`remove:${relPage(msg.vpn)}:${relPage(msg.vpn2)}`);
        break;
      case UFFD_EVENT_UNMAP:
        this.msgs.push(`unmap:${relPage(msg.vpn)}:${relPage(msg.vpn2)}`);
        break;
      case UFFD_EVENT_FORK:
        this.msgs.push('fork');
        break;
      default:
        this.msgs.push(`event${msg.event}`);
    }
    const i = ctx.queue.indexOf(msg);
    if (i >= 0) ctx.queue.splice(i, 1);
  }

  /** The monitor's UFFDIO_WRITEPROTECT(mode 0) of the faulting page (kreplay.c monitor()). */
  private unprotect(ctx: UffdCtx, vpn: number): void {
    const sys = this.sys;
    const saved = sys.origin;
    sys.origin = 'driver';
    sys.quiet = true;
    uffdioWriteprotect(this.mm, ctx.fd, vpn * PAGE_SIZE, PAGE_SIZE, 0, Why.WRITE);
    sys.quiet = false;
    sys.origin = saved;
    const i = ctx.queue.findIndex((m) => m.event === UFFD_EVENT_PAGEFAULT);
    if (i >= 0) ctx.queue.splice(i, 1);
  }

  private access(vpn: number, write: boolean, kernel: boolean): string {
    for (let round = 0; round < 8; round++) {
      const r = accessPage(this.mm, vpn, write, kernel, 1);
      if (r === ACCESS_OK) return 'ok';
      if (r === FAULT_BLOCKED) {
        this.unprotect(this.mm.vmas.find(vpn)!.uffd!, vpn);
        continue;
      }
      if (kernel) return r === FAULT_SIGSEGV || r === FAULT_SIGBUS || r === FAULT_EFAULT ? 'err EFAULT' : `err ?${r}`;
      if (r === FAULT_SIGSEGV) return 'sig SEGV';
      if (r === FAULT_SIGBUS) return 'sig BUS';
      return `sig ?${r}`;
    }
    return 'hang';
  }

  /** Execute one command; the result line as kreplay prints it. */
  run(cmd: string): string {
    const a = cmd.trim().split(/\s+/);
    switch (a[0]) {
      case 'write':
      case 'read':
      case 'kwrite':
      case 'kread':
        return this.access(Math.floor((KREPLAY_BASE + num(a[1])) / PAGE_SIZE), a[0].endsWith('write'), a[0].startsWith('k'));
      case 'pagemap': {
        const s = BASE_VPN + num(a[1]) / PAGE_SIZE;
        return (
          'ok ' +
          pagemapRuns(this.mm, s, s + num(a[2]))
            .map((r) => {
              const f =
                PMB_LETTERS.filter(([b]) => r.bits & b)
                  .map(([, c]) => c)
                  .join('') || '-';
              return `${relPage(r.start)}+${r.end - r.start}:${f}`;
            })
            .join(',')
        );
      }
      case 'maps':
        return (
          'ok ' +
          this.mm.vmas.list
            .filter((v) => v.end > BASE_VPN && v.start < BASE_VPN + REGION_PAGES)
            .map((v) => {
              const f = v.flags;
              const perms = (f & VM_READ ? 'r' : '-') + (f & VM_WRITE ? 'w' : '-') + (f & VM_EXEC ? 'x' : '-') + (f & VM_MAYSHARE ? 's' : 'p');
              return `${Math.max(v.start, BASE_VPN) - BASE_VPN}-${Math.min(v.end, BASE_VPN + REGION_PAGES) - BASE_VPN}:${perms}`;
            })
            .join(',')
        );
      case 'messages': {
        const m = this.msgs.join(',');
        this.msgs = [];
        return 'ok ' + m;
      }
      case 'fork': {
        const child = this.nextPid++;
        executeOp(this.sys, { op: 'fork', pid: 1, child });
        this.children.push(child);
        return `ok ${this.children.length}`;
      }
      case 'reap': {
        const n = this.children.length;
        for (const pid of this.children) executeOp(this.sys, { op: 'exit', pid });
        this.children = [];
        return `ok ${n}`;
      }
      case 'clear_refs': {
        this.results = [];
        executeOp(this.sys, commandToOp(cmd)!);
        const res = this.results.pop();
        return res === undefined ? 'ok 0' : res.errno !== null ? `err ${res.errno}` : `ok ${res.ret}`;
      }
    }
    const op = commandToOp(cmd);
    if (op === null) return 'bad command';
    if (op.op === 'madvise' && op.advice === 'collapse') {
      const s = Math.floor(op.addr / PAGE_SIZE);
      const e = Math.ceil((op.addr + op.len) / PAGE_SIZE);
      if (this.mm.vmas.intersecting(s, e).some((v) => v.obj !== null && !v.isHugetlb)) return UNMODELLED + ' MADV_COLLAPSE of shmem/file';
    }
    this.results = [];
    if (op.op === 'pagemap_scan') {
      const r = pagemapScan(this.mm, a[11] === '1' ? { ...op, vec: 0 } : op);
      const we = r.walkEndWritten ? addrTxt(r.walkEnd) : '-';
      const regs = r.regions.map((g) => `${addrTxt(g.start)}-${addrTxt(g.end)}:${g.categories.toString(16)}`).join(',');
      return `${r.errno === null ? `ok ${r.ret}` : `err ${r.errno}`} we=${we} r=${regs}`;
    }
    executeOp(this.sys, op);
    const res = this.results.filter((x) => x.origin === 'trace').pop();
    if (res === undefined) return 'ok 0';
    if (res.errno !== null) return `err ${res.errno}`;
    if (op.op === 'mmap' || op.op === 'mremap') return `ok ${addrTxt(res.ret)}`;
    return `ok ${res.ret}`;
  }
}

/** Run commands in a fresh simulated process: one result line per command. */
export function simRun(cmds: string[], profile = '6.18', sysfs?: Sysfs, kernelOpts?: string[]): string[] {
  const s = new SimReplay(profile, sysfs, kernelOpts);
  return cmds.map((c) => {
    try {
      return s.run(c);
    } catch (e) {
      return `throw ${(e as Error).message.split('\n')[0]}`;
    }
  });
}

/* ------------------------------------------------------------------ comparison */

export interface Mismatch {
  index: number;
  cmd: string;
  kernel: string;
  sim: string;
}

/** The prefix of a simulator result line for a command it does not model: comparison stops there. */
export const UNMODELLED = 'UNMODELLED';

/** Compare the two sides command by command (up to the first UNMODELLED command). */
export function compare(cmds: string[], kernel: string[], sim: string[]): Mismatch[] {
  const out: Mismatch[] = [];
  const stop = sim.findIndex((l) => l.startsWith(UNMODELLED));
  if (stop >= 0) return compare(cmds.slice(0, stop), kernel.slice(0, stop), sim.slice(0, stop));
  for (let i = 0; i < cmds.length; i++) {
    const k = kernel[i] ?? '(no result)';
    const s = sim[i] ?? '(no result)';
    if (k !== s) out.push({ index: i, cmd: cmds[i]!, kernel: kernel[i] ?? '(none)', sim: sim[i] ?? '(none)' });
  }
  const extra = kernel.slice(cmds.length);
  if (extra.length > 0) out.push({ index: cmds.length, cmd: '(end)', kernel: extra.join(' | '), sim: '' });
  return out;
}

/** A readable report of the first mismatches, with the commands that led to the first one. */
export function formatDiff(cmds: string[], ms: Mismatch[], context = 12, max = 6): string {
  if (ms.length === 0) return 'no differences';
  const first = ms[0]!.index;
  const lines: string[] = [`${ms.length} difference(s); commands before the first one:`];
  const ops = cmds.map((c, i) => [i, c] as const).filter(([i, c]) => i < first && !/^(pagemap|maps|messages)\b/.test(c));
  for (const [i, c] of ops.slice(-context)) lines.push(`    ${String(i).padStart(4)}  ${c}`);
  for (const m of ms.slice(0, max)) {
    lines.push(`  #${m.index} ${m.cmd}`);
    lines.push(`      kernel: ${m.kernel}`);
    lines.push(`      sim:    ${m.sim}`);
  }
  if (ms.length > max) lines.push(`  ... ${ms.length - max} more`);
  return lines.join('\n');
}

/** Run one command list on both sides and compare. */
export function diffOne(cmds: string[], profile = '6.18'): { mismatches: Mismatch[]; kernel: string[]; sim: string[]; report: string } {
  const kernel = runKernel([cmds])[0] ?? [];
  const sim = simRun(cmds, profile);
  const mismatches = compare(cmds, kernel, sim);
  return { mismatches, kernel, sim, report: formatDiff(cmds, mismatches) };
}

/** Run many command lists on both sides (one kreplay process) and compare each. */
export function diffMany(traces: string[][], profile = '6.18'): { mismatches: Mismatch[]; report: string }[] {
  const kernel = runKernel(traces);
  return traces.map((cmds, i) => {
    const k = kernel[i] ?? [];
    const mismatches = compare(cmds, k, simRun(cmds, profile));
    return { mismatches, report: formatDiff(cmds, mismatches) };
  });
}
