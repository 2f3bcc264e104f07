/** Two header lines: file, position, collect, PAUSED / PLAYING and LIVE badges, speed; range, cell size, filters. */
import { Box, Text } from 'ink';
import { basename } from 'node:path';
import type { FrameModel } from '../model/frame.js';
import { hexAddr } from '../../trace/addr.js';

export function speedLabel(speed: number): string {
  return speed >= 1 ? `${speed}x` : `1/${Math.round(1 / speed)}x`;
}

export function Header({ frame, file, color }: { frame: FrameModel; file: string; color: boolean }) {
  const c = frame.verdictOf ?? frame.interval;
  const where = frame.verdictOf ? `at collect #${c!.idx}` : c ? `before collect #${c.idx} @${c.pos}` : 'after the last collect';
  const label = c?.label ? ` "${c.label}"` : '';
  const focus = frame.lanes[frame.focus]?.name ?? '-';
  const g = frame.geometry;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>pteplay play {basename(file)}</Text>
        {`  @${frame.pos}/${frame.lastPos}  ${where}${label}  `}
        {frame.playing ? (
          <Text color={color ? 'green' : undefined} bold>
            {'> PLAYING'}
          </Text>
        ) : (
          <Text inverse color={color ? 'yellow' : undefined} bold>
            {' PAUSED '}
          </Text>
        )}
        {`  speed ${speedLabel(frame.speed)}  `}
        {frame.status === 'running' ? (
          <Text inverse color={color ? 'red' : undefined} bold>
            {' LIVE '}
          </Text>
        ) : (
          <Text dimColor>{frame.status}</Text>
        )}
        {`  ${frame.falseCollects}/${frame.collects} collects with false pages`}
      </Text>
      <Text wrap="truncate">
        {`range ${hexAddr(frame.range.lo * 4096)}+${frame.range.pages}p  pid ${frame.pid}  ${g.pagesPerCell} page${g.pagesPerCell > 1 ? 's' : ''}/cell  focus ${focus}`}
        {frame.filter ? `  filter: ${frame.filter}` : ''}
        {frame.tid !== null ? `  tid ${frame.tid}` : ''}
      </Text>
    </Box>
  );
}
