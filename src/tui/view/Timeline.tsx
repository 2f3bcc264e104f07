/** The timeline of the whole run: collects and address-space ops, change density, the position and marks. */
import { Text } from 'ink';
import type { FrameModel } from '../model/frame.js';
import { LABEL_WIDTH } from '../model/layout.js';

const MARK_COLOR: Record<string, string> = { '!': 'redBright', '|': 'green', '-': 'gray' };

export function Timeline({ frame, lines, color }: { frame: FrameModel; lines: number; color: boolean }) {
  const t = frame.timeline;
  const label = (s: string) => s.slice(0, LABEL_WIDTH - 1).padEnd(LABEL_WIDTH);
  // Runs of one character, one Text each.
  const runs = t.marks.match(/(.)\1*/g) ?? [];
  const marks = runs.map((run, i) => (
    <Text key={i} color={color ? (MARK_COLOR[run[0]!] ?? 'yellow') : undefined} bold={run[0] === '!'}>
      {run}
    </Text>
  ));
  const rows = [
    <Text key="m" wrap="truncate">
      {label('collects/ops')}
      {marks}
    </Text>,
    <Text key="d" wrap="truncate" color={color ? 'cyan' : undefined}>
      {label(`changes ${frame.lanes[frame.focus]?.name ?? ''}`)}
      {t.density}
    </Text>,
    <Text key="c" wrap="truncate" bold>
      {label(`@${frame.pos}/${frame.lastPos}`)}
      {t.cursor}
    </Text>,
  ];
  // Two lines: marks and cursor; three: with the density between them.
  return <>{lines >= 3 ? rows : lines === 2 ? [rows[0], rows[2]] : []}</>;
}
