/**
 * What one cell of the page map says: the state of a page's entry in a lane, or, at a collect, the lane's
 * verdict for it; the truth row's cells. Each kind has its own glyph so the map reads without colour
 * (NO_COLOR, monochrome terminals); the view adds colours, the summaries print the glyphs.
 */
import { KIND_MASK, MARKER, NONE, PRESENT, SD, SWAP, UW, D } from '../../mm/pte.js';

export const Cell = {
  /** Not in the range (the last band's tail). */
  OUT: 0,
  NONE: 1,
  CLEAN: 2,
  PROTECTED: 3,
  MARKER: 4,
  SWAP: 5,
  WRITTEN: 6,
  SOFT_DIRTY: 7,
  /** At a collect: reported and written. */
  TP: 8,
  /** Reported, not written. */
  FN: 9,
  /** Written, not reported. */
  FP: 10,
  /** Truth row: not written since the reset. */
  T_CLEAN: 11,
  /** Truth row: written since the reset. */
  T_WRITTEN: 12,
} as const;
export type CellKind = (typeof Cell)[keyof typeof Cell];

/** Glyph and legend text of every kind. */
export const CELL_GLYPH: Record<CellKind, string> = {
  [Cell.OUT]: ' ',
  [Cell.NONE]: '.',
  [Cell.CLEAN]: 'o',
  [Cell.PROTECTED]: 'p',
  [Cell.MARKER]: 'm',
  [Cell.SWAP]: 's',
  [Cell.WRITTEN]: 'W',
  [Cell.SOFT_DIRTY]: 'S',
  [Cell.TP]: '#',
  [Cell.FN]: '-',
  [Cell.FP]: '+',
  [Cell.T_CLEAN]: '.',
  [Cell.T_WRITTEN]: '#',
};

/** The legend, in the order it is printed: kind, short name (the screen's one line), full name. */
export const LEGEND: [CellKind, string, string][] = [
  [Cell.NONE, 'none', 'none'],
  [Cell.MARKER, 'marker', 'uffd-wp marker'],
  [Cell.CLEAN, 'clean', 'present clean'],
  [Cell.WRITTEN, 'written', 'written since reset (uffd lanes: present, not protected, dirty)'],
  [Cell.SOFT_DIRTY, 'soft-dirty', 'soft-dirty set'],
  [Cell.PROTECTED, 'protected', 'uffd-wp protected'],
  [Cell.SWAP, 'swap', 'swap'],
  [Cell.TP, 'TP', 'reported and written (TP)'],
  [Cell.FP, 'FP', 'false positive'],
  [Cell.FN, 'FN', 'false negative'],
];

/**
 * The state kind of an entry word in a lane of `tracker`: soft-dirty lanes show SD, uffd lanes show
 * whether the page is write-protected (UW) or written (not protected, hardware dirty).
 */
export function stateCell(state: number, tracker: string): CellKind {
  const kind = state & KIND_MASK;
  if (kind === NONE) return Cell.NONE;
  if (kind === MARKER) return state & UW ? Cell.MARKER : Cell.NONE;
  if (kind === SWAP) return Cell.SWAP;
  if (kind !== PRESENT) return Cell.NONE;
  if (tracker === 'soft-dirty') return state & SD ? Cell.SOFT_DIRTY : Cell.CLEAN;
  if (state & UW) return Cell.PROTECTED;
  return state & D ? Cell.WRITTEN : Cell.CLEAN;
}

/** A collect's verdict for a page, or null for a page neither reported nor written (its state is shown). */
export function verdictCell(reported: boolean, written: boolean): CellKind | null {
  if (reported) return written ? Cell.TP : Cell.FP;
  return written ? Cell.FN : null;
}

/**
 * A cell that stands for several pages shows the most telling of them: a false page first, then a
 * verdict, then a written page, and so on down to none. The kind's value is that rank.
 */
export function mergeCell(a: CellKind, b: CellKind): CellKind {
  return (a > b ? a : b) as CellKind;
}
