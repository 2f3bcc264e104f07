/**
 * The whole frame, from a FrameModel and the interaction state (prompt, message, help): header, page map,
 * legend, timeline, events and interval counters, VMA list, cursor detail, footer. Each section gets the
 * lines frame.layout gives it, so the frame is never taller than the terminal.
 */
import { Box, Text } from 'ink';
import { CELL_GLYPH, LEGEND } from '../model/cells.js';
import type { FrameModel } from '../model/frame.js';
import type { Prompt } from '../model/state.js';
import { Footer } from './Footer.js';
import { Header } from './Header.js';
import { HelpOverlay } from './HelpOverlay.js';
import { Lines } from './Lines.js';
import { PageMap } from './PageMap.js';
import { CELL_STYLE, styled } from './palette.js';
import { Timeline } from './Timeline.js';

export interface ScreenProps {
  frame: FrameModel;
  file: string;
  cols: number;
  prompt: Prompt | null;
  message: string | null;
  help: boolean;
  color: boolean;
}

export function Legend({ frame, color }: { frame: FrameModel; color: boolean }) {
  return (
    <Text wrap="truncate">
      {LEGEND.map(([k, text]) => (
        <Text key={k}>
          <Text {...styled(CELL_STYLE[k], color)}>{CELL_GLYPH[k]}</Text>
          {` ${text}  `}
        </Text>
      ))}
      {frame.truthExact ? '' : '(truth~: reconstructed between collects)'}
    </Text>
  );
}

export function Screen({ frame, file, cols, prompt, message, help, color }: ScreenProps) {
  const L = frame.layout;
  if (L.tooSmall) {
    return <Text wrap="truncate">{`pteplay play: the terminal is too small (${cols} columns); make it larger or press q`}</Text>;
  }
  const counters = frame.counters.slice(0, Math.max(0, L.panel - 1));
  const events = Math.max(0, L.panel - counters.length);
  const body = L.height - 3;
  return (
    <Box flexDirection="column" width={cols} height={L.height} overflow="hidden">
      <Header frame={frame} file={file} color={color} />
      {help ? (
        <HelpOverlay height={body} width={cols} />
      ) : (
        <Box flexDirection="column" height={body} overflow="hidden">
          <PageMap frame={frame} color={color} />
          {L.legend ? <Legend frame={frame} color={color} /> : null}
          <Timeline frame={frame} lines={L.timeline} color={color} />
          <Lines lines={frame.events} max={events} color={color} />
          <Lines lines={counters} max={counters.length} color={color} />
          <Lines
            lines={frame.vmas.length ? frame.vmas : [{ text: 'no VMA in the focused lane at this position', tone: 'dim' }]}
            max={L.vmas}
            color={color}
          />
          <Lines
            lines={L.detail >= frame.detail.length ? frame.detail : frame.detail.filter((_, i) => i === 0 || i === 1 + frame.focus)}
            max={L.detail}
            color={color}
          />
        </Box>
      )}
      <Footer prompt={prompt} message={message} color={color} />
    </Box>
  );
}
