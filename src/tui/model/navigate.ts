/**
 * Commands (what a key means) turned into reducer actions with the run's data: the next event, the next
 * collect with a false page, the position of a change row, the range of a VMA. The keymap (../keymap.ts)
 * names a command for every key; the typed lines of `/` and `:` are parsed here too.
 */
import type { PlaybackReader } from '../../store/playback-reader.js';
import { hexAddr, parsePageRange } from '../../trace/addr.js';
import type { Action } from './reducer.js';
import type { PageRange, PlaybackState } from './state.js';

/** What navigation reads from a run (PlaybackReader implements it). */
export type NavigationSource = Pick<PlaybackReader, 'eventPos' | 'collects' | 'pageChangePos' | 'posOfSeq' | 'seqAtPos' | 'vmasAt'>;

export type Command =
  | 'togglePlay'
  | 'stepForward'
  | 'stepBack'
  | 'nextPageChange'
  | 'prevPageChange'
  | 'nextInterval'
  | 'prevInterval'
  | 'nextInterval10'
  | 'prevInterval10'
  | 'jumpPercent'
  | 'start'
  | 'end'
  | 'nextFalse'
  | 'prevFalse'
  | 'setMark'
  | 'toMark'
  | 'faster'
  | 'slower'
  | 'cycleLane'
  | 'filter'
  | 'goto'
  | 'help'
  | 'quit'
  | 'interrupt'
  | 'cursorLeft'
  | 'cursorRight'
  | 'cursorUp'
  | 'cursorDown';

/** The largest range a filter may select (the page window is a typed array of this many entries per lane). */
export const MAX_RANGE_PAGES = 1 << 20;

/** Does a collect have a false page in one of the shown lanes? */
export function hasFalse(c: ReturnType<NavigationSource['collects']>[number], laneIds: readonly number[]): boolean {
  return c.lanes.some((l) => laneIds.includes(l.laneId) && l.fp + l.fn > 0);
}

/**
 * The actions for a command at state `s`. `key` is the typed character (for `0`-`9`). `quit`,
 * `interrupt` and `help` are handled by the caller (they are not about the run).
 */
export function commandActions(cmd: Command, key: string, s: PlaybackState, src: NavigationSource): Action[] {
  const seek = (pos: number | undefined, none: string): Action[] => (pos === undefined ? [{ type: 'message', text: none }] : [{ type: 'seek', pos }]);
  const collects = src.collects();
  const lane = s.lanes[s.focus];
  switch (cmd) {
    case 'togglePlay':
      return [{ type: 'togglePlay' }];
    case 'stepForward':
      return seek(src.eventPos(s.pos, 1), 'no later event');
    case 'stepBack':
      return seek(src.eventPos(s.pos, -1), 'no earlier event');
    case 'nextPageChange':
    case 'prevPageChange': {
      if (!lane) return [];
      const dir = cmd === 'nextPageChange' ? 1 : -1;
      return seek(
        src.pageChangePos(lane.laneId, s.pid, s.cursor, s.pos, dir),
        `no ${dir > 0 ? 'later' : 'earlier'} change of page ${hexAddr(s.cursor)} in ${lane.name}`,
      );
    }
    case 'nextInterval':
    case 'nextInterval10': {
      const later = collects.filter((c) => c.pos > s.pos);
      const n = cmd === 'nextInterval' ? 1 : 10;
      return seek(later.length ? later[Math.min(n, later.length) - 1]!.pos : undefined, 'no later collect');
    }
    case 'prevInterval':
    case 'prevInterval10': {
      const earlier = collects.filter((c) => c.pos < s.pos);
      const n = cmd === 'prevInterval' ? 1 : 10;
      return earlier.length ? [{ type: 'seek', pos: earlier[Math.max(0, earlier.length - n)]!.pos }] : [{ type: 'seek', pos: 0 }];
    }
    case 'jumpPercent': {
      const d = Number(key);
      return Number.isInteger(d) ? [{ type: 'seek', pos: Math.round((s.lastPos * d) / 10) }] : [];
    }
    case 'start':
      return [{ type: 'seek', pos: 0 }];
    case 'end':
      return [{ type: 'seek', pos: s.lastPos }];
    case 'nextFalse':
    case 'prevFalse': {
      const ids = s.lanes.map((l) => l.laneId);
      const f = collects.filter((c) => hasFalse(c, ids));
      const c = cmd === 'nextFalse' ? f.find((x) => x.pos > s.pos) : [...f].reverse().find((x) => x.pos < s.pos);
      return seek(c?.pos, `no ${cmd === 'nextFalse' ? 'later' : 'earlier'} collect with a false page in the shown lanes`);
    }
    case 'setMark':
      return [{ type: 'setMark' }];
    case 'toMark':
      return seek(s.marks[s.marks.length - 1], 'no mark set (press m)');
    case 'faster':
      return [{ type: 'speed', factor: 2 }];
    case 'slower':
      return [{ type: 'speed', factor: 0.5 }];
    case 'cycleLane':
      return [{ type: 'cycleLane' }];
    case 'filter':
      return [{ type: 'prompt', kind: 'filter' }];
    case 'goto':
      return [{ type: 'prompt', kind: 'goto' }];
    case 'cursorLeft':
      return [{ type: 'cursor', cells: -1, bands: 0 }];
    case 'cursorRight':
      return [{ type: 'cursor', cells: 1, bands: 0 }];
    case 'cursorUp':
      return [{ type: 'cursor', cells: 0, bands: -1 }];
    case 'cursorDown':
      return [{ type: 'cursor', cells: 0, bands: 1 }];
    case 'help':
    case 'quit':
    case 'interrupt':
      return [];
  }
}

/**
 * `:` line: a trace position ("120000", "0x1d4c0", "64k"), a percentage ("50%"), a change row of the focused
 * lane ("#5678" or "seq 5678") or a collect ("c3" or "collect 3").
 */
export function gotoActions(text: string, s: PlaybackState, src: NavigationSource): Action[] {
  const t = text.trim();
  const bad: Action[] = [{ type: 'message', text: `go to: expected a position (120000), N%, #SEQ or cN, got "${t}"` }];
  let m: RegExpExecArray | null;
  if ((m = /^(\d+(?:\.\d+)?)%$/.exec(t))) return [{ type: 'seek', pos: Math.round((s.lastPos * Number(m[1])) / 100) }];
  if ((m = /^(?:#|seq\s+)(\d+)$/.exec(t))) {
    const lane = s.lanes[s.focus];
    const pos = lane ? src.posOfSeq(lane.laneId, Number(m[1])) : undefined;
    return pos === undefined ? [{ type: 'message', text: `no change row ${m[1]} in ${lane?.name ?? 'this run'}` }] : [{ type: 'seek', pos }];
  }
  if ((m = /^(?:c|collect\s+)(\d+)$/.exec(t))) {
    const c = src.collects().find((x) => x.idx === Number(m![1]));
    return c ? [{ type: 'seek', pos: c.pos }] : [{ type: 'message', text: `no collect ${m[1]}` }];
  }
  const n = parseNumber(t);
  return n === null ? bad : [{ type: 'seek', pos: n }];
}

/**
 * `/` line: "" (back to the opening range, all threads), an address range ("0x7f0000000000+64",
 * "0x7f0000000000-0x7f0000040000"), a VMA of the focused lane by its number in the VMA list or an address
 * in it ("vma 2", "vma 0x7f0000001000"), or a thread ("tid 12": its userfaultfd messages only).
 */
export function filterActions(text: string, s: PlaybackState, src: NavigationSource): Action[] {
  const t = text.trim();
  if (t === '')
    return [
      { type: 'setRange', range: s.homeRange, filter: null },
      { type: 'setTid', tid: null },
    ];
  let m: RegExpExecArray | null;
  if ((m = /^tid\s+(\d+)$/.exec(t))) return [{ type: 'setTid', tid: Number(m[1]) }];
  if ((m = /^vma\s+(\S+)$/.exec(t))) {
    const lane = s.lanes[s.focus];
    const vmas = lane ? src.vmasAt(lane.laneId, s.pid, s.pos) : [];
    const arg = m[1]!;
    const v =
      /^\d+$/.test(arg) && Number(arg) < vmas.length
        ? vmas[Number(arg)]
        : vmas.find((x) => {
            const n = parseNumber(arg);
            return n !== null && n >= x.startVpn * 4096 && n < x.endVpn * 4096;
          });
    if (!v)
      return [{ type: 'message', text: `no VMA "${arg}" at this position (${vmas.length} VMAs: use its number in the list or an address in it)` }];
    return rangeAction({ lo: v.startVpn, pages: v.endVpn - v.startVpn }, `vma ${hexAddr(v.startVpn * 4096)}`);
  }
  const r = parsePageRange(t);
  if (!r) return [{ type: 'message', text: `filter: expected ADDR+PAGES, ADDR-ADDR, vma N, tid N or nothing, got "${t}"` }];
  return rangeAction({ lo: r.vpn, pages: r.pages }, t);
}

function rangeAction(range: PageRange, filter: string): Action[] {
  if (range.pages > MAX_RANGE_PAGES)
    return [{ type: 'message', text: `filter: ${range.pages} pages is more than the ${MAX_RANGE_PAGES} a map shows` }];
  return [{ type: 'setRange', range, filter }];
}

/** A decimal, 0x-hex or k/M-suffixed whole number, or null. */
function parseNumber(t: string): number | null {
  const m = /^(0x[0-9a-fA-F]+|\d+)([kKmM]?)$/.exec(t);
  if (!m) return null;
  const n = Number(m[1]) * (m[2] ? (m[2].toLowerCase() === 'k' ? 1e3 : 1e6) : 1);
  return Number.isSafeInteger(n) ? n : null;
}

/** Milliseconds between playback steps at a speed, and how many events each step moves. */
export function playbackStep(speed: number): { ms: number; events: number } {
  // 4 events a second at 1x; above ~30 steps a second several events go per step (the terminal cannot show more frames).
  const perSecond = 4 * speed;
  if (perSecond <= 30) return { ms: Math.round(1000 / perSecond), events: 1 };
  return { ms: 33, events: Math.ceil(perSecond / 30) };
}

/**
 * One playback step: the next event, or, for several events per step, as many change rows of the focused
 * lane further (one query instead of one per event). Pauses at the end.
 */
export function playActions(s: PlaybackState, src: NavigationSource): Action[] {
  const { events } = playbackStep(s.speed);
  const lane = s.lanes[s.focus];
  let pos: number | undefined;
  if (events > 1 && lane) pos = src.posOfSeq(lane.laneId, src.seqAtPos(lane.laneId, s.pos) + events);
  if (pos === undefined || pos <= s.pos) pos = src.eventPos(s.pos, 1);
  if (pos === undefined) return s.status === 'running' ? [] : [{ type: 'pause', message: 'end of the run' }];
  return [{ type: 'seek', pos }];
}
