/**
 * Actions and the pure reducer of the playback model. Actions carry resolved values (a position, a
 * range): navigate.ts looks them up in the run; this file only applies them.
 */
import { geometryOf } from './layout.js';
import { MAX_SPEED, MIN_SPEED, type PageRange, type PlaybackState, type Prompt, type Viewport } from './state.js';

export type Action =
  | { type: 'seek'; pos: number; message?: string }
  | { type: 'message'; text: string }
  | { type: 'togglePlay' }
  | { type: 'pause'; message?: string }
  | { type: 'speed'; factor: number }
  | { type: 'cycleLane' }
  /** Move the page cursor by map cells and by bands (rows of the map). */
  | { type: 'cursor'; cells: number; bands: number }
  | { type: 'setMark' }
  | { type: 'setRange'; range: PageRange; filter: string | null }
  | { type: 'setTid'; tid: number | null }
  | { type: 'help'; open: boolean }
  | { type: 'prompt'; kind: Prompt['kind'] }
  | { type: 'promptText'; text: string }
  | { type: 'promptCancel' }
  | { type: 'resize'; viewport: Viewport }
  /** The run grew (a replay is still writing it) or finished. */
  | { type: 'grow'; lastPos: number; status: PlaybackState['status'] };

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

export function reduce(s: PlaybackState, a: Action): PlaybackState {
  switch (a.type) {
    case 'seek': {
      const pos = clamp(a.pos, 0, s.lastPos);
      const atEnd = pos === s.lastPos && s.status === 'complete';
      return { ...s, pos, message: a.message ?? null, playing: s.playing && !atEnd };
    }
    case 'message':
      return { ...s, message: a.text };
    case 'togglePlay':
      return { ...s, playing: !s.playing, message: null };
    case 'pause':
      return { ...s, playing: false, message: a.message ?? s.message };
    case 'speed':
      return { ...s, speed: clamp(s.speed * a.factor, MIN_SPEED, MAX_SPEED), message: null };
    case 'cycleLane':
      return { ...s, focus: s.lanes.length ? (s.focus + 1) % s.lanes.length : 0, message: null };
    case 'cursor': {
      const g = geometryOf(s);
      const cell = Math.floor((s.cursor - s.range.lo) / g.pagesPerCell) + a.cells + a.bands * g.cellsPerRow;
      const target = clamp(cell, 0, g.cells - 1);
      return { ...s, cursor: s.range.lo + target * g.pagesPerCell, message: null };
    }
    case 'setMark':
      return { ...s, marks: [...s.marks.filter((m) => m !== s.pos), s.pos], message: `mark set at position ${s.pos}` };
    case 'setRange': {
      const inside = s.cursor >= a.range.lo && s.cursor < a.range.lo + a.range.pages;
      return { ...s, range: a.range, filter: a.filter, cursor: inside ? s.cursor : a.range.lo, message: null };
    }
    case 'setTid':
      return { ...s, tid: a.tid, message: null };
    case 'help':
      return { ...s, help: a.open, message: null };
    case 'prompt':
      return { ...s, prompt: { kind: a.kind, text: '' }, help: false, message: null };
    case 'promptText':
      return s.prompt ? { ...s, prompt: { ...s.prompt, text: a.text } } : s;
    case 'promptCancel':
      return { ...s, prompt: null };
    case 'resize': {
      const next = { ...s, viewport: a.viewport };
      const g = geometryOf(next);
      const cell = clamp(Math.floor((s.cursor - s.range.lo) / g.pagesPerCell), 0, g.cells - 1);
      return { ...next, cursor: s.range.lo + cell * g.pagesPerCell };
    }
    case 'grow': {
      // Following: a player at the end of a live run stays at its end.
      const follow = s.pos === s.lastPos && s.status === 'running';
      return { ...s, lastPos: a.lastPos, status: a.status, pos: follow ? a.lastPos : s.pos };
    }
  }
}
