/**
 * The VMA changes of one op, recorded where the VMA trees change: every insert, remove, split, merge
 * and change of a VMA's range, flags, heap mark or uffd context (the attributes a vma_change row shows)
 * touches the VMA here first (Vma's setters, VmaList.insert/remove), so the log holds each VMA the op
 * changed with its state before the op — O(what changed), never a walk over every VMA. The lane turns
 * it into rows (src/lanes/history.ts), as PteEventSink's batches become pte_change rows.
 */
import type { MemObject } from './object.js';
import type { Vma } from './vma.js';

/** A VMA's visible state: what a vma_change row says about it. */
export interface VmaState {
  /** Owning process (the pid of the mm whose tree holds the VMA). */
  pid: number;
  start: number;
  end: number;
  flags: number;
  obj: MemObject | null;
  isBrk: boolean;
  /** Id of the userfaultfd context, or null. */
  uffdCtx: number | null;
}

export class VmaChangeLog {
  /** Record touches (the lane turns it on for the ops whose VMA changes it stores). */
  active = false;
  /**
   * Each VMA touched since begin(), with its state at the first touch — its state before the op —
   * or null when it was in no process's tree then (created or inserted by the op).
   */
  readonly touched = new Map<Vma, VmaState | null>();

  /** Start recording one op's changes. */
  begin(): void {
    this.touched.clear();
    this.active = true;
  }

  /** Stop recording (the touched VMAs stay readable until the next begin()). */
  end(): void {
    this.active = false;
  }

  /** `v` is about to change (called by Vma and VmaList while the log is active). */
  touch(v: Vma): void {
    if (!this.touched.has(v)) this.touched.set(v, v.state());
  }
}
