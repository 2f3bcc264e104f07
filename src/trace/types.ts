/**
 * The trace event vocabulary: one set of records, two encodings (JSON Lines and chunked msgpack).
 *
 * A trace is a sequence of records in program order. Memory accesses are the bulk of a trace and
 * travel in columnar chunks of typed arrays (see {@link TraceChunk}); everything else is an
 * {@link TraceOp} object carried beside the columns.
 *
 * Ordering invariants a producer guarantees:
 * - an access follows the mmap/brk that created its range (otherwise the replay records a SIGSEGV);
 * - `t` (ns) is non-decreasing per tid when present;
 * - `pid` of every record names a process that exists (pid 1 exists implicitly; others come from fork,
 *   or from `fork` with parent pid 0 for a process whose real fork is not in the trace).
 */

/** Record kinds, as stored in {@link TraceChunk.kind}. */
export const REC_READ = 0;
export const REC_WRITE = 1;
export const REC_OP = 2;

/** Access flags, as stored in {@link TraceChunk.flags}. */
/** The store or load was made by the kernel on the user's behalf (copy_to_user, GUP): a kernel-mode fault. */
export const ACC_KERNEL = 1;
/** Instruction fetch (lackey `I`): a read for the trackers. */
export const ACC_IFETCH = 2;

/**
 * A chunk of consecutive trace records, column by column. Record `i` is an access when
 * `kind[i]` is REC_READ/REC_WRITE; when it is REC_OP, the record is the next unread entry of `ops`.
 * Columns may be longer than `n` (reused buffers); only the first `n` entries are meaningful.
 */
export interface TraceChunk {
  /** Number of records in the chunk. */
  n: number;
  /** Position of record 0 in the whole trace (0-based record number). */
  pos0: number;
  /** REC_READ, REC_WRITE or REC_OP. */
  kind: Uint8Array;
  /** ACC_* bits (accesses only). */
  flags: Uint8Array;
  /** Process id. */
  pid: Int32Array;
  /** Thread id (defaults to the pid). */
  tid: Int32Array;
  /** Time in ns since the trace start; NaN when the source has no time. */
  time: Float64Array;
  /** Byte address (a double: user addresses below 2^53 are exact). */
  addr: Float64Array;
  /** Access size in bytes (accesses only); an access that spans pages touches each page. */
  size: Uint32Array;
  /** The REC_OP records, in order. */
  ops: TraceOp[];
  /**
   * Trace position of each record, when the chunk holds records that are not in the trace file
   * (collects injected by `--interval`): they share the position of the record before them.
   * Absent: record i is at pos0 + i.
   */
  posCol?: Float64Array;
}

/** Trace header: the first record of a file (optional in JSONL). */
export interface TraceHeader {
  pteplay: 'trace';
  version: 1;
  /** Free-form description (generator name and parameters, importer and source file, ...). */
  source?: string;
  /** System settings the trace expects (a lane may override them). */
  sysfs?: SysfsSettings;
}

/** The /sys/kernel/mm knobs a trace may rely on. */
export interface SysfsSettings {
  /** transparent_hugepage/enabled (default 'madvise'). */
  thp?: 'always' | 'madvise' | 'never';
  /** transparent_hugepage/use_zero_page (default true). */
  thpZeroPage?: boolean;
}

/** Common fields of every op. */
interface OpBase {
  /** Process the op runs in (default 1). */
  pid: number;
  /** Thread (default pid). */
  tid?: number;
  /** Time in ns (optional). */
  t?: number;
}

export type Prot = { read: boolean; write: boolean; exec: boolean };

export type MmapFlag = 'private' | 'shared' | 'anonymous' | 'fixed' | 'fixed_noreplace' | 'populate' | 'hugetlb' | 'noreserve' | 'growsdown';

/** The madvise advices the simulator models (src/mm/madvise.ts); the importers skip the others. */
export const MADVISE_ADVICE = [
  'dontneed',
  'free',
  'remove',
  'hugepage',
  'nohugepage',
  'populate_read',
  'populate_write',
  'pageout',
  'collapse',
  'cold',
  'willneed',
] as const;
export type MadviseAdvice = (typeof MADVISE_ADVICE)[number];

export type MremapFlag = 'maymove' | 'fixed' | 'dontunmap';

/** userfaultfd(2) flags. */
export type UffdFlag = 'cloexec' | 'nonblock' | 'user_mode_only';

/** UFFD_FEATURE_* names (lower case, without the prefix); a number is taken as the raw bit mask. */
export type UffdFeature =
  | 'pagefault_flag_wp'
  | 'event_fork'
  | 'event_remap'
  | 'event_remove'
  | 'missing_hugetlbfs'
  | 'missing_shmem'
  | 'event_unmap'
  | 'sigbus'
  | 'thread_id'
  | 'minor_hugetlbfs'
  | 'minor_shmem'
  | 'exact_address'
  | 'wp_hugetlbfs_shmem'
  | 'wp_unpopulated'
  | 'poison'
  | 'wp_async'
  | 'move';

/** PAGE_IS_* category names (lower case, without the prefix). */
export type PageCategory = 'wpallowed' | 'written' | 'file' | 'present' | 'swapped' | 'pfnzero' | 'huge' | 'soft_dirty' | 'guard';

/** Where a mapping's pages come from. */
export type Backing =
  | { kind: 'anon' }
  /** A regular file (page cache); `name` identifies it across mappings and processes. */
  | { kind: 'file'; name: string }
  /** A memfd / tmpfs object (shmem). */
  | { kind: 'memfd'; name: string };

export type TraceOp =
  /** mmap(2). `result` is the address the recorded kernel returned; when present the mapping is placed there. */
  | (OpBase & { op: 'mmap'; addr: number; len: number; prot: Prot; flags: MmapFlag[]; backing: Backing; offset: number; result?: number })
  | (OpBase & { op: 'munmap'; addr: number; len: number })
  | (OpBase & { op: 'mprotect'; addr: number; len: number; prot: Prot })
  | (OpBase & { op: 'mremap'; addr: number; oldLen: number; newLen: number; flags: MremapFlag[]; newAddr?: number; result?: number })
  | (OpBase & { op: 'madvise'; addr: number; len: number; advice: MadviseAdvice })
  /** brk(2) with the new break; `addr` 0 queries. */
  | (OpBase & { op: 'brk'; addr: number })
  /** Process creation at exec time: sets the heap start (start_brk). */
  | (OpBase & { op: 'exec'; brkStart?: number })
  /** fork(2): `child` gets a copy of pid's mm (dup_mmap); from pid 0, `child` starts with an empty mm. */
  | (OpBase & { op: 'fork'; child: number })
  | (OpBase & { op: 'exit' })
  /** write(2) of `value` to /proc/pid/clear_refs (a string, parsed like kstrtoint). */
  | (OpBase & { op: 'clear_refs'; value: string })
  /** userfaultfd(2) returning `fd`. */
  | (OpBase & { op: 'userfaultfd'; fd: number; flags: UffdFlag[] })
  | (OpBase & { op: 'uffdio_api'; fd: number; api: number; features: number })
  | (OpBase & { op: 'uffdio_register'; fd: number; start: number; len: number; mode: number })
  | (OpBase & { op: 'uffdio_unregister'; fd: number; start: number; len: number })
  | (OpBase & { op: 'uffdio_writeprotect'; fd: number; start: number; len: number; mode: number })
  /** close(2) of a userfaultfd. */
  | (OpBase & { op: 'close'; fd: number })
  /** ioctl(pagemap_fd, PAGEMAP_SCAN, &pm_scan_arg); vec is a buffer of vecLen entries (0 = NULL). */
  | (OpBase & {
      op: 'pagemap_scan';
      start: number;
      end: number;
      flags: number;
      categoryInverted: number;
      categoryMask: number;
      categoryAnyofMask: number;
      returnMask: number;
      vecLen: number;
      maxPages: number;
      size?: number;
    })
  /** pread(pagemap_fd, count bytes, offset): offset = 8 * vpn. */
  | (OpBase & { op: 'pagemap_read'; offset: number; count: number })
  /** pin_user_pages(FOLL_PIN [|FOLL_WRITE] [|FOLL_LONGTERM]) over a range, e.g. io_uring fixed buffers. */
  | (OpBase & { op: 'pin'; addr: number; len: number; write: boolean; longterm: boolean })
  | (OpBase & { op: 'unpin'; addr: number; len: number })
  /** A device writes pinned memory by DMA: content changes, no PTE sees it. */
  | (OpBase & { op: 'dma_write'; addr: number; len: number })
  /** pwrite(2) to a file or memfd: the page cache changes, no PTE of a mapping sees it. */
  | (OpBase & { op: 'pwrite'; backing: Backing; offset: number; len: number })
  /** Generic tracker protocol: re-arm tracking over [addr, addr+len) or the whole process (len 0). */
  | (OpBase & { op: 'reset'; addr: number; len: number })
  /** Generic tracker protocol: read the dirty set over the range (len 0 = whole process); `reset` re-arms atomically where the mechanism can. */
  | (OpBase & { op: 'collect'; addr: number; len: number; reset: boolean; label?: string })
  /** A named point in the trace (shown by the playback UI). */
  | (OpBase & { op: 'mark'; label: string });

export type TraceOpName = TraceOp['op'];

/** A record as the JSONL codec sees it: an access or an op. */
export type TraceRecord =
  | { op: 'read' | 'write'; pid: number; tid: number; t: number; addr: number; size: number; kernel: boolean; ifetch?: boolean }
  | TraceOp;
