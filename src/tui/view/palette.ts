/**
 * Colours of the view. Every cell kind also has its own glyph (model/cells.ts), so nothing here is
 * needed to read the screen: with colour off (NO_COLOR, TERM=dumb, --no-color) the view passes no
 * colour at all.
 */
import { Cell, type CellKind } from '../model/cells.js';
import type { Tone } from '../model/frame.js';

export interface Style {
  color?: string;
  bold?: boolean;
  dimColor?: boolean;
}

export const CELL_STYLE: Record<CellKind, Style> = {
  [Cell.OUT]: {},
  [Cell.NONE]: { color: 'gray' },
  [Cell.CLEAN]: { color: 'white' },
  [Cell.PROTECTED]: { color: 'blue' },
  [Cell.MARKER]: { color: 'cyan' },
  [Cell.SWAP]: { color: 'magenta' },
  [Cell.WRITTEN]: { color: 'yellow' },
  [Cell.SOFT_DIRTY]: { color: 'yellow', bold: true },
  [Cell.TP]: { color: 'green', bold: true },
  [Cell.FN]: { color: 'magentaBright', bold: true },
  [Cell.FP]: { color: 'redBright', bold: true },
  [Cell.T_CLEAN]: { color: 'gray' },
  [Cell.T_WRITTEN]: { color: 'whiteBright', bold: true },
};

export const TONE_STYLE: Record<Tone, Style> = {
  plain: {},
  dim: { dimColor: true },
  head: { bold: true },
  bad: { color: 'redBright' },
  warn: { color: 'magentaBright' },
  good: { color: 'green' },
  accent: { color: 'cyan' },
};

/** A style, or no style at all when colour is off (bold and dim stay: they are not colours). */
export function styled(s: Style, color: boolean): Style {
  return color ? s : { bold: s.bold, dimColor: s.dimColor };
}
