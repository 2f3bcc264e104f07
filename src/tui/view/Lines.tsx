/** A block of at most `max` model lines, each one terminal line, with "... N more" when cut. */
import { Text } from 'ink';
import type { Line } from '../model/frame.js';
import { TONE_STYLE, styled } from './palette.js';

export function Lines({ lines, max, color }: { lines: Line[]; max: number; color: boolean }) {
  if (max <= 0) return null;
  const cut = lines.length > max;
  const shown = cut ? lines.slice(0, max - 1) : lines;
  return (
    <>
      {shown.map((l, i) => (
        <Text key={i} wrap="truncate" {...styled(TONE_STYLE[l.tone], color)}>
          {l.text}
        </Text>
      ))}
      {cut ? <Text wrap="truncate" dimColor>{`... ${lines.length - shown.length} more lines`}</Text> : null}
    </>
  );
}
