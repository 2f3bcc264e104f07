/**
 * The `--trace-syscalls=yes` lines valgrind interleaves with lackey's memory lines, as valgrind 3.19
 * prints them on amd64 Linux (coregrind/m_syswrap/syswrap-main.c and the per-call PRINTs):
 *
 *   SYSCALL[7132,1](9) sys_mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000)
 *   SYSCALL[7132,1](10) sys_mprotect ( 0x4a14000, 16384, 1 )[sync] --> Success(0x0)
 *   SYSCALL[7132,1](28) sys_madvise ( 0x4840000, 4096, 4 ) --> [async] ...
 *   SYSCALL[7132,1](28) ... [async] --> Success(0x0)            (the result of the call above, later)
 *   SYSCALL[7132,1](11) sys_munmap ( 0x483c001, 4096 )[sync] --> Failure(0x16)
 *   SYSCALL[7132,1](334) unimplemented (by the kernel) syscall: 334! (ni_syscall)
 *    --> [pre-fail] Failure(0x26)                               (the result on the next line)
 *
 * `[pid,tid]`: the process id and valgrind's thread number (1, 2, ...: not the Linux tid); `(nr)`: the
 * syscall number. Arguments print in each wrapper's own format: decimal or 0x-hex, pointers to
 * strings as `0x4034bb0(/path)`, fds of -1 as 4294967295. Failure values are errno numbers.
 */

export interface SyscallLine {
  pid: number;
  tid: number;
  /** Syscall number as printed (a decimal number on Linux). */
  nr: string;
  /** The second half of a blocking call: `... [async] --> result`. */
  completion: boolean;
  /** Wrapper name without the `sys_` prefix ('' for a completion). */
  name: string;
  /** Text between the parentheses of the call ('' when none). */
  args: string;
  /** 'done': result below; 'async': the result comes on a later SYSCALL line of this tid; 'open': on the next ` --> ` line. */
  state: 'done' | 'async' | 'open';
  ok: boolean;
  value: number;
}

const HEAD = /^SYSCALL\[(\d+),(\d+)\]\(\s*([^)]*)\)\s?(.*)$/;
const RESULT = /^(Success|Failure)\((0x[0-9a-fA-F]+)(?::0x[0-9a-fA-F]+)?\)/;

export type Arrow = { ok: boolean; value: number } | { async: true } | { error: string };

const EXPECTED_RESULT = 'expected "--> Success(0x..)" or "--> Failure(0x..)"';

/** Parse the `--> ...` tail of a syscall line: a result, the start of an [async] pair, or a reason it is malformed. */
export function parseArrow(tail: string): Arrow {
  const m = /^-->\s*(?:\[([^\]]*)\]\s*)?(.*)$/.exec(tail.trim());
  if (!m) return { error: EXPECTED_RESULT };
  const rest = m[2]!.trim();
  if (m[1] === 'async' && rest.startsWith('...')) return { async: true };
  const r = RESULT.exec(rest);
  if (!r) return { error: EXPECTED_RESULT };
  return { ok: r[1] === 'Success', value: parseInt(r[2]!.slice(2), 16) };
}

/** Parse a line starting with `SYSCALL[`: the parsed line, or a reason it is malformed. */
export function parseSyscallLine(line: string): SyscallLine | string {
  const h = HEAD.exec(line);
  if (!h) return 'expected SYSCALL[pid,tid](nr) ...';
  const out: SyscallLine = {
    pid: Number(h[1]),
    tid: Number(h[2]),
    nr: h[3]!.trim(),
    completion: false,
    name: '',
    args: '',
    state: 'done',
    ok: false,
    value: 0,
  };
  const rest = h[4]!;
  if (rest.startsWith('... [async]')) {
    out.completion = true;
    const r = parseArrow(rest.slice('... [async]'.length));
    if ('error' in r) return r.error;
    if ('async' in r) return 'expected the result of an [async] call';
    out.ok = r.ok;
    out.value = r.value;
    return out;
  }
  const nm = /^([A-Za-z_][\w]*)/.exec(rest);
  if (!nm) return 'expected a syscall name after SYSCALL[pid,tid](nr)';
  out.name = nm[1]!.startsWith('sys_') ? nm[1]!.slice(4) : nm[1]!;
  const arrow = rest.lastIndexOf('-->');
  const head = (arrow >= 0 ? rest.slice(0, arrow) : rest).replace(/\[sync\]\s*$/, '').trimEnd();
  const open = head.indexOf('(');
  const close = head.lastIndexOf(')');
  if (open >= 0 && close > open) out.args = head.slice(open + 1, close).trim();
  if (arrow < 0) {
    out.state = 'open';
    return out;
  }
  const r = parseArrow(rest.slice(arrow));
  if ('error' in r) return r.error;
  if ('async' in r) out.state = 'async';
  else {
    out.ok = r.ok;
    out.value = r.value;
  }
  return out;
}

/** A printed argument: 0x-hex or decimal (NaN otherwise). */
export function parseNum(s: string): number {
  const t = s.trim();
  if (/^-?0x[0-9a-fA-F]+$/.test(t)) return t.startsWith('-') ? -parseInt(t.slice(3), 16) : parseInt(t.slice(2), 16);
  if (/^-?\d+$/.test(t)) return Number(t);
  return NaN;
}

/** The numeric arguments of a call, or null when their count is not `counts` or one is not a number. */
export function numericArgs(args: string, ...counts: number[]): number[] | null {
  const parts = args === '' ? [] : args.split(',');
  if (!counts.includes(parts.length)) return null;
  const out = parts.map(parseNum);
  return out.some((n) => Number.isNaN(n)) ? null : out;
}

/** A C int printed as unsigned 32-bit (fd -1 prints as 4294967295). */
export function asInt32(n: number): number {
  return n >= 0x80000000 && n <= 0xffffffff ? n - 0x100000000 : n;
}

/** The string of a `0x4034bb0(/path)` argument (the first one in `args`), or null. */
export function stringArg(args: string): string | null {
  const m = /0x[0-9a-fA-F]+\((.*?)\)(?:,|$)/.exec(args);
  return m ? m[1]! : null;
}
