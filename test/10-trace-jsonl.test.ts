import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT, TraceFormatError } from '../src/errors.js';
import { JSONL_OPS, formatRecord, parseRecord } from '../src/trace/jsonl.js';
import { ACC_IFETCH, ACC_KERNEL, REC_OP, REC_READ, REC_WRITE, type TraceOp, type TraceRecord } from '../src/trace/types.js';
import { chunksFromRecords, recordsOfChunk } from '../src/trace/records.js';
import { parseCanonicalAccess } from '../src/trace/jsonl.js';
import { recordFromJson } from '../src/trace/json-record.js';

const FIXTURE = new URL('./fixtures/trace/all-ops.jsonl', import.meta.url);
const fixtureLines = readFileSync(FIXTURE, 'utf8').split('\n');

const parse = (line: string) => parseRecord(line, 7, 't.jsonl');
const rec = (line: string) => parse(line) as TraceRecord;

/** The message of the TraceFormatError that parsing `line` throws (fails the test if none). */
function errorOf(line: string, lineNo = 7): string {
  try {
    parseRecord(line, lineNo, 't.jsonl');
  } catch (e) {
    expect(e).toBeInstanceOf(TraceFormatError);
    expect((e as TraceFormatError).exitCode).toBe(EXIT.DATA);
    return (e as Error).message;
  }
  throw new Error(`no error for ${line}`);
}

describe('JSONL: skipped lines and the header', () => {
  it('returns null for blank lines and # or // comments', () => {
    for (const line of ['', '   ', '\r', '# note', '  # indented', '// note', '\t// x']) expect(parse(line)).toBeNull();
  });

  it('parses the header with its sysfs settings in camelCase', () => {
    expect(parse('{"pteplay":"trace","version":1,"source":"gen","sysfs":{"thp":"always","thp_zero_page":false}}')).toEqual({
      pteplay: 'trace',
      version: 1,
      source: 'gen',
      sysfs: { thp: 'always', thpZeroPage: false },
    });
  });

  it('rejects an unsupported version and unknown header keys', () => {
    expect(errorOf('{"pteplay":"trace","version":2}')).toBe('t.jsonl:line 7: header: field "version": this pteplay reads version 1, found 2');
    expect(errorOf('{"pteplay":"trace","version":1,"sysfs":{"thp":"sometimes"}}')).toBe(
      't.jsonl:line 7: header sysfs: field "thp": expected one of always, madvise, never, found "sometimes"',
    );
    expect(errorOf('{"pteplay":"trace","version":1,"author":"me"}')).toMatch(/^t\.jsonl:line 7: header: unknown field "author"/);
  });
});

describe('JSONL: accesses', () => {
  it('applies the defaults: pid 1, tid = pid, size 1, no time (NaN), user mode', () => {
    expect(rec('{"op":"read","addr":"0x1000"}')).toEqual({ op: 'read', pid: 1, tid: 1, t: NaN, addr: 0x1000, size: 1, kernel: false });
    expect(rec('{"op":"write","addr":4096,"pid":7}')).toEqual({ op: 'write', pid: 7, tid: 7, t: NaN, addr: 4096, size: 1, kernel: false });
  });

  it('reads kernel and ifetch flags and the time', () => {
    expect(rec('{"op":"write","addr":"0x7f0000001000","size":8,"pid":1,"tid":2,"t":1234,"kernel":true}')).toEqual({
      op: 'write',
      pid: 1,
      tid: 2,
      t: 1234,
      addr: 0x7f0000001000,
      size: 8,
      kernel: true,
    });
    expect(rec('{"op":"read","addr":"0x400000","ifetch":true}')).toMatchObject({ ifetch: true, kernel: false });
  });

  it('takes hex strings, decimal strings and numbers for the same address', () => {
    const a = rec('{"op":"read","addr":"0x7F0000001000"}');
    expect(rec('{"op":"read","addr":139637976731648}')).toEqual(a);
    expect(rec('{"op":"read","addr":"139637976731648"}')).toEqual(a);
    expect(rec('{"op":"read","addr":"0x1fffffffffffff"}')).toMatchObject({ addr: Number.MAX_SAFE_INTEGER });
  });

  it('maps kernel and ifetch to ACC_* flags in a chunk and back', () => {
    const records = [
      rec('{"op":"write","addr":"0x1000","kernel":true}'),
      rec('{"op":"read","addr":"0x2000","ifetch":true}'),
      rec('{"op":"read","addr":"0x3000"}'),
      rec('{"op":"mark","label":"m"}'),
    ];
    const [chunk] = [...chunksFromRecords(records)];
    expect(Array.from(chunk!.kind.subarray(0, 4))).toEqual([REC_WRITE, REC_READ, REC_READ, REC_OP]);
    expect(Array.from(chunk!.flags.subarray(0, 4))).toEqual([ACC_KERNEL, ACC_IFETCH, 0, 0]);
    expect([...recordsOfChunk(chunk!)]).toEqual(records);
  });
});

describe('JSONL: ops', () => {
  it('the fixture holds every op the codec knows, and the codec knows every op of the vocabulary', () => {
    const seen = new Set<string>();
    fixtureLines.forEach((line, i) => {
      const r = parseRecord(line, i + 1, 'all-ops.jsonl');
      if (r && 'op' in r) seen.add(r.op);
    });
    expect([...seen].sort()).toEqual([...JSONL_OPS].sort());
    // TraceOp names (types.ts) plus read/write: a compile-time list kept in step with the union.
    const vocabulary: Record<TraceOp['op'] | 'read' | 'write', true> = {
      read: true,
      write: true,
      mmap: true,
      munmap: true,
      mprotect: true,
      mremap: true,
      madvise: true,
      brk: true,
      exec: true,
      fork: true,
      exit: true,
      clear_refs: true,
      userfaultfd: true,
      uffdio_api: true,
      uffdio_register: true,
      uffdio_unregister: true,
      uffdio_writeprotect: true,
      close: true,
      pagemap_scan: true,
      pagemap_read: true,
      pin: true,
      unpin: true,
      dma_write: true,
      pwrite: true,
      reset: true,
      collect: true,
      mark: true,
    };
    expect([...JSONL_OPS].sort()).toEqual(Object.keys(vocabulary).sort());
  });

  it('mmap: backing, prot spellings, flag prefixes and defaults', () => {
    expect(rec('{"op":"mmap","len":8192,"prot":"rw","flags":["private","anonymous"]}')).toEqual({
      op: 'mmap',
      pid: 1,
      addr: 0,
      len: 8192,
      prot: { read: true, write: true, exec: false },
      flags: ['private', 'anonymous'],
      backing: { kind: 'anon' },
      offset: 0,
    });
    expect(
      rec(
        '{"op":"mmap","addr":"0x10000","len":4096,"prot":["READ","exec"],"flags":["MAP_SHARED"],"file":"f","offset":8192,"result":"0x20000","t":5}',
      ),
    ).toEqual({
      op: 'mmap',
      pid: 1,
      t: 5,
      addr: 0x10000,
      len: 4096,
      prot: { read: true, write: false, exec: true },
      flags: ['shared'],
      backing: { kind: 'file', name: 'f' },
      offset: 8192,
      result: 0x20000,
    });
    expect(rec('{"op":"mmap","len":4096,"prot":"","flags":["shared"],"memfd":"m"}')).toMatchObject({
      prot: { read: false, write: false, exec: false },
      backing: { kind: 'memfd', name: 'm' },
    });
    expect(rec('{"op":"mprotect","addr":0,"len":4096,"prot":"xr"}')).toMatchObject({ prot: { read: true, write: false, exec: true } });
    expect(rec('{"op":"mprotect","addr":0,"len":4096,"prot":"NONE"}')).toMatchObject({ prot: { read: false, write: false, exec: false } });
  });

  it('mremap, madvise, brk, exec, fork, exit', () => {
    expect(rec('{"op":"mremap","addr":"0x1000","old_len":4096,"new_len":8192}')).toEqual({
      op: 'mremap',
      pid: 1,
      addr: 0x1000,
      oldLen: 4096,
      newLen: 8192,
      flags: [],
    });
    expect(rec('{"op":"madvise","addr":0,"len":4096,"advice":"MADV_PAGEOUT"}')).toMatchObject({ advice: 'pageout' });
    expect(rec('{"op":"madvise","addr":0,"len":4096,"advice":"Populate_Write"}')).toMatchObject({ advice: 'populate_write' });
    expect(rec('{"op":"brk","addr":0}')).toEqual({ op: 'brk', pid: 1, addr: 0 });
    expect(rec('{"op":"exec"}')).toEqual({ op: 'exec', pid: 1 });
    expect(rec('{"op":"fork","child":"2","tid":1}')).toEqual({ op: 'fork', pid: 1, tid: 1, child: 2 });
    expect(rec('{"op":"exit","pid":3}')).toEqual({ op: 'exit', pid: 3 });
  });

  it('userfaultfd ioctls: names or raw numbers for features and modes, kernel prefixes allowed', () => {
    expect(rec('{"op":"uffdio_api","fd":3}')).toEqual({ op: 'uffdio_api', pid: 1, fd: 3, api: 0xaa, features: 0 });
    expect(rec('{"op":"uffdio_api","fd":3,"features":["UFFD_FEATURE_WP_ASYNC","wp_unpopulated"]}')).toMatchObject({
      features: (1 << 15) | (1 << 13),
    });
    expect(rec('{"op":"uffdio_api","fd":3,"features":"0x8000"}')).toMatchObject({ features: 0x8000 });
    expect(rec('{"op":"uffdio_register","fd":3,"start":0,"len":4096,"mode":["missing","wp"]}')).toMatchObject({ mode: 3 });
    expect(rec('{"op":"uffdio_writeprotect","fd":3,"start":0,"len":4096,"mode":["wp","dontwake"]}')).toMatchObject({ mode: 3 });
    expect(rec('{"op":"uffdio_writeprotect","fd":3,"start":0,"len":4096}')).toMatchObject({ mode: 0 });
    expect(rec('{"op":"userfaultfd","fd":4,"flags":["O_CLOEXEC","UFFD_USER_MODE_ONLY"]}')).toEqual({
      op: 'userfaultfd',
      pid: 1,
      fd: 4,
      flags: ['cloexec', 'user_mode_only'],
    });
  });

  it('pagemap_scan defaults and masks; pagemap_read in bytes or pages; clear_refs value as a string', () => {
    expect(rec('{"op":"pagemap_scan","start":"0x1000","end":"0x3000"}')).toEqual({
      op: 'pagemap_scan',
      pid: 1,
      start: 0x1000,
      end: 0x3000,
      flags: 0,
      categoryInverted: 0,
      categoryMask: 0,
      categoryAnyofMask: 0,
      returnMask: 0,
      vecLen: 512,
      maxPages: 0,
    });
    expect(
      rec(
        '{"op":"pagemap_scan","start":0,"end":4096,"flags":["PM_SCAN_WP_MATCHING","check_wpasync"],"category_mask":["PAGE_IS_WRITTEN"],"return_mask":["written","soft_dirty"],"size":96}',
      ),
    ).toMatchObject({ flags: 3, categoryMask: 2, returnMask: 2 | 128, size: 96 });
    expect(rec('{"op":"pagemap_read","addr":"0x7f0000001000","pages":2}')).toEqual({
      op: 'pagemap_read',
      pid: 1,
      offset: 8 * 0x7f0000001,
      count: 16,
    });
    expect(rec('{"op":"clear_refs","value":4}')).toEqual({ op: 'clear_refs', pid: 1, value: '4' });
    expect(rec('{"op":"clear_refs","value":" 4\\n"}')).toMatchObject({ value: ' 4\n' });
  });

  it('pin, pwrite, reset, collect defaults', () => {
    expect(rec('{"op":"pin","addr":0,"len":4096}')).toEqual({ op: 'pin', pid: 1, addr: 0, len: 4096, write: false, longterm: false });
    expect(rec('{"op":"pwrite","file":"f","len":1}')).toEqual({ op: 'pwrite', pid: 1, backing: { kind: 'file', name: 'f' }, offset: 0, len: 1 });
    expect(rec('{"op":"reset"}')).toEqual({ op: 'reset', pid: 1, addr: 0, len: 0 });
    expect(rec('{"op":"collect"}')).toEqual({ op: 'collect', pid: 1, addr: 0, len: 0, reset: false });
  });
});

describe('JSONL: canonical form', () => {
  it('parse(format(x)) deep-equals x for every record of the fixture, and format is a fixed point', () => {
    let n = 0;
    fixtureLines.forEach((line, i) => {
      const x = parseRecord(line, i + 1, 'all-ops.jsonl');
      if (x === null) return;
      const text = formatRecord(x);
      expect(parseRecord(text, 1, 'again')).toEqual(x);
      expect(formatRecord(parseRecord(text, 1, 'again')!)).toBe(text);
      n++;
    });
    expect(n).toBe(43);
  });

  it('writes hex addresses, names for masks and omits defaults of accesses', () => {
    expect(formatRecord(rec('{"op":"write","addr":139637976731648,"size":8,"kernel":false}'))).toBe(
      '{"op":"write","addr":"0x7f0000001000","size":8,"pid":1}',
    );
    expect(formatRecord(rec('{"op":"read","addr":"0x10","pid":2,"tid":3,"t":5,"kernel":true,"ifetch":true}'))).toBe(
      '{"op":"read","addr":"0x10","size":1,"pid":2,"tid":3,"t":5,"kernel":true,"ifetch":true}',
    );
    expect(formatRecord(rec('{"op":"mmap","len":8192,"prot":["write","read"],"flags":["anonymous","private"],"pid":1}'))).toBe(
      '{"op":"mmap","addr":"0x0","len":8192,"prot":"rw","flags":["anonymous","private"],"offset":0,"pid":1}',
    );
    expect(formatRecord(rec('{"op":"uffdio_api","fd":3,"features":32768}'))).toBe(
      '{"op":"uffdio_api","fd":3,"api":170,"features":["wp_async"],"pid":1}',
    );
  });

  it('keeps a mask as a number when a set bit has no name', () => {
    const r = rec('{"op":"uffdio_api","fd":3,"features":"0x80000000"}');
    expect(formatRecord(r)).toBe('{"op":"uffdio_api","fd":3,"api":170,"features":2147483648,"pid":1}');
    expect(parse(formatRecord(r))).toEqual(r);
  });
});

describe('JSONL: the fast path for canonical access lines', () => {
  /** The general path: JSON.parse and field checks. */
  const general = (line: string) => recordFromJson(JSON.parse(line), 't.jsonl', 'line 7');

  it('agrees with the general path on every canonical access line', () => {
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const r: TraceRecord = {
        op: i % 2 ? 'write' : 'read',
        pid: 1 + (i % 3),
        tid: 1 + (i % 5),
        t: i % 7 ? i * 1000.25 : NaN,
        addr: Math.floor(Math.random() * 2 ** 47),
        size: 1 + (i % 4096),
        kernel: i % 11 === 0,
      };
      if (i % 13 === 0) r.ifetch = true;
      lines.push(formatRecord(r));
    }
    lines.push(
      '{"op":"read","addr":"0x0","size":1,"pid":0}',
      '{"op":"write","addr":"0xfffffffffffff","size":4294967295,"pid":2147483647,"tid":2147483647,"t":1e+21}\r',
    );
    for (const line of lines) {
      const fast = parseCanonicalAccess(line);
      expect(fast, line).not.toBeNull();
      expect(fast).toEqual(general(line));
    }
  });

  it('leaves everything else to the general path, which reports errors', () => {
    for (const line of [
      '{"op":"write","addr":"0x10000000000000","size":1,"pid":1}', // 2^52: 14 digits
      '{"op":"write","addr":"0x1000","size":4294967296,"pid":1}',
      '{"op":"write","addr":"0x1000","size":1,"pid":2147483648}',
      '{"op":"write","addr":"0x1000","size":1,"pid":1,"t":1e999}',
      '{"op":"write","addr":"0x1000","size":01,"pid":1}',
      ' {"op":"write","addr":"0x1000","size":1,"pid":1}',
      '{"op":"write","addr":"0x1000","size":1,"pid":1,"kernel":false}',
      '{"op":"write","addr":"0x1000","size":1,"pid":1}x',
    ]) {
      expect(parseCanonicalAccess(line), line).toBeNull();
    }
    expect(rec('{"op":"write","addr":"0x10000000000000","size":1,"pid":1}')).toMatchObject({ addr: 2 ** 52 });
    expect(rec(' {"op":"write","addr":"0x1000","size":1,"pid":1}')).toMatchObject({ addr: 0x1000 });
    expect(errorOf('{"op":"write","addr":"0x1000","size":4294967296,"pid":1}')).toContain(
      'field "size": expected an integer no larger than 4294967295',
    );
    expect(errorOf('{"op":"write","addr":"0x1000","size":1,"pid":1,"t":1e999}')).toContain(
      'field "t": expected a non-negative number of ns, found Infinity',
    );
    expect(errorOf('{"op":"write","addr":"0x1000","size":1,"pid":1}x')).toContain('invalid JSON');
  });
});

describe('JSONL: errors name the file, the line, the field, what was expected and what was found', () => {
  const cases: Array<[string, string]> = [
    ['{"op":"write","addr":"0x1000"', 'invalid JSON'],
    ['[1,2]', 'expected a JSON object, found an array'],
    ['{"addr":1}', 'missing field "op"'],
    ['{"op":"store","addr":1}', 'unknown op "store" (expected one of: read, write, mmap'],
    ['{"op":"write","addr":1,"len":4}', 'write: unknown field "len" (write takes: op, pid, tid, t, addr, size, kernel, ifetch)'],
    ['{"op":"write"}', 'write: missing required field "addr"'],
    [
      '{"op":"write","addr":"abc"}',
      'write: field "addr": expected a non-negative integer (number, "0x..." hex or decimal string), found "abc" (not a "0x..." hex or decimal string)',
    ],
    ['{"op":"write","addr":-4096}', 'found -4096 (negative)'],
    ['{"op":"write","addr":1.5}', 'found 1.5 (not a whole number)'],
    ['{"op":"write","addr":"0xffffffffff600000"}', 'found "0xffffffffff600000" (beyond 2^53-1 (not exact in a double))'],
    ['{"op":"write","addr":true}', 'found true (a boolean, not a number or string)'],
    ['{"op":"write","addr":1,"size":0}', 'write: field "size": expected a positive size in bytes, found 0'],
    ['{"op":"write","addr":1,"size":4294967296}', 'field "size": expected an integer no larger than 4294967295'],
    ['{"op":"write","addr":1,"kernel":1}', 'write: field "kernel": expected true or false, found 1'],
    ['{"op":"write","addr":1,"t":-1}', 'field "t": expected a non-negative number of ns, found -1'],
    ['{"op":"write","addr":1,"pid":"one"}', 'field "pid": expected a non-negative integer'],
    ['{"op":"mmap","len":4096,"prot":"rw","flags":["private"]}', 'mmap: needs "file":"name" or "memfd":"name", or "anonymous" in flags'],
    ['{"op":"mmap","len":4096,"prot":"rw","flags":["private","anonymous"],"file":"f"}', 'mmap: an anonymous mapping takes no "file"'],
    ['{"op":"mmap","len":4096,"prot":"rw","flags":["shared"],"file":"f","memfd":"m"}', 'mmap: give either "file" or "memfd", not both'],
    ['{"op":"mmap","len":4096,"prot":"rwz","flags":["private","anonymous"]}', 'mmap: field "prot": expected a string of r/w/x letters'],
    ['{"op":"mmap","len":4096,"flags":["private","anonymous"]}', 'mmap: missing required field "prot"'],
    [
      '{"op":"mmap","len":4096,"prot":"r","flags":["private","anon"]}',
      'mmap: field "flags": unknown name "anon" (expected any of: private, shared, anonymous',
    ],
    ['{"op":"mmap","len":4096,"prot":"r","flags":"private"}', 'mmap: field "flags": expected an array of names'],
    ['{"op":"madvise","addr":0,"len":4096,"advice":"MADV_SEQUENTIAL"}', 'madvise: field "advice": expected one of dontneed, free'],
    ['{"op":"uffdio_api","fd":3,"features":["wp_sync"]}', 'uffdio_api: field "features": unknown name "wp_sync" (expected any of: pagefault_flag_wp'],
    ['{"op":"pagemap_scan","start":0,"end":1,"category_mask":["dirty"]}', 'field "category_mask": unknown name "dirty"'],
    ['{"op":"pagemap_read","offset":0,"pages":1}', 'pagemap_read: give either "offset"/"count"'],
    ['{"op":"clear_refs","value":true}', 'clear_refs: field "value": expected a string, found true'],
    ['{"op":"pwrite","len":1}', 'pwrite: needs "file":"name" or "memfd":"name"'],
    ['{"op":"mark"}', 'mark: missing required field "label"'],
    ['{"op":"close","fd":-1}', 'close: field "fd": expected a non-negative integer'],
  ];
  it.each(cases)('%s', (line, expected) => {
    const msg = errorOf(line, 42);
    expect(msg.startsWith('t.jsonl:line 42: ')).toBe(true);
    expect(msg).toContain(expected);
    expect(msg).not.toContain('\n');
  });

  it('reports an unknown key before a missing required one (a misspelt key is named as such)', () => {
    expect(errorOf('{"op":"munmap","addr":0,"lenght":4096}')).toMatch(/munmap: unknown field "lenght"/);
  });

  it('keeps a JSON syntax error on one line without echoing a long input', () => {
    const msg = errorOf(`{"op":"write","addr":"${'a'.repeat(500)}`);
    expect(msg.length).toBeLessThan(200);
  });
});
