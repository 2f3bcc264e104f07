import type { Mm } from '../../mm/mm.js';
import type { PageRanges } from '../ranges.js';

/** What a collect read: the pages, how they were read, and errors the calls returned. */
export interface Reading {
  pages: PageRanges;
  method: string;
  errors: string[];
}

/**
 * A lane's tracker protocol: how a real user of one mechanism translates the generic `reset` and
 * `collect` (CRIU: clear_refs + pagemap; a uffd-wp monitor; GetWriteWatch: PAGEMAP_SCAN).
 * Ranges are pages [start, end).
 */
export interface TrackerDriver {
  reset(mm: Mm, start: number, end: number): void;
  /** Read the dirty set; with `reset`, re-arm too (atomically where the mechanism can). */
  collect(mm: Mm, start: number, end: number, reset: boolean): Reading;
}
