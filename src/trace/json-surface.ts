/**
 * Trace vocabulary → JSON surface: the canonical snake_case object of a record or header, with
 * addresses as "0x..." strings and bit masks as name arrays where every set bit has a name.
 * Inverse of json-record.ts: recordFromJson(recordToJson(x)) deep-equals x for every valid x.
 *
 * It never throws on a malformed object (from a binary file or a buggy producer): values it cannot
 * render canonically pass through unchanged, so that recordFromJson reports them precisely.
 */
import {
  PAGE_CATEGORY_NAMES,
  PM_SCAN_FLAG_NAMES,
  UFFD_FEATURE_NAMES,
  UFFDIO_REGISTER_MODE_NAMES,
  UFFDIO_WRITEPROTECT_MODE_NAMES,
} from '../mm/uapi.js';
import { hexAddr } from './addr.js';
import type { Backing, Prot, TraceHeader, TraceOp, TraceRecord } from './types.js';

type Json = Record<string, unknown>;

/** An address as "0x..." when it is a valid trace integer; anything else unchanged. */
export function addrJson(v: unknown): unknown {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? hexAddr(v) : v;
}

/** A mask as an array of names when every set bit has one (bit i = names[i]); else the number. */
export function maskJson(v: unknown, names: readonly string[]): unknown {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v >= 2 ** names.length) return v;
  const out: string[] = [];
  for (let i = 0; i < names.length; i++) if (v & (1 << i)) out.push(names[i]!);
  return out;
}

/** Prot as "rwx" letters in that order, "none" for PROT_NONE. */
export function protJson(p: unknown): unknown {
  if (p === null || typeof p !== 'object') return p;
  const { read, write, exec } = p as Prot;
  if (typeof read !== 'boolean' || typeof write !== 'boolean' || typeof exec !== 'boolean') return p;
  const s = `${read ? 'r' : ''}${write ? 'w' : ''}${exec ? 'x' : ''}`;
  return s === '' ? 'none' : s;
}

function putBacking(o: Json, b: Backing | undefined): void {
  if (b && (b.kind === 'file' || b.kind === 'memfd')) o[b.kind] = b.name;
}

/** The JSON object of a header. */
export function headerToJson(h: TraceHeader): Json {
  const o: Json = { pteplay: h.pteplay, version: h.version };
  if (h.source !== undefined) o.source = h.source;
  if (h.sysfs === null || typeof h.sysfs !== 'object') {
    if (h.sysfs !== undefined) o.sysfs = h.sysfs;
  } else {
    const s: Json = {};
    if (h.sysfs.thp !== undefined) s.thp = h.sysfs.thp;
    if (h.sysfs.thpZeroPage !== undefined) s.thp_zero_page = h.sysfs.thpZeroPage;
    o.sysfs = s;
  }
  return o;
}

export type AccessRecord = Extract<TraceRecord, { op: 'read' | 'write' }>;

export function isAccess(rec: TraceRecord): rec is AccessRecord {
  return rec.op === 'read' || rec.op === 'write';
}

/** The canonical JSON object of a record (key order: op, op fields, pid, tid, t). */
export function recordToJson(rec: TraceRecord): Json {
  if (isAccess(rec)) {
    const o: Json = { op: rec.op, addr: addrJson(rec.addr), size: rec.size, pid: rec.pid };
    if (rec.tid !== rec.pid) o.tid = rec.tid;
    if (!Number.isNaN(rec.t)) o.t = rec.t;
    if (rec.kernel) o.kernel = true;
    if (rec.ifetch) o.ifetch = true;
    return o;
  }
  const o = opJson(rec as TraceOp);
  o.pid = rec.pid;
  if (rec.tid !== undefined) o.tid = rec.tid;
  if (rec.t !== undefined) o.t = rec.t;
  return o;
}

function opJson(r: TraceOp): Json {
  switch (r.op) {
    case 'mmap': {
      const o: Json = { op: r.op, addr: addrJson(r.addr), len: r.len, prot: protJson(r.prot), flags: r.flags };
      putBacking(o, r.backing);
      o.offset = r.offset;
      if (r.result !== undefined) o.result = addrJson(r.result);
      return o;
    }
    case 'munmap':
      return { op: r.op, addr: addrJson(r.addr), len: r.len };
    case 'mprotect':
      return { op: r.op, addr: addrJson(r.addr), len: r.len, prot: protJson(r.prot) };
    case 'mremap': {
      const o: Json = { op: r.op, addr: addrJson(r.addr), old_len: r.oldLen, new_len: r.newLen, flags: r.flags };
      if (r.newAddr !== undefined) o.new_addr = addrJson(r.newAddr);
      if (r.result !== undefined) o.result = addrJson(r.result);
      return o;
    }
    case 'madvise':
      return { op: r.op, addr: addrJson(r.addr), len: r.len, advice: r.advice };
    case 'brk':
      return { op: r.op, addr: addrJson(r.addr) };
    case 'exec':
      return r.brkStart === undefined ? { op: r.op } : { op: r.op, brk_start: addrJson(r.brkStart) };
    case 'fork':
      return { op: r.op, child: r.child };
    case 'exit':
      return { op: r.op };
    case 'clear_refs':
      return { op: r.op, value: r.value };
    case 'userfaultfd':
      return { op: r.op, fd: r.fd, flags: r.flags };
    case 'uffdio_api':
      return { op: r.op, fd: r.fd, api: r.api, features: maskJson(r.features, UFFD_FEATURE_NAMES) };
    case 'uffdio_register':
      return { op: r.op, fd: r.fd, start: addrJson(r.start), len: r.len, mode: maskJson(r.mode, UFFDIO_REGISTER_MODE_NAMES) };
    case 'uffdio_unregister':
      return { op: r.op, fd: r.fd, start: addrJson(r.start), len: r.len };
    case 'uffdio_writeprotect':
      return { op: r.op, fd: r.fd, start: addrJson(r.start), len: r.len, mode: maskJson(r.mode, UFFDIO_WRITEPROTECT_MODE_NAMES) };
    case 'close':
      return { op: r.op, fd: r.fd };
    case 'pagemap_scan': {
      const o: Json = {
        op: r.op,
        start: addrJson(r.start),
        end: addrJson(r.end),
        flags: maskJson(r.flags, PM_SCAN_FLAG_NAMES),
        category_inverted: maskJson(r.categoryInverted, PAGE_CATEGORY_NAMES),
        category_mask: maskJson(r.categoryMask, PAGE_CATEGORY_NAMES),
        category_anyof_mask: maskJson(r.categoryAnyofMask, PAGE_CATEGORY_NAMES),
        return_mask: maskJson(r.returnMask, PAGE_CATEGORY_NAMES),
        vec_len: r.vecLen,
        max_pages: r.maxPages,
      };
      if (r.size !== undefined) o.size = r.size;
      return o;
    }
    case 'pagemap_read':
      return { op: r.op, offset: r.offset, count: r.count };
    case 'pin':
      return { op: r.op, addr: addrJson(r.addr), len: r.len, write: r.write, longterm: r.longterm };
    case 'unpin':
      return { op: r.op, addr: addrJson(r.addr), len: r.len };
    case 'dma_write':
      return { op: r.op, addr: addrJson(r.addr), len: r.len };
    case 'pwrite': {
      const o: Json = { op: r.op };
      putBacking(o, r.backing);
      o.offset = r.offset;
      o.len = r.len;
      return o;
    }
    case 'reset':
      return { op: r.op, addr: addrJson(r.addr), len: r.len };
    case 'collect': {
      const o: Json = { op: r.op, addr: addrJson(r.addr), len: r.len, reset: r.reset };
      if (r.label !== undefined) o.label = r.label;
      return o;
    }
    case 'mark':
      return { op: r.op, label: r.label };
    default: {
      // A malformed op (unknown name) from a binary file: pass it through so the parser names it.
      return { ...(r as object) };
    }
  }
}
