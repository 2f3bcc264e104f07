/**
 * The JSON surface of each record type: which snake_case keys it takes. The JSONL parser rejects any
 * other key before looking at values (so a misspelt key is reported as such, not as a missing field),
 * the msgpack decoder checks op objects against the camelCase forms, and the schema test compares
 * this table with schema/trace.schema.json.
 */

/** Keys every record may carry: the process, the thread and the time. */
export const COMMON_FIELDS = ['op', 'pid', 'tid', 't'] as const;

/** Record-specific keys, by op name (JSON spelling). */
export const OP_FIELDS = {
  read: ['addr', 'size', 'kernel', 'ifetch'],
  write: ['addr', 'size', 'kernel', 'ifetch'],
  mmap: ['addr', 'len', 'prot', 'flags', 'file', 'memfd', 'offset', 'result'],
  munmap: ['addr', 'len'],
  mprotect: ['addr', 'len', 'prot'],
  mremap: ['addr', 'old_len', 'new_len', 'flags', 'new_addr', 'result'],
  madvise: ['addr', 'len', 'advice'],
  brk: ['addr'],
  exec: ['brk_start'],
  fork: ['child'],
  exit: [],
  clear_refs: ['value'],
  userfaultfd: ['fd', 'flags'],
  uffdio_api: ['fd', 'api', 'features'],
  uffdio_register: ['fd', 'start', 'len', 'mode'],
  uffdio_unregister: ['fd', 'start', 'len'],
  uffdio_writeprotect: ['fd', 'start', 'len', 'mode'],
  close: ['fd'],
  pagemap_scan: ['start', 'end', 'flags', 'category_inverted', 'category_mask', 'category_anyof_mask', 'return_mask', 'vec_len', 'max_pages', 'size'],
  pagemap_read: ['offset', 'count', 'addr', 'pages'],
  pin: ['addr', 'len', 'write', 'longterm'],
  unpin: ['addr', 'len'],
  dma_write: ['addr', 'len'],
  pwrite: ['file', 'memfd', 'offset', 'len'],
  reset: ['addr', 'len'],
  collect: ['addr', 'len', 'reset', 'label'],
  mark: ['label'],
} as const satisfies Record<string, readonly string[]>;

export type JsonOpName = keyof typeof OP_FIELDS;

/** Every op name the JSONL codec knows, accesses first. */
export const JSONL_OPS = Object.keys(OP_FIELDS) as JsonOpName[];

/** Keys of the optional header line. */
export const HEADER_FIELDS = ['pteplay', 'version', 'source', 'sysfs'] as const;
export const SYSFS_FIELDS = ['thp', 'thp_zero_page'] as const;

export function isJsonOpName(name: string): name is JsonOpName {
  return Object.hasOwn(OP_FIELDS, name);
}

/**
 * The keys a TraceOp object (camelCase, as in src/trace/types.ts) may carry for an op: the JSON keys
 * in camelCase, with `file`/`memfd` folded into `backing` and the `pagemap_read` convenience form dropped.
 */
export function opObjectKeys(op: JsonOpName): string[] {
  let keys: string[] = [...COMMON_FIELDS, ...OP_FIELDS[op]];
  if (op === 'mmap' || op === 'pwrite') keys = keys.filter((k) => k !== 'file' && k !== 'memfd').concat('backing');
  if (op === 'pagemap_read') keys = keys.filter((k) => k !== 'addr' && k !== 'pages');
  return keys.map((k) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));
}
