/**
 * The playback model's state: where in the run the player is and what it shows. No React, no I/O:
 * the reducer (reducer.ts) changes it, navigate.ts turns commands into actions with the run's data,
 * frame.ts turns it into what the screen and the summaries show.
 */
import type { RunStatus } from '../../store/meta.js';

export interface LaneView {
  laneId: number;
  name: string;
  /** soft-dirty | uffd-sync | uffd-async: decides which PTE bit is the lane's "written". */
  tracker: string;
}

/** Pages [lo, lo + pages) of the selected process. */
export interface PageRange {
  lo: number;
  pages: number;
}

export interface Viewport {
  cols: number;
  rows: number;
}

/** A line being typed after `/` (filter) or `:` (go to). */
export interface Prompt {
  kind: 'filter' | 'goto';
  text: string;
}

/** Playback speed multipliers: ×2 / ÷2 steps between these bounds. */
export const MIN_SPEED = 1 / 16;
export const MAX_SPEED = 4096;

export interface PlaybackState {
  /** Trace position shown: the state after the record at `pos` (0-based). */
  pos: number;
  /** Last position stored (grows while a replay is still writing the run). */
  lastPos: number;
  status: RunStatus;
  /** Playing: move to the next event `speed` × 4 times a second. */
  playing: boolean;
  speed: number;
  /** The lanes shown, top to bottom. */
  lanes: LaneView[];
  /** Index in `lanes` of the focused lane (Tab): its VMAs, history and density are shown. */
  focus: number;
  pid: number;
  range: PageRange;
  /** The range the player opened with (an empty `/` filter returns to it). */
  homeRange: PageRange;
  /** What the range came from when a filter set it ("vma 2", "0x7f0000000000+64"), null for the opening range. */
  filter: string | null;
  /** Page under the cursor. */
  cursor: number;
  /** Marked positions, oldest first. */
  marks: number[];
  /** Only userfaultfd messages of this thread in the event panel (the only per-thread rows a run stores). */
  tid: number | null;
  help: boolean;
  prompt: Prompt | null;
  /** One-line feedback (e.g. "no later collect with a false page"), cleared by the next command. */
  message: string | null;
  viewport: Viewport;
}

export interface InitialOptions {
  pos: number;
  lastPos: number;
  status: RunStatus;
  lanes: LaneView[];
  pid: number;
  range: PageRange;
  viewport: Viewport;
}

export function initialState(o: InitialOptions): PlaybackState {
  return {
    pos: o.pos,
    lastPos: o.lastPos,
    status: o.status,
    playing: false,
    speed: 1,
    lanes: o.lanes,
    focus: 0,
    pid: o.pid,
    range: o.range,
    homeRange: o.range,
    filter: null,
    cursor: o.range.lo,
    marks: [],
    tid: null,
    help: false,
    prompt: null,
    message: null,
    viewport: o.viewport,
  };
}
