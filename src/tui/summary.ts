/**
 * `pteplay play` without a terminal: the frame the player would open on, as plain text or JSON, plus the
 * run's collects with false pages. The same FrameModel as the TTY view, printed with the glyphs only.
 */
import type { PlaybackRun } from '../store/playback-reader.js';
import { hexAddr } from '../trace/addr.js';
import { CELL_GLYPH, LEGEND, type CellKind } from './model/cells.js';
import type { FrameModel } from './model/frame.js';
import { LABEL_WIDTH } from './model/layout.js';
import { hasFalse } from './model/navigate.js';
import type { CollectPoint } from '../store/playback-reader.js';

const glyphs = (cells: CellKind[]): string => cells.map((c) => CELL_GLYPH[c]).join('');

/** Where the frame is: position, collect, pid, range, cell size. */
export function frameTitle(f: FrameModel): string {
  const at = f.verdictOf ? `collect #${f.verdictOf.idx}${f.verdictOf.label ? ` "${f.verdictOf.label}"` : ''} (verdicts shown)` : 'entry states shown';
  return (
    `position ${f.pos} of ${f.lastPos}, ${at}; pid ${f.pid}, range ${hexAddr(f.range.lo * 4096)}+${f.range.pages} pages, ` +
    `${f.geometry.pagesPerCell} page${f.geometry.pagesPerCell > 1 ? 's' : ''} per cell`
  );
}

/** The map as text: per band a ruler line, the truth row and one row per lane. */
export function mapLines(f: FrameModel): string[] {
  const out: string[] = [];
  for (const b of f.bands) {
    out.push(`${''.padEnd(LABEL_WIDTH)}${hexAddr(b.startVpn * 4096)}`);
    out.push(`${(f.truthExact ? 'truth' : 'truth~').padEnd(LABEL_WIDTH)}${glyphs(b.truth)}`);
    for (const [i, l] of f.lanes.entries()) {
      out.push(`${((i === f.focus ? '*' : ' ') + l.name).slice(0, LABEL_WIDTH - 1).padEnd(LABEL_WIDTH)}${glyphs(b.lanes[i]!)}`);
    }
  }
  return out;
}

export function legendLine(): string {
  return LEGEND.map(([k, , text]) => `${CELL_GLYPH[k]} ${text}`).join(', ');
}

function falseCollects(collects: CollectPoint[], f: FrameModel): CollectPoint[] {
  return collects.filter((c) =>
    hasFalse(
      c,
      f.lanes.map((l) => l.laneId),
    ),
  );
}

const laneName = (run: PlaybackRun, id: number): string => run.lanes.find((l) => l.laneId === id)?.name ?? String(id);

export function summaryText(run: PlaybackRun, collects: CollectPoint[], f: FrameModel): string {
  const fc = falseCollects(collects, f);
  const lines = [
    `pteplay play ${run.path}: ${run.status} run of ${run.tracePath || '(unknown trace)'}, positions 0..${f.lastPos}, ` +
      `lanes ${f.lanes.map((l) => l.name).join(', ')}, kernel ${run.kernelProfile}`,
    `${collects.length} collects, ${fc.length} with a false page in a shown lane` +
      (fc.length
        ? `: ${fc
            .slice(0, 8)
            .map((c) => `#${c.idx} @${c.pos}${c.label ? ` "${c.label}"` : ''}`)
            .join(', ')}${fc.length > 8 ? ', ...' : ''}`
        : ''),
    ...fc
      .slice(0, 8)
      .flatMap((c) =>
        c.lanes
          .filter((l) => l.fp + l.fn > 0 && f.lanes.some((x) => x.laneId === l.laneId))
          .map((l) => `  #${c.idx} ${laneName(run, l.laneId)}: reported ${l.reported}, written ${l.trueW}, FP ${l.fp}, FN ${l.fn}`),
      ),
    '(a summary: the frame `pteplay play` opens on; in a terminal it plays)',
    '',
    frameTitle(f),
    ...mapLines(f),
    `legend: ${legendLine()}`,
    '',
    ...f.events.map((l) => l.text),
    '',
    ...f.counters.map((l) => l.text),
    '',
    `VMAs of pid ${f.pid} in ${f.lanes[f.focus]?.name ?? '-'}:`,
    ...f.vmas.map((l) => l.text),
    '',
    ...f.detail.map((l) => l.text),
  ];
  return lines.join('\n') + '\n';
}

export function summaryJson(run: PlaybackRun, collects: CollectPoint[], f: FrameModel): string {
  const text = (ls: { text: string }[]) => ls.map((l) => l.text);
  return (
    JSON.stringify(
      {
        run: {
          path: run.path,
          status: run.status,
          trace: run.tracePath,
          kernel: run.kernelProfile,
          lastPos: f.lastPos,
          lanes: run.lanes.map((l) => l.name),
        },
        collects: collects.length,
        falseCollects: falseCollects(collects, f).map((c) => ({
          idx: c.idx,
          pos: c.pos,
          label: c.label,
          lanes: c.lanes
            .filter((l) => f.lanes.some((x) => x.laneId === l.laneId))
            .map((l) => ({ lane: laneName(run, l.laneId), reported: l.reported, written: l.trueW, tp: l.tp, fp: l.fp, fn: l.fn })),
        })),
        frame: {
          pos: f.pos,
          pid: f.pid,
          range: { start: hexAddr(f.range.lo * 4096), pages: f.range.pages },
          pagesPerCell: f.geometry.pagesPerCell,
          verdictsOfCollect: f.verdictOf?.idx ?? null,
          truthExact: f.truthExact,
          legend: Object.fromEntries(LEGEND.map(([k, , t]) => [CELL_GLYPH[k], t])),
          truth: f.bands.map((b) => glyphs(b.truth)).join(''),
          lanes: Object.fromEntries(f.lanes.map((l, i) => [l.name, f.bands.map((b) => glyphs(b.lanes[i]!)).join('')])),
          events: text(f.events),
          counters: text(f.counters),
          vmas: text(f.vmas),
          cursor: text(f.detail),
        },
      },
      null,
      2,
    ) + '\n'
  );
}
