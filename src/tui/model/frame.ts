/**
 * From the playback state to what a frame shows: page-map cells per lane and the truth row, the
 * timeline, and the lines of the event panel, counters, VMA list and cursor detail. The TTY view, the
 * plain-text summary and the JSON summary all render this one model.
 *
 * Page states come from the store's page windows, kept per lane and moved forward with the changes
 * in between while playing (no rebuild per frame); a jump back or far ahead rebuilds the window from
 * the nearest keyframe.
 *
 * Verdicts: the map shows collect k's verdicts (TP / false positive / false negative) while no shown
 * lane has changed since collect k ("at and after a collect"); otherwise each lane's entry states.
 * Truth row: at a collect, the pages written in its interval (GT_w, stored). Between collects the run
 * stores no writes, only their trace in the page tables, so the row shows the interval's GT_w pages
 * that the uffd-async lane (else the soft-dirty one) already shows written since the reset, marked
 * approximate ("truth~"); after the last collect, that lane's written pages alone. The cursor detail's
 * "last" changes are the ones its page window saw (since its keyframe, or the run's start).
 */
import type { CollectPoint, PlaybackReader, VerdictRun } from '../../store/playback-reader.js';
import type { PageWindow } from '../../store/page-window.js';
import { describePte } from '../../mm/pte.js';
import { fmtNs } from '../../report/format-util.js';
import { hexAddr } from '../../trace/addr.js';
import { Cell, mergeCell, stateCell, verdictCell, type CellKind } from './cells.js';
import { bandsWanted, cellsPerRow, layout, mapGeometry, type Layout, type MapGeometry } from './layout.js';
import { hasFalse } from './navigate.js';
import type { LaneView, PlaybackState } from './state.js';

export type FrameSource = Pick<
  PlaybackReader,
  | 'collects'
  | 'seqAtPos'
  | 'window'
  | 'windowChanges'
  | 'verdicts'
  | 'changesAt'
  | 'opsAt'
  | 'msgsAt'
  | 'vmasAt'
  | 'changesBySeq'
  | 'intervalCost'
  | 'addressSpaceOps'
>;

/** How a line wants to be coloured. */
export type Tone = 'plain' | 'dim' | 'head' | 'bad' | 'warn' | 'good' | 'accent';

export interface Line {
  text: string;
  tone: Tone;
}

export interface MapBand {
  /** First page of the band. */
  startVpn: number;
  truth: CellKind[];
  /** One row per shown lane, in state.lanes order. */
  lanes: CellKind[][];
}

export interface TimelineModel {
  /** One character per bucket: "!" collect with a false page, "|" collect, an op letter, "-" nothing. */
  marks: string;
  /** Change rows of the focused lane per bucket, " .:-=+*#" by density. */
  density: string;
  /** "^" at the position, "'" at marks. */
  cursor: string;
}

export interface FrameModel {
  pos: number;
  lastPos: number;
  status: PlaybackState['status'];
  playing: boolean;
  speed: number;
  lanes: LaneView[];
  focus: number;
  pid: number;
  range: PlaybackState['range'];
  filter: string | null;
  tid: number | null;
  layout: Layout;
  geometry: MapGeometry;
  /** The collect whose verdicts the map shows, null when it shows states. */
  verdictOf: CollectPoint | null;
  /** The collect that ends the interval the counters describe (null after the last collect). */
  interval: CollectPoint | null;
  /** Whether the truth row is the stored GT_w (at a collect) or reconstructed (see the file comment). */
  truthExact: boolean;
  bands: MapBand[];
  cursor: { vpn: number; band: number; col: number };
  timeline: TimelineModel;
  events: Line[];
  counters: Line[];
  vmas: Line[];
  detail: Line[];
  /** Collects with a false page in a shown lane, and how many collects there are. */
  falseCollects: number;
  collects: number;
}

interface CachedWindow {
  seq: number;
  pid: number;
  lo: number;
  hi: number;
  win: PageWindow;
}

/** Beyond this many change rows ahead a window is rebuilt from a keyframe rather than moved forward. */
const FORWARD_LIMIT = 50_000;

const OP_LETTER: Record<string, string> = { mmap: 'M', munmap: 'U', mremap: 'R', mprotect: 'P', madvise: 'A', fork: 'F', brk: 'B' };
const DENSITY = ' .:-=+*#';

export class FrameBuilder {
  private readonly windows = new Map<number, CachedWindow>();
  private timelineKey = '';
  private timelineBase: { marks: string; density: string } = { marks: '', density: '' };

  constructor(private readonly src: FrameSource) {}

  /** The page window of a lane after change row `seq`, moved forward from the cached one when close. */
  private laneWindow(laneId: number, seq: number, pid: number, lo: number, hi: number): PageWindow {
    const c = this.windows.get(laneId);
    if (c && c.pid === pid && c.lo === lo && c.hi === hi && seq >= c.seq && seq - c.seq <= FORWARD_LIMIT) {
      if (seq > c.seq) for (const r of this.src.windowChanges(laneId, c.seq, seq, pid, lo, hi)) c.win.apply(r);
      c.seq = seq;
      return c.win;
    }
    const win = this.src.window(laneId, seq, pid, lo, hi);
    this.windows.set(laneId, { seq, pid, lo, hi, win });
    return win;
  }

  build(s: PlaybackState): FrameModel {
    const collects = this.src.collects();
    const laneIds = s.lanes.map((l) => l.laneId);
    const lo = s.range.lo;
    const hi = lo + s.range.pages;
    const seqs = s.lanes.map((l) => this.src.seqAtPos(l.laneId, s.pos));
    const windows = s.lanes.map((l, i) => this.laneWindow(l.laneId, seqs[i]!, s.pid, lo, hi));

    // Which collect's verdicts, which interval's figures, which truth.
    const before = lastAtOrBefore(collects, s.pos);
    const verdictOf = before && s.lanes.every((l, i) => this.src.seqAtPos(l.laneId, before.pos) === seqs[i]) ? before : null;
    const next = collects.find((c) => c.pos >= s.pos) ?? null;
    const interval = verdictOf ?? next;
    const verdictRuns = verdictOf ? s.lanes.map((l) => this.src.verdicts(l.laneId, verdictOf.idx, lo, hi)) : null;
    const truth = new Uint8Array(hi - lo);
    let truthExact = false;
    if (verdictRuns?.[0]) {
      for (const r of verdictRuns[0]) if (r.gtW) fillRun(truth, lo, hi, r, 1);
      truthExact = true;
    } else if (s.lanes.length) {
      // What the lane whose reset protects every page says was written since the reset.
      const k = s.lanes.findIndex((l) => l.tracker === 'uffd-async');
      const w =
        k >= 0
          ? k
          : Math.max(
              0,
              s.lanes.findIndex((l) => l.tracker === 'soft-dirty'),
            );
      const evidence = new Uint8Array(hi - lo);
      for (let v = lo; v < hi; v++) {
        const c = stateCell(windows[w]!.entry(v).state, s.lanes[w]!.tracker);
        evidence[v - lo] = c === Cell.WRITTEN || c === Cell.SOFT_DIRTY ? 1 : 0;
      }
      if (next && s.lanes[0]) {
        for (const r of this.src.verdicts(s.lanes[0].laneId, next.idx, lo, hi)) if (r.gtW) fillRun(truth, lo, hi, r, 1);
        for (let i = 0; i < truth.length; i++) truth[i]! &= evidence[i]!;
        truthExact = next.pos === s.pos;
      } else {
        truth.set(evidence);
      }
    }

    // Cells.
    const lay = layout(s.viewport, s.lanes.length, bandsWanted(s.range, s.viewport.cols), 0);
    const geometry = mapGeometry(s.range, s.viewport.cols, lay.bands);
    const { pagesPerCell: ppc, cellsPerRow: perRow } = geometry;
    const verdictKinds = verdictRuns?.map((runs) => {
      const k = new Uint8Array(hi - lo);
      for (const r of runs) fillRun(k, lo, hi, r, verdictCell(r.reported, r.gtW) ?? 0);
      return k;
    });
    const bands: MapBand[] = [];
    for (let b = 0; b < geometry.bands; b++) {
      const band: MapBand = { startVpn: lo + b * perRow * ppc, truth: [], lanes: s.lanes.map(() => []) };
      for (let c = 0; c < perRow; c++) {
        const from = lo + (b * perRow + c) * ppc;
        if (from >= hi) break;
        const to = Math.min(from + ppc, hi);
        let t: CellKind = Cell.T_CLEAN;
        for (let v = from; v < to; v++) if (truth[v - lo]) t = Cell.T_WRITTEN;
        band.truth.push(t);
        s.lanes.forEach((l, i) => {
          let k: CellKind = Cell.OUT;
          for (let v = from; v < to; v++) {
            const verdict = verdictKinds?.[i]?.[v - lo];
            k = mergeCell(k, verdict ? (verdict as CellKind) : stateCell(windows[i]!.entry(v).state, l.tracker));
          }
          band.lanes[i]!.push(k);
        });
      }
      bands.push(band);
    }
    const cursorCell = Math.floor((s.cursor - lo) / ppc);

    const vmaRows = this.vmaLines(s);
    const finalLayout = layout(s.viewport, s.lanes.length, bandsWanted(s.range, s.viewport.cols), vmaRows.length);
    return {
      pos: s.pos,
      lastPos: s.lastPos,
      status: s.status,
      playing: s.playing,
      speed: s.speed,
      lanes: s.lanes,
      focus: s.focus,
      pid: s.pid,
      range: s.range,
      filter: s.filter,
      tid: s.tid,
      layout: finalLayout,
      geometry,
      verdictOf,
      interval,
      truthExact,
      bands,
      cursor: { vpn: s.cursor, band: Math.floor(cursorCell / perRow), col: cursorCell % perRow },
      timeline: this.timeline(s, collects, laneIds),
      events: this.eventLines(s, collects, verdictRuns),
      counters: this.counterLines(s, interval),
      vmas: vmaRows,
      detail: this.detailLines(s, windows, verdictRuns),
      falseCollects: collects.filter((c) => hasFalse(c, laneIds)).length,
      collects: collects.length,
    };
  }

  private timeline(s: PlaybackState, collects: CollectPoint[], laneIds: number[]): TimelineModel {
    const width = cellsPerRow(s.viewport.cols);
    const lane = s.lanes[s.focus];
    const bucket = (pos: number): number => Math.min(width - 1, Math.floor((pos * width) / (s.lastPos + 1)));
    const key = `${width}:${s.lastPos}:${lane?.laneId}:${laneIds.join(',')}:${collects.length}`;
    if (key !== this.timelineKey) {
      const marks = Array<string>(width).fill('-');
      const rank = (ch: string): number => (ch === '!' ? 3 : ch === '|' ? 2 : ch === '-' ? 0 : 1);
      const put = (pos: number, ch: string): void => {
        const b = bucket(pos);
        if (rank(ch) > rank(marks[b]!)) marks[b] = ch;
      };
      if (s.lanes[0]) for (const op of this.src.addressSpaceOps(s.lanes[0].laneId)) put(op.pos, OP_LETTER[op.call] ?? '?');
      for (const c of collects) put(c.pos, hasFalse(c, laneIds) ? '!' : '|');
      let density = '';
      if (lane) {
        const counts: number[] = [];
        let prev = -1;
        for (let b = 0; b < width; b++) {
          const endPos = Math.floor(((b + 1) * (s.lastPos + 1)) / width) - 1;
          const seq = endPos < 0 ? prev : this.src.seqAtPos(lane.laneId, endPos);
          counts.push(seq - prev);
          prev = seq;
        }
        const max = Math.max(1, ...counts);
        density = counts.map((n) => (n <= 0 ? ' ' : DENSITY[Math.max(1, Math.ceil((n / max) * (DENSITY.length - 1)))]!)).join('');
      }
      this.timelineBase = { marks: marks.join(''), density };
      this.timelineKey = key;
    }
    const cursor = Array<string>(width).fill(' ');
    for (const m of s.marks) cursor[bucket(m)] = "'";
    cursor[bucket(s.pos)] = '^';
    return { ...this.timelineBase, cursor: cursor.join('') };
  }

  private eventLines(s: PlaybackState, collects: CollectPoint[], verdictRuns: VerdictRun[][] | null): Line[] {
    const out: Line[] = [];
    const first = s.lanes[0];
    const traceOps = first ? this.src.opsAt(first.laneId, s.pos, 8).rows.filter((o) => o.origin === 'trace') : [];
    const collect = collects.find((c) => c.pos === s.pos);
    const changes = s.lanes.map((l) => this.src.changesAt(l.laneId, s.pos, 3));
    const driver = s.lanes.map((l) => this.src.opsAt(l.laneId, s.pos, 6).rows.filter((o) => o.origin === 'driver'));
    let what: string;
    if (traceOps.length) what = traceOps.map((o) => `${o.call}(${o.args}) = ${o.errno ? `-1 ${o.errno}` : fmtRet(o.ret)}`).join('; ');
    else if (collect) what = `collect #${collect.idx}${collect.label ? ` "${collect.label}"` : ''}`;
    else if (driver.some((d) => d.length)) what = "reset (the lanes' tracker protocol)";
    else if (changes.some((c) => c.total > 0)) what = 'an access (the run stores its effects, not the access)';
    else what = 'nothing stored (an access that changed no entry)';
    out.push({ text: `@${s.pos}  ${what}`, tone: 'head' });

    // The cursor page's verdicts, with their causes.
    if (verdictRuns) {
      s.lanes.forEach((l, i) => {
        const r = runAt(verdictRuns[i]!, s.cursor);
        if (r && r.reported !== r.gtW) {
          out.push({
            text: `${hexAddr(s.cursor * 4096)} ${l.name}: ${r.reported ? 'false positive' : 'false negative'}, cause ${r.why}`,
            tone: r.reported ? 'bad' : 'warn',
          });
        }
      });
    }
    s.lanes.forEach((l, i) => {
      for (const o of driver[i]!) {
        out.push({ text: `${l.name}: ${o.call}(${o.args}) = ${o.errno ? `-1 ${o.errno}` : fmtRet(o.ret)}`, tone: o.errno ? 'warn' : 'plain' });
      }
      const ch = changes[i]!;
      for (const r of ch.rows) {
        const where = r.level === 1 ? `pmd ${hexAddr(r.vpn * 4096)}+${r.count * 512}p` : `${hexAddr(r.vpn * 4096)}+${r.count}p`;
        out.push({ text: `${l.name}: ${where} ${describePte(r.old)} -> ${describePte(r.new)}  ${r.path}`, tone: 'plain' });
      }
      if (ch.total > ch.rows.length) out.push({ text: `${l.name}: ... ${ch.total - ch.rows.length} more changes at this position`, tone: 'dim' });
      const msgs = this.src.msgsAt(l.laneId, s.pos, 3);
      const shown = s.tid === null ? msgs.rows : msgs.rows.filter((m) => m.tid === s.tid);
      for (const m of shown)
        out.push({
          text: `${l.name}: uffd msg ${UFFD_EVENT[m.event] ?? m.event} ${hexAddr(m.vpn * 4096)} flags ${m.flags} tid ${m.tid}`,
          tone: 'accent',
        });
      if (msgs.total > msgs.rows.length) out.push({ text: `${l.name}: ... ${msgs.total - msgs.rows.length} more uffd messages`, tone: 'dim' });
    });
    return out;
  }

  private counterLines(s: PlaybackState, c: CollectPoint | null): Line[] {
    if (!c) return [{ text: 'after the last collect: no interval figures yet', tone: 'dim' }];
    const out: Line[] = [{ text: `interval ending at collect #${c.idx}${c.label ? ` "${c.label}"` : ''} (@${c.pos})`, tone: 'head' }];
    for (const l of s.lanes) {
      const f = c.lanes.find((x) => x.laneId === l.laneId);
      if (!f) continue;
      const cost = this.src.intervalCost(l.laneId, c.idx);
      const faults = Object.entries(cost.counters)
        .filter(([k, v]) => k.startsWith('fault_') && v > 0)
        .map(([k, v]) => `${k.slice(6)} ${v}`)
        .join(' ');
      out.push({
        text: `${l.name.padEnd(16)} rep ${f.reported} true ${f.trueW} TP ${f.tp} FP ${f.fp} FN ${f.fn} | faults ${faults || '0'} | msgs ${cost.counters.uffd_msgs ?? 0} | est ${fmtNs(cost.estNs)}`,
        tone: f.fp + f.fn > 0 ? 'bad' : 'plain',
      });
    }
    return out;
  }

  private vmaLines(s: PlaybackState): Line[] {
    const lane = s.lanes[s.focus];
    if (!lane) return [];
    const vmas = this.src.vmasAt(lane.laneId, s.pid, s.pos);
    return vmas.map((v, i) => {
      const names = v.flags.split(' ');
      const marks = [names.includes('sd') && 'VM_SOFTDIRTY', names.includes('uw') && 'VM_UFFD_WP', names.includes('hg') && 'THP']
        .filter(Boolean)
        .join(' ');
      const here = s.cursor >= v.startVpn && s.cursor < v.endVpn;
      return {
        text: `${here ? '>' : ' '}${String(i).padStart(2)} ${hexAddr(v.startVpn * 4096)}-${hexAddr(v.endVpn * 4096)} ${v.endVpn - v.startVpn}p ${v.backing}  ${v.flags}${marks ? `  [${marks}]` : ''}${v.uffdCtx !== null ? `  uffd ${v.uffdCtx}` : ''}`,
        tone: here ? 'accent' : 'plain',
      };
    });
  }

  private detailLines(s: PlaybackState, windows: PageWindow[], verdictRuns: VerdictRun[][] | null): Line[] {
    const g = s.cursor;
    const out: Line[] = [{ text: `cursor vpn ${hexAddr(g)}  address ${hexAddr(g * 4096)}  pid ${s.pid}`, tone: 'head' }];
    s.lanes.forEach((l, i) => {
      const e = windows[i]!.entry(g);
      const v = verdictRuns ? runAt(verdictRuns[i]!, g) : undefined;
      const verdict = v ? (v.reported ? (v.gtW ? 'TP' : `FP ${v.why}`) : v.gtW ? `FN ${v.why}` : '') : '';
      const w = windows[i]!;
      const hist =
        this.src
          .changesBySeq(l.laneId, w.history(g))
          .map((r) => `@${r.pos} ${r.path}`)
          .join(', ') || (w.since > 0 ? `none since change row ${w.since}` : '-');
      out.push({
        text: `${l.name.padEnd(16)} ${e.level ? 'pmd' : 'pte'} 0x${e.state.toString(16).padStart(4, '0')} ${describePte(e.state)}${verdict ? `  [${verdict}]` : ''}  last: ${hist}`,
        tone: i === s.focus ? 'accent' : 'plain',
      });
    });
    return out;
  }
}

const UFFD_EVENT: Record<number, string> = { 18: 'PAGEFAULT', 19: 'FORK', 20: 'REMAP', 21: 'REMOVE', 22: 'UNMAP' };

function lastAtOrBefore(collects: CollectPoint[], pos: number): CollectPoint | null {
  let found: CollectPoint | null = null;
  for (const c of collects) if (c.pos <= pos) found = c;
  return found;
}

function runAt(runs: VerdictRun[], vpn: number): VerdictRun | undefined {
  return runs.find((r) => vpn >= r.vpn && vpn < r.vpn + r.count);
}

function fillRun(a: Uint8Array, lo: number, hi: number, r: VerdictRun, value: number): void {
  a.fill(value, Math.max(r.vpn, lo) - lo, Math.min(r.vpn + r.count, hi) - lo);
}

function fmtRet(n: number): string {
  return Math.abs(n) >= 0x10000 ? hexAddr(n) : String(n);
}
