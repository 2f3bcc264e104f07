/**
 * Where the player opens: the lanes to show, the position (a given one, else the end of a run that is
 * still being written, else the first collect with a false page in a shown lane, else the start) and the page range (a given one, else the VMA around the
 * first false page of that collect, or around the run's first changed page).
 */
import { UsageError } from '../../errors.js';
import type { PlaybackReader } from '../../store/playback-reader.js';
import { MAX_RANGE_PAGES, hasFalse } from './navigate.js';
import { initialState, type LaneView, type PageRange, type PlaybackState, type Viewport } from './state.js';

export type OpenSource = Pick<PlaybackReader, 'run' | 'collects' | 'vmasAt' | 'firstFalsePage' | 'firstChange'>;

export interface OpenOptions {
  /** Lane names to show, in this order (default: every lane of the run). */
  lanes?: string[];
  /** Trace position to open at. */
  at?: number;
  /** First page and page count. */
  range?: { vpn: number; pages: number };
  pid?: number;
  viewport: Viewport;
}

/** The opening range when none is given and the anchor page's VMA is larger: pages around the anchor. */
export const DEFAULT_RANGE_PAGES = 512;

export function openState(src: OpenSource, o: OpenOptions): PlaybackState {
  const run = src.run();
  const lastPos = Math.max(0, run.committedPos);
  let lanes: LaneView[] = run.lanes.map((l) => ({ laneId: l.laneId, name: l.name, tracker: l.tracker }));
  if (o.lanes?.length) {
    lanes = o.lanes.map((name) => {
      const l = lanes.find((x) => x.name === name);
      if (!l) throw new UsageError(`option --lanes: no lane "${name}" in ${run.path} (lanes: ${run.lanes.map((x) => x.name).join(', ')})`);
      return l;
    });
  }
  if (o.at !== undefined && o.at > lastPos) throw new UsageError(`option --at: position ${o.at} is beyond the run's last position ${lastPos}`);
  const ids = lanes.map((l) => l.laneId);
  const firstFalse = src.collects().find((c) => hasFalse(c, ids));
  // A run a replay is still writing opens at its end, following new rows; a finished one at its first false page.
  const pos = o.at ?? (run.status === 'running' ? lastPos : (firstFalse?.pos ?? 0));
  let pid = o.pid ?? firstFalse?.pid ?? 1;
  let range: PageRange;
  if (o.range) {
    if (o.range.pages > MAX_RANGE_PAGES) throw new UsageError(`option --range: at most ${MAX_RANGE_PAGES} pages, got ${o.range.pages}`);
    range = { lo: o.range.vpn, pages: o.range.pages };
  } else {
    let anchor: number | undefined;
    if (firstFalse && pos === firstFalse.pos) {
      const lane = firstFalse.lanes.find((l) => ids.includes(l.laneId) && l.fp + l.fn > 0)!;
      anchor = src.firstFalsePage(lane.laneId, firstFalse.idx);
    }
    if (anchor === undefined && lanes[0]) {
      const first = src.firstChange(lanes[0].laneId);
      if (first) {
        anchor = first.vpn;
        if (o.pid === undefined) pid = first.pid;
      }
    }
    range = anchor === undefined ? { lo: 0, pages: 64 } : rangeAround(src, lanes[0]?.laneId, pid, pos, lastPos, anchor);
  }
  return initialState({ pos, lastPos, status: run.status, lanes, pid, range, viewport: o.viewport });
}

/** The VMA holding `anchor` (at `pos`, else at the end of the run), at most DEFAULT_RANGE_PAGES of it around the anchor. */
function rangeAround(src: OpenSource, laneId: number | undefined, pid: number, pos: number, lastPos: number, anchor: number): PageRange {
  const find = (p: number) => (laneId === undefined ? undefined : src.vmasAt(laneId, pid, p).find((v) => anchor >= v.startVpn && anchor < v.endVpn));
  const vma = find(pos) ?? find(lastPos);
  if (!vma) return { lo: anchor, pages: 64 };
  if (vma.endVpn - vma.startVpn <= DEFAULT_RANGE_PAGES) return { lo: vma.startVpn, pages: vma.endVpn - vma.startVpn };
  const lo = Math.max(vma.startVpn, Math.min(anchor - DEFAULT_RANGE_PAGES / 2, vma.endVpn - DEFAULT_RANGE_PAGES));
  return { lo, pages: DEFAULT_RANGE_PAGES };
}
