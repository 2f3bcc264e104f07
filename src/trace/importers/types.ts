/**
 * What every importer (perf script, valgrind lackey) provides: a streaming trace and a summary of
 * what it produced and what it could not read.
 */
import type { TraceChunk, TraceHeader } from '../types.js';

export interface ImportOptions {
  /** Keep only records of these processes (perf: pid; lackey: the ==pid== of the run). */
  pids?: number[];
  tids?: number[];
  /** perf: keep only these comm names. */
  comms?: string[];
  /** Stop at the first malformed line (with its line number) instead of counting it. */
  strict?: boolean;
  /** Called now and then with progress (bytes read of the input, records produced). */
  onProgress?: (p: { bytes: number; totalBytes: number; records: number }) => void;
}

export interface MalformedLine {
  line: number;
  text: string;
  reason: string;
}

/** What an import produced, for the one-line summary and `--json`. */
export interface ImportSummary {
  importer: 'perf' | 'lackey';
  input: string;
  /** Input lines read. */
  lines: number;
  /** Trace records written (accesses + ops). */
  records: number;
  reads: number;
  writes: number;
  /** Ops by name (mmap, munmap, fork, ...). */
  ops: Record<string, number>;
  /** Distinct pages touched by accesses. */
  pages: number;
  /** Lines recognised but dropped on purpose (filtered pids, failed syscalls, events that do not matter), by reason. */
  skipped: Record<string, number>;
  /** Lines that could not be parsed. */
  malformed: number;
  /** The first few malformed lines (line number, text, what was expected). */
  firstMalformed: MalformedLine[];
  /** What the importer had to invent (e.g. mappings synthesised from touched addresses), and other caveats. */
  notes: string[];
  /**
   * Input lines per process id, before the --pid/--tid/--comm filters (perf: the process whose address
   * space the event belongs to; lackey: the ==pid== of the log, with its memory lines, and of SYSCALL lines).
   */
  processes: Record<string, number>;
}

export interface ImportedTrace {
  header: TraceHeader;
  chunks: AsyncIterable<TraceChunk>;
  /** Complete once `chunks` has been fully iterated. */
  summary(): ImportSummary;
}
