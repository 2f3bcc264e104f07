/**
 * JSON surface → trace vocabulary: turns one decoded JSON object (snake_case keys, kernel names) into a
 * {@link TraceRecord} or a {@link TraceHeader}, validating every field. The JSONL codec uses it per
 * line and the msgpack decoder uses it (through json-surface.ts) to validate op objects.
 */
import { TraceFormatError } from '../errors.js';
import {
  PAGE_CATEGORY_NAMES,
  PAGE_SHIFT,
  PM_SCAN_FLAG_NAMES,
  UFFD_API,
  UFFD_FEATURE_NAMES,
  UFFDIO_REGISTER_MODE_NAMES,
  UFFDIO_WRITEPROTECT_MODE_NAMES,
} from '../mm/uapi.js';
import { describeValue, jsonType } from './addr.js';
import { canonicalName, Fields } from './fields.js';
import { COMMON_FIELDS, HEADER_FIELDS, isJsonOpName, JSONL_OPS, OP_FIELDS, SYSFS_FIELDS, type JsonOpName } from './json-fields.js';
import type { Backing, MmapFlag, MremapFlag, Prot, SysfsSettings, TraceHeader, TraceOp, TraceRecord, UffdFlag } from './types.js';
import { MADVISE_ADVICE } from './types.js';

export const MMAP_FLAGS: readonly MmapFlag[] = [
  'private',
  'shared',
  'anonymous',
  'fixed',
  'fixed_noreplace',
  'populate',
  'hugetlb',
  'noreserve',
  'growsdown',
];
export const MREMAP_FLAGS: readonly MremapFlag[] = ['maymove', 'fixed', 'dontunmap'];
export const UFFD_FLAGS: readonly UffdFlag[] = ['cloexec', 'nonblock', 'user_mode_only'];
const THP_MODES = ['always', 'madvise', 'never'] as const;

/** True for a header object: it has the "pteplay" key and no "op". */
export function isHeaderObject(obj: Record<string, unknown>): boolean {
  return obj.pteplay !== undefined && obj.op === undefined;
}

/** Validate a decoded JSON object as a record or a header. `where` is "line N" or "byte offset N". */
export function recordFromJson(value: unknown, file: string, where: string): TraceRecord | TraceHeader {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TraceFormatError(file, where, `expected a JSON object, found ${jsonType(value) === 'array' ? 'an array' : describeValue(value)}`);
  }
  const obj = value as Record<string, unknown>;
  if (isHeaderObject(obj)) return headerFromJson(obj, file, where);
  const op = obj.op;
  if (op === undefined) throw new TraceFormatError(file, where, 'missing field "op" (a record needs "op"; a header needs "pteplay":"trace")');
  if (typeof op !== 'string' || !isJsonOpName(op)) {
    throw new TraceFormatError(file, where, `unknown op ${describeValue(op)} (expected one of: ${JSONL_OPS.join(', ')})`);
  }
  const f = new Fields(obj, file, where, op);
  f.onlyKeys([...COMMON_FIELDS, ...OP_FIELDS[op]]);
  const pid = f.id('pid', 1);
  if (op === 'read' || op === 'write') {
    const rec: TraceRecord = {
      op,
      pid,
      tid: f.id('tid', pid),
      t: f.time('t') ?? NaN,
      addr: f.uint('addr'),
      size: f.size('size', 1),
      kernel: f.bool('kernel', false),
    };
    if (f.bool('ifetch', false)) rec.ifetch = true;
    return rec;
  }
  const base: { pid: number; tid?: number; t?: number } = { pid };
  const tid = f.has('tid') ? f.id('tid') : undefined;
  const t = f.time('t');
  if (tid !== undefined) base.tid = tid;
  if (t !== undefined) base.t = t;
  return { ...opBody(op, f), ...base } as TraceOp;
}

/** An op without its common fields (distributes over the union). */
type OpBody = TraceOp extends infer O ? (O extends TraceOp ? Omit<O, 'pid' | 'tid' | 't'> : never) : never;

/** The op-specific fields. Key order here is the canonical order formatRecord writes. */
function opBody(op: Exclude<JsonOpName, 'read' | 'write'>, f: Fields): OpBody {
  switch (op) {
    case 'mmap': {
      const flags = f.nameList('flags', MMAP_FLAGS, 'map_');
      const body = {
        op,
        addr: f.uint('addr', 0),
        len: f.uint('len'),
        prot: prot(f),
        flags,
        backing: backing(f, flags.includes('anonymous')),
        offset: f.uint('offset', 0),
      } as Extract<TraceOp, { op: 'mmap' }>;
      const result = f.optUint('result');
      if (result !== undefined) body.result = result;
      return body;
    }
    case 'munmap':
      return { op, addr: f.uint('addr'), len: f.uint('len') };
    case 'mprotect':
      return { op, addr: f.uint('addr'), len: f.uint('len'), prot: prot(f) };
    case 'mremap': {
      const body = {
        op,
        addr: f.uint('addr'),
        oldLen: f.uint('old_len'),
        newLen: f.uint('new_len'),
        flags: f.nameList('flags', MREMAP_FLAGS, 'mremap_'),
      } as Extract<TraceOp, { op: 'mremap' }>;
      const newAddr = f.optUint('new_addr');
      const result = f.optUint('result');
      if (newAddr !== undefined) body.newAddr = newAddr;
      if (result !== undefined) body.result = result;
      return body;
    }
    case 'madvise':
      return { op, addr: f.uint('addr'), len: f.uint('len'), advice: f.choice('advice', MADVISE_ADVICE, 'madv_') };
    case 'brk':
      return { op, addr: f.uint('addr') };
    case 'exec': {
      const brkStart = f.optUint('brk_start');
      return brkStart === undefined ? { op } : { op, brkStart };
    }
    case 'fork':
      return { op, child: f.id('child') };
    case 'exit':
      return { op };
    case 'clear_refs':
      return { op, value: clearRefsValue(f) };
    case 'userfaultfd':
      return { op, fd: f.fd('fd'), flags: f.nameList('flags', UFFD_FLAGS, ['o_', 'uffd_']) };
    case 'uffdio_api':
      return { op, fd: f.fd('fd'), api: f.uint('api', UFFD_API), features: f.mask('features', UFFD_FEATURE_NAMES, 'uffd_feature_') };
    case 'uffdio_register':
      return {
        op,
        fd: f.fd('fd'),
        start: f.uint('start'),
        len: f.uint('len'),
        mode: f.mask('mode', UFFDIO_REGISTER_MODE_NAMES, 'uffdio_register_mode_'),
      };
    case 'uffdio_unregister':
      return { op, fd: f.fd('fd'), start: f.uint('start'), len: f.uint('len') };
    case 'uffdio_writeprotect':
      return {
        op,
        fd: f.fd('fd'),
        start: f.uint('start'),
        len: f.uint('len'),
        mode: f.mask('mode', UFFDIO_WRITEPROTECT_MODE_NAMES, 'uffdio_writeprotect_mode_'),
      };
    case 'close':
      return { op, fd: f.fd('fd') };
    case 'pagemap_scan': {
      const body = {
        op,
        start: f.uint('start'),
        end: f.uint('end'),
        flags: f.mask('flags', PM_SCAN_FLAG_NAMES, 'pm_scan_'),
        categoryInverted: f.mask('category_inverted', PAGE_CATEGORY_NAMES, 'page_is_'),
        categoryMask: f.mask('category_mask', PAGE_CATEGORY_NAMES, 'page_is_'),
        categoryAnyofMask: f.mask('category_anyof_mask', PAGE_CATEGORY_NAMES, 'page_is_'),
        returnMask: f.mask('return_mask', PAGE_CATEGORY_NAMES, 'page_is_'),
        vecLen: f.uint('vec_len', 512),
        maxPages: f.uint('max_pages', 0),
      } as Extract<TraceOp, { op: 'pagemap_scan' }>;
      const size = f.optUint('size');
      if (size !== undefined) body.size = size;
      return body;
    }
    case 'pagemap_read':
      return pagemapRead(f);
    case 'pin':
      return { op, addr: f.uint('addr'), len: f.uint('len'), write: f.bool('write', false), longterm: f.bool('longterm', false) };
    case 'unpin':
      return { op, addr: f.uint('addr'), len: f.uint('len') };
    case 'dma_write':
      return { op, addr: f.uint('addr'), len: f.uint('len') };
    case 'pwrite':
      return { op, backing: backing(f, false), offset: f.uint('offset', 0), len: f.uint('len') };
    case 'reset':
      return { op, addr: f.uint('addr', 0), len: f.uint('len', 0) };
    case 'collect': {
      const body = { op, addr: f.uint('addr', 0), len: f.uint('len', 0), reset: f.bool('reset', false) } as Extract<TraceOp, { op: 'collect' }>;
      const label = f.str('label', true);
      if (label !== undefined) body.label = label;
      return body;
    }
    case 'mark':
      return { op, label: f.str('label') };
  }
}

/** "rw", "r-x", "none", "" or ["read","write","exec"] (names case-insensitive, "PROT_" prefix allowed). */
function prot(f: Fields): Prot {
  if (!f.has('prot')) f.fail('missing required field "prot"');
  const p: Prot = { read: false, write: false, exec: false };
  const v = f.raw('prot');
  const bad = (): never =>
    f.fail(`field "prot": expected a string of r/w/x letters ("rw", "r-x", "none") or an array of read/write/exec, found ${describeValue(v)}`);
  if (typeof v === 'string') {
    if (v.toLowerCase() === 'none') return p;
    for (const c of v) {
      if (c === 'r' || c === 'R') p.read = true;
      else if (c === 'w' || c === 'W') p.write = true;
      else if (c === 'x' || c === 'X') p.exec = true;
      else if (c !== '-') bad();
    }
    return p;
  }
  if (!Array.isArray(v)) bad();
  for (const item of v as unknown[]) {
    const name = typeof item === 'string' ? canonicalName(item, ['read', 'write', 'exec', 'none'] as const, 'prot_') : undefined;
    if (name === undefined) bad();
    else if (name !== 'none') p[name] = true;
  }
  return p;
}

/** file / memfd / anonymous: exactly one source of pages. */
function backing(f: Fields, anonymous: boolean): Backing {
  const file = f.has('file');
  const memfd = f.has('memfd');
  if (anonymous) {
    if (file || memfd) f.fail(`an anonymous mapping takes no "${file ? 'file' : 'memfd'}" (drop it or drop "anonymous" from flags)`);
    return { kind: 'anon' };
  }
  if (file && memfd) f.fail('give either "file" or "memfd", not both');
  if (file) return { kind: 'file', name: f.name('file') };
  if (memfd) return { kind: 'memfd', name: f.name('memfd') };
  return f.fail(f.has('prot') ? 'needs "file":"name" or "memfd":"name", or "anonymous" in flags' : 'needs "file":"name" or "memfd":"name"');
}

function clearRefsValue(f: Fields): string {
  if (!f.has('value')) return f.str('value');
  const v = f.raw('value');
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return f.str('value');
}

/** pread of /proc/pid/pagemap: {offset, count} in bytes, or {addr, pages} (offset = 8 * vpn(addr)). */
function pagemapRead(f: Fields): Extract<TraceOp, { op: 'pagemap_read' }> {
  const bytes = f.has('offset') || f.has('count');
  const pages = f.has('addr') || f.has('pages');
  if (bytes && pages) f.fail('give either "offset"/"count" (bytes of /proc/pid/pagemap) or "addr"/"pages", not both');
  if (pages) {
    const addr = f.uint('addr');
    return { op: 'pagemap_read', offset: 8 * Math.floor(addr / 2 ** PAGE_SHIFT), count: 8 * f.uint('pages') } as Extract<
      TraceOp,
      { op: 'pagemap_read' }
    >;
  }
  return { op: 'pagemap_read', offset: f.uint('offset'), count: f.uint('count') } as Extract<TraceOp, { op: 'pagemap_read' }>;
}

/** `{"pteplay":"trace","version":1,"source":"...","sysfs":{"thp":"always","thp_zero_page":true}}`. */
export function headerFromJson(obj: Record<string, unknown>, file: string, where: string): TraceHeader {
  const f = new Fields(obj, file, where, 'header');
  f.onlyKeys(HEADER_FIELDS);
  if (obj.pteplay !== 'trace') f.fail(`field "pteplay": expected "trace", found ${describeValue(obj.pteplay)}`);
  if (obj.version !== 1) f.fail(`field "version": this pteplay reads version 1, found ${describeValue(obj.version)}`);
  const header: TraceHeader = { pteplay: 'trace', version: 1 };
  const source = f.str('source', true);
  if (source !== undefined) header.source = source;
  if (f.has('sysfs')) {
    const s = obj.sysfs;
    if (s === null || typeof s !== 'object' || Array.isArray(s)) f.fail(`field "sysfs": expected an object, found ${describeValue(s)}`);
    const g = new Fields(s as Record<string, unknown>, file, where, 'header sysfs');
    g.onlyKeys(SYSFS_FIELDS);
    const sysfs: SysfsSettings = {};
    if (g.has('thp')) sysfs.thp = g.choice('thp', THP_MODES);
    if (g.has('thp_zero_page')) sysfs.thpZeroPage = g.bool('thp_zero_page', true);
    header.sysfs = sysfs;
  }
  return header;
}
