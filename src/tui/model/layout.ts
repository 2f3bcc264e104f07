/**
 * How the screen is divided: the lines each section gets and how the page range maps to map cells.
 * The frame is never taller than rows - 1 (ink 6 clears the whole terminal, scrollback included, when a
 * frame reaches the terminal's height): sections shrink, then disappear, in a fixed order.
 */
import type { PageRange, Viewport } from './state.js';

/** Width of the label column left of the map and the timeline (lane names, "truth"). */
export const LABEL_WIDTH = 17;
/** Below this the player shows one line asking for a bigger terminal. */
export const MIN_COLS = LABEL_WIDTH + 16;

export interface Layout {
  /** The whole frame (rows - 1 at most). */
  height: number;
  /** Map bands: each is a ruler line, the truth row and one row per lane. */
  bands: number;
  legend: number;
  /** 0, 2 (marks and cursor) or 3 (plus density). */
  timeline: number;
  /** Lines of the event panel and, below it, the interval counters (a header and one line per lane). */
  panel: number;
  vmas: number;
  /** Lines of the cursor detail: a header and one per lane, or the focused lane only. */
  detail: number;
  /** Whether the terminal is too small for even one band. */
  tooSmall: boolean;
}

export interface MapGeometry {
  cellsPerRow: number;
  /** Pages per cell: 1, or a power of two when the range does not fit the bands at one page a cell. */
  pagesPerCell: number;
  /** Cells in use (the last band may be partly filled). */
  cells: number;
  bands: number;
}

const HEADER = 2;
const HINT = 1;

/**
 * The layout for a terminal and `lanes` lanes. `wantBands` is how many bands the range needs at one page
 * a cell; `vmas` how many VMA lines there are to show (lines left over go to them).
 */
export function layout(v: Viewport, lanes: number, wantBands: number, vmas: number): Layout {
  const height = Math.max(1, v.rows - 1);
  const band = 2 + lanes;
  // Two VMA lines are kept whatever the count, so that the bands (and the cursor's moves) do not depend on it.
  const s = { bands: 1, legend: 1, timeline: 3, panel: lanes + 3, vmas: 2, detail: 1 + lanes };
  const used = () => HEADER + HINT + s.bands * band + s.legend + s.timeline + s.panel + s.vmas + s.detail;
  /** A step that takes one line from part `k`, down to `min`; false when it has none left to give. */
  const less = (k: keyof typeof s, min: number) => (): boolean => {
    if (s[k] <= min) return false;
    s[k]--;
    return true;
  };
  /** A step that cuts part `k` to `max` lines; false when it is not taller. */
  const cap = (k: keyof typeof s, max: number) => (): boolean => {
    if (s[k] <= max) return false;
    s[k] = max;
    return true;
  };
  const shrink = [
    less('vmas', 0),
    less('panel', 3),
    cap('detail', 2),
    cap('timeline', 2),
    cap('legend', 0),
    cap('panel', 0),
    cap('detail', 0),
    cap('timeline', 0),
  ];
  for (const step of shrink) while (used() > height && step());
  const tooSmall = used() > height || v.cols < MIN_COLS;
  // Room left: more bands (up to what the range needs), then a taller panel, then more VMAs.
  let spare = height - used();
  if (!tooSmall) {
    const more = Math.max(0, Math.min(wantBands - 1, Math.floor(spare / band)));
    s.bands += more;
    spare -= more * band;
    if (s.panel > 0) {
      const p = Math.max(0, Math.min(spare, lanes + 11 - s.panel));
      s.panel += p;
      spare -= p;
    }
    if (s.detail > 0) s.vmas += Math.max(0, Math.min(spare, vmas - s.vmas));
  }
  return { height, ...s, tooSmall };
}

/** Bands the range needs at one page a cell. */
export function bandsWanted(range: PageRange, cols: number): number {
  return Math.max(1, Math.ceil(range.pages / cellsPerRow(cols)));
}

export function cellsPerRow(cols: number): number {
  return Math.max(1, cols - LABEL_WIDTH);
}

/** How the range maps onto `bands` bands of a terminal `cols` wide. */
export function mapGeometry(range: PageRange, cols: number, bands: number): MapGeometry {
  const perRow = cellsPerRow(cols);
  let ppc = 1;
  while (Math.ceil(range.pages / ppc) > perRow * bands) ppc *= 2;
  const cells = Math.ceil(range.pages / ppc);
  return { cellsPerRow: perRow, pagesPerCell: ppc, cells, bands: Math.max(1, Math.ceil(cells / perRow)) };
}

/** The map geometry of a state: its range on the bands its terminal allows. */
export function geometryOf(s: { viewport: Viewport; lanes: readonly unknown[]; range: PageRange }): MapGeometry {
  const l = layout(s.viewport, s.lanes.length, bandsWanted(s.range, s.viewport.cols), 0);
  return mapGeometry(s.range, s.viewport.cols, l.bands);
}
