/**
 * Parsing one line of `perf script` text output into its header fields (comm, pid/tid, cpu, time,
 * period, event) and the rest, and the small value parsers the perf importer needs. Pure functions,
 * no state: the importer (perf.ts) gives the lines meaning.
 *
 * Layouts understood (perf 5.x–6.x): the default `comm tid [cpu] time: event: fields` and the
 * usual `-F` subsets and orders of comm, pid, tid, cpu, time, period, event, trace, ip, sym, addr —
 * every field optional except tid or pid, e.g.
 *   `sh  6077 [001]  5062.165240: exceptions:page_fault_kernel: address=0x55ac1833f240 ...`
 *   `sh  6077/6077  [001]  5062.165240: exceptions:page_fault_user: ...`   (-F comm,pid,tid,cpu,time,event,trace)
 *   ` 6077  5062.165317:   exceptions:page_fault_user: ...`                (-F tid,time,event,trace)
 *   `sh  6077  5062.165317:          1   exceptions:page_fault_user: ...` (-F +period)
 *   `sort  6290/6290   5079.310742: page-faults:     556727a1d548 ...`   (perf record -d, -F +addr)
 *   `sort  6282 [001]  5077.849060: PERF_RECORD_MMAP2 6282/6282: [0x7fff31620000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]`
 */
import type { Backing } from '../types.js';

export interface PerfHeader {
  comm: string;
  /** The pid when the line shows pid/tid (or only a pid: then pid === tid and `pidOnly`). */
  pid: number | undefined;
  tid: number;
  cpu: number | undefined;
  /** Seconds, as printed (NaN when the layout has no time). */
  time: number;
  /** The event name without the trailing colon ("exceptions:page_fault_user", "PERF_RECORD_MMAP2", "page-faults"). */
  event: string;
  /** Everything after the event name. */
  rest: string;
}

// comm (optional, may contain spaces) · tid or pid/tid · [cpu] · time: · period · event
const HEADER_RE =
  /^\s*(?:(.*?)\s+)??(-?\d+)(?:\/(-?\d+))?\s+(?:\[(\d+)\]\s+)?(?:(\d+\.\d+):\s+)?(?:\d+\s+)?(?:(PERF_RECORD_[A-Z0-9_]+):?(?=[\s(]|$)|([^\s:[\]]\S*?):(?=\s|$))\s*([\s\S]*)$/;

/** Parse the header of a `perf script` line; null if the line has no recognisable header. */
export function parseHeader(line: string): PerfHeader | null {
  const m = HEADER_RE.exec(line);
  if (m === null) return null;
  const event = (m[6] ?? m[7])!;
  const a = Number(m[2]);
  const b = m[3] === undefined ? undefined : Number(m[3]);
  return {
    comm: m[1] ?? '',
    pid: b === undefined ? undefined : a,
    tid: b === undefined ? a : b,
    cpu: m[4] === undefined ? undefined : Number(m[4]),
    time: m[5] === undefined ? NaN : Number(m[5]),
    event,
    rest: m[8]!,
  };
}

/** `key=value` fields of a tracepoint (exceptions:*, task:*, sched:*). Values keep their text. */
export function kvFields(rest: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /(?:^|\s)([A-Za-z_]\w*)=(\S*)/g;
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) out.set(m[1]!, m[2]!);
  return out;
}

/** `key: 0x...` fields of a syscalls:sys_enter_* tracepoint. */
export function colonFields(rest: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([A-Za-z_]\w*):\s*(-?0x[0-9a-fA-F]+|-?\d+)(?=[,\s]|$)/g;
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) out.set(m[1]!, m[2]!);
  return out;
}

/** A number printed by perf: 0x-hex, bare hex (`clone_flags=1200000` is %llx) or decimal. NaN if not one. */
export function parseNum(text: string | undefined, bareHex = false): number {
  if (text === undefined) return NaN;
  const t = text.trim();
  let neg = false;
  let s = t;
  if (s.startsWith('-')) {
    neg = true;
    s = s.slice(1);
  }
  let v: number;
  if (/^0x[0-9a-fA-F]+$/.test(s)) v = hexValue(s.slice(2));
  else if (bareHex && /^[0-9a-fA-F]+$/.test(s)) v = hexValue(s);
  else if (/^\d+$/.test(s)) v = Number(s);
  else return NaN;
  return neg ? -v : v;
}

/** Hex digits → number; 16-digit values with the top bit set are negative (a syscall's -errno printed as %lx). */
function hexValue(h: string): number {
  const digits = h.replace(/^0+(?=.)/, '');
  if (digits.length === 16 && /^[89a-fA-F]/.test(digits)) return Number(BigInt.asIntN(64, BigInt(`0x${digits}`)));
  return parseInt(digits, 16);
}

/**
 * The return value of a syscalls:sys_exit_* line: `0x7f25e370d000`, `0x0`, `0xfffffffffffffff4`
 * (-ENOMEM), or decimal in older perf versions. NaN when absent.
 */
export function exitValue(rest: string): number {
  const m = /^\s*(-?0x[0-9a-fA-F]+|-?\d+)\b/.exec(rest);
  return m === null ? NaN : parseNum(m[1]);
}

/** The backing a PERF_RECORD_MMAP2 file name implies. */
export function backingOfName(name: string): Backing {
  if (name.startsWith('/memfd:') || name.startsWith('/dev/shm/') || name.startsWith('/SYSV')) return { kind: 'memfd', name };
  if (name.startsWith('/') && !name.startsWith('//') && !name.startsWith('/dev/zero')) return { kind: 'file', name };
  return { kind: 'anon' };
}

export interface Mmap2Record {
  pid: number;
  tid: number;
  addr: number;
  len: number;
  /** File offset (pgoff * PAGE_SIZE); meaningless for anonymous mappings. */
  offset: number;
  /** "r-xp" style (PERF_RECORD_MMAP2) or "x"/"r" (PERF_RECORD_MMAP). */
  perms: string;
  /** "/usr/bin/sort", "//anon", "[stack]", "[vdso]", ... */
  name: string;
}

const MMAP_RE =
  /^\s*(-?\d+)\/(-?\d+):\s+\[0x([0-9a-fA-F]+)\(0x([0-9a-fA-F]+)\)\s+@\s+(0x[0-9a-fA-F]+|\d+)(?:\s[^\]]*)?\]:\s+([rwxps-]+)(?:\s+(.*))?$/;

/** The fields of a PERF_RECORD_MMAP2 / PERF_RECORD_MMAP line's rest; null if malformed. */
export function parseMmapRecord(rest: string): Mmap2Record | null {
  const m = MMAP_RE.exec(rest);
  if (m === null) return null;
  return {
    pid: Number(m[1]),
    tid: Number(m[2]),
    addr: parseInt(m[3]!, 16),
    len: parseInt(m[4]!, 16),
    offset: parseNum(m[5]),
    perms: m[6]!,
    name: (m[7] ?? '').trim(),
  };
}

/** PERF_RECORD_FORK(child_pid:child_tid):(parent_pid:parent_tid) and PERF_RECORD_EXIT(...) task events. */
export function parseTaskRecord(rest: string): { pid: number; tid: number; ppid: number; ptid: number } | null {
  const m = /^\s*\((-?\d+):(-?\d+)\):\((-?\d+):(-?\d+)\)/.exec(rest);
  if (m === null) return null;
  return { pid: Number(m[1]), tid: Number(m[2]), ppid: Number(m[3]), ptid: Number(m[4]) };
}

/**
 * A `perf record -d` / `perf mem` sample's data address and whether it is a store: the first
 * hexadecimal token after the event is the `addr` field when perf printed two or more (addr comes
 * before ip in perf's field order) or when it is the only token; `|OP STORE|` in a data_src field or
 * "store" in the event name make it a store; `known` says whether the sample said load or store at all
 * (a data_src, or "load"/"store" in the event name: a software page-faults event does not). null when
 * the sample carries no recognisable addr.
 */
export function parseSampleAddr(event: string, rest: string): { addr: number; ip: number; store: boolean; known: boolean } | null {
  const hex = rest.match(/(?:^|\s)(?:0x)?[0-9a-fA-F]{4,16}(?=\s|$)/g) ?? [];
  const tokens = rest
    .trim()
    .split(/\s+/)
    .filter((t) => t.length > 0);
  if (hex.length === 0) return null;
  const onlyToken = tokens.length === 1;
  if (hex.length < 2 && !onlyToken) return null;
  const addr = parseInt(hex[0]!.trim().replace(/^0x/, ''), 16);
  const ip = hex.length >= 2 ? parseInt(hex[1]!.trim().replace(/^0x/, ''), 16) : NaN;
  const ds = /\|OP\s+(LOAD|STORE|PFETCH|EXEC)/i.exec(rest);
  const store = ds !== null ? ds[1]!.toUpperCase() === 'STORE' : /store/i.test(event);
  return { addr, ip, store, known: ds !== null || /store|load/i.test(event) };
}
