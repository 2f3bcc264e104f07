/**
 * A pteplay trace as a kreplay command list for `pteplay verify TRACE`, and a command list back as
 * trace records (the minimised divergence, replayable with `pteplay replay`).
 *
 * The trace's records run in order (its memory moved into kreplay's reservation: relocate.ts).
 * Observations are added where the trace's state may have changed: after every operation, and
 * after every run of accesses before the next operation, the pagemap of every region the trace
 * uses, a PAGEMAP_SCAN of it, the VMAs and the uffd messages (when it uses userfaultfd). The
 * tracker protocol records (`reset`, `collect`) belong to the lanes, not to the traced program:
 * they become observation points, as do `mark`s.
 */
import { EXIT, PteplayError } from '../errors.js';
import { PAGE_SIZE } from '../mm/uapi.js';
import { formatRecord } from '../trace/jsonl.js';
import { openTrace } from '../trace/reader.js';
import { recordsOfChunk } from '../trace/records.js';
import type { SysfsSettings, TraceOp, TraceRecord } from '../trace/types.js';
import { commandToOp, KREPLAY_BASE, recordToCommands } from './kreplay.js';
import { Relocation } from './relocate.js';

/** Records kreplay cannot run on the real kernel (one process, no pins or DMA, no brk). */
const UNSUPPORTED = new Set(['brk', 'exec', 'fork', 'exit', 'pin', 'unpin', 'dma_write']);
/** Records that mark a moment rather than do something: observed there. */
const OBSERVE_ONLY = new Set(['reset', 'collect', 'mark']);

export interface TraceCommands {
  commands: string[];
  /** The machine settings the trace's header asks for. */
  sysfs: SysfsSettings | undefined;
  relocation: Relocation;
}

/** The byte ranges a record touches (for the relocation). */
function ranges(r: TraceRecord): [number, number][] {
  switch (r.op) {
    case 'read':
    case 'write':
      return [[r.addr, r.addr + Math.max(r.size, 1)]];
    case 'mmap':
      return [[r.result ?? r.addr, (r.result ?? r.addr) + r.len]];
    case 'munmap':
    case 'mprotect':
    case 'madvise':
      return [[r.addr, r.addr + r.len]];
    case 'mremap':
      return [[r.addr, r.addr + r.oldLen], ...(r.newAddr !== undefined ? [[r.newAddr, r.newAddr + r.newLen] as [number, number]] : [])];
    case 'uffdio_register':
    case 'uffdio_unregister':
    case 'uffdio_writeprotect':
      return [[r.start, r.start + r.len]];
    case 'pagemap_scan':
      return [[r.start, Math.max(r.start, r.end)]];
    case 'pagemap_read':
      return [[(r.offset / 8) * PAGE_SIZE, ((r.offset + r.count) / 8) * PAGE_SIZE]];
    case 'reset':
    case 'collect':
      return r.len > 0 ? [[r.addr, r.addr + r.len]] : [];
    default:
      return [];
  }
}

/** A record with its addresses moved by `f`. */
function moved(r: TraceRecord, f: (a: number) => number): TraceRecord {
  switch (r.op) {
    case 'read':
    case 'write':
    case 'munmap':
    case 'mprotect':
    case 'madvise':
      return { ...r, addr: f(r.addr) };
    case 'mmap': {
      // kreplay maps inside its reservation, so a trace's mapping goes where the recorded kernel put it
      // (its result), else where it asked (a hint is taken as MAP_FIXED).
      const { result, ...rest } = r;
      const flags = rest.flags.some((x) => x === 'fixed' || x === 'fixed_noreplace') ? rest.flags : [...rest.flags, 'fixed' as const];
      return { ...rest, flags, addr: f(result ?? r.addr) };
    }
    case 'mremap':
      return { ...r, addr: f(r.addr), ...(r.newAddr !== undefined ? { newAddr: f(r.newAddr) } : {}) };
    case 'uffdio_register':
    case 'uffdio_unregister':
    case 'uffdio_writeprotect':
      return { ...r, start: f(r.start) };
    case 'pagemap_scan':
      return { ...r, start: f(r.start), end: f(r.end) };
    case 'pagemap_read':
      return { ...r, offset: (f((r.offset / 8) * PAGE_SIZE) / PAGE_SIZE) * 8 + (r.offset % 8) };
    default:
      return r;
  }
}

/** Read a trace (small: scenarios, minimised findings) and turn it into kreplay commands. */
export async function traceCommands(path: string): Promise<TraceCommands> {
  const trace = await openTrace(path);
  const records: TraceRecord[] = [];
  let pid: number | null = null;
  let pos = 0;
  const fail = (detail: string) => new PteplayError(`${path}: record ${pos}: ${detail}`, EXIT.DATA);
  for await (const chunk of trace.chunks) {
    for (const r of recordsOfChunk(chunk)) {
      if (UNSUPPORTED.has(r.op)) {
        throw fail(
          `"${r.op}" cannot run on the real kernel here (kreplay runs one process: mmap, munmap, mprotect, mremap, ` +
            'madvise, loads and stores, userfaultfd ioctls, PAGEMAP_SCAN, pagemap reads, pwrite)',
        );
      }
      if (r.op === 'mmap' && r.result === undefined && r.addr === 0 && !r.flags.some((x) => x === 'fixed' || x === 'fixed_noreplace')) {
        throw fail('an mmap at address 0 without "fixed" and without "result": where the kernel put it is not in the trace');
      }
      if (pid === null) pid = r.pid;
      else if (r.pid !== pid) throw fail(`process ${r.pid}: kreplay runs the records of one process (the trace's first is ${pid})`);
      records.push(r);
      pos++;
    }
  }
  let relocation: Relocation;
  try {
    relocation = Relocation.of(records.flatMap(ranges));
  } catch (e) {
    throw new PteplayError(`${path}: ${(e as Error).message}`, EXIT.DATA);
  }
  const usesUffd = records.some((r) => r.op === 'userfaultfd');
  const windows = relocation.windows();
  const observe = (): string[] => [
    ...windows.flatMap(([p, n]) => [`pagemap ${p}p ${n}`, `pagemap_scan ${p}p ${p + n}p 0 0 0 0 0x7f 1024 0`]),
    'maps',
    ...(usesUffd ? ['messages'] : []),
  ];
  const commands: string[] = [];
  let dirty = false;
  pos = 0;
  for (const r of records) {
    const access = r.op === 'read' || r.op === 'write';
    if (!access && dirty) commands.push(...observe());
    if (!OBSERVE_ONLY.has(r.op)) {
      try {
        commands.push(...recordToCommands(moved(r, (a) => relocation.to(a))));
      } catch (e) {
        throw fail((e as Error).message);
      }
    }
    dirty = access;
    if (!access) commands.push(...observe());
    pos++;
  }
  if (dirty) commands.push(...observe());
  return { commands, sysfs: trace.header.sysfs, relocation };
}

/**
 * Commands as trace records (JSONL lines), addresses moved back by `back` (the identity for the
 * fuzz's sequences): observations without a record (`maps`, `messages`) become `#` comments.
 */
export function commandsToJsonl(cmds: string[], back: (addr: number) => number = (a) => a): string[] {
  return cmds.map((c) => {
    const a = c.trim().split(/\s+/);
    const rel = (s: string) => KREPLAY_BASE + (s.endsWith('p') ? Number(s.slice(0, -1)) * PAGE_SIZE : Number(s));
    switch (a[0]) {
      case 'read':
      case 'write':
      case 'kread':
      case 'kwrite':
        return formatRecord({
          op: a[0].endsWith('write') ? 'write' : 'read',
          pid: 1,
          tid: 1,
          t: NaN,
          addr: back(rel(a[1]!)),
          size: 1,
          kernel: a[0].startsWith('k'),
        });
      case 'pagemap':
        return formatRecord({ op: 'pagemap_read', pid: 1, offset: (back(rel(a[1]!)) / PAGE_SIZE) * 8, count: Number(a[2]) * 8 });
      case 'maps':
      case 'messages':
        return `# ${c} (no trace record: /proc/self/maps, the uffd messages)`;
    }
    const op = commandToOp(c);
    if (op === null) return `# ${c}`;
    return formatRecord(moved(op, back) as TraceOp);
  });
}
