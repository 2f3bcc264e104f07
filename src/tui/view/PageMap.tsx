/**
 * The page map: per band a ruler (the band's first address, "v" over the cursor's column), the truth row
 * and one row per lane. Runs of equal cells are drawn as one Text; the cursor cell is inverse.
 */
import { Box, Text } from 'ink';
import { CELL_GLYPH, type CellKind } from '../model/cells.js';
import type { FrameModel } from '../model/frame.js';
import { LABEL_WIDTH } from '../model/layout.js';
import { CELL_STYLE, styled } from './palette.js';
import { hexAddr } from '../../trace/addr.js';

interface RowProps {
  label: string;
  cells: CellKind[];
  cursorCol: number | null;
  color: boolean;
}

/** One map row: the label column, then the cells, grouped into runs of one kind. */
export function CellRow({ label, cells, cursorCol, color }: RowProps) {
  const runs: { kind: CellKind; from: number; to: number }[] = [];
  cells.forEach((k, i) => {
    const last = runs[runs.length - 1];
    const split = i === cursorCol || (cursorCol !== null && i === cursorCol + 1);
    if (last && last.kind === k && !split) last.to = i + 1;
    else runs.push({ kind: k, from: i, to: i + 1 });
  });
  return (
    <Text wrap="truncate">
      <Text>{label.slice(0, LABEL_WIDTH - 1).padEnd(LABEL_WIDTH)}</Text>
      {runs.map((r) => (
        <Text key={r.from} {...styled(CELL_STYLE[r.kind], color)} inverse={r.from === cursorCol}>
          {CELL_GLYPH[r.kind].repeat(r.to - r.from)}
        </Text>
      ))}
    </Text>
  );
}

export function PageMap({ frame, color }: { frame: FrameModel; color: boolean }) {
  const { cursor } = frame;
  return (
    <Box flexDirection="column">
      {frame.bands.map((b, bi) => {
        const col = bi === cursor.band ? cursor.col : null;
        const ruler = col === null ? '' : `${' '.repeat(col)}v`;
        return (
          <Box key={b.startVpn} flexDirection="column">
            <Text wrap="truncate" dimColor>
              {hexAddr(b.startVpn * 4096).padEnd(LABEL_WIDTH)}
              {ruler}
            </Text>
            <CellRow label={frame.truthExact ? 'truth' : 'truth~'} cells={b.truth} cursorCol={col} color={color} />
            {frame.lanes.map((l, i) => (
              <CellRow key={l.laneId} label={`${i === frame.focus ? '*' : ' '}${l.name}`} cells={b.lanes[i]!} cursorCol={col} color={color} />
            ))}
          </Box>
        );
      })}
    </Box>
  );
}
