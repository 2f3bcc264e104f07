/** The `?` overlay: every binding of the keymap, in as many columns as the height needs. */
import { Box, Text } from 'ink';
import { helpLines } from '../keymap.js';

export function HelpOverlay({ height, width }: { height: number; width: number }) {
  const lines = ['Keys (any key closes this help)', ...helpLines()];
  const rows = Math.max(1, height);
  const columns = Math.ceil(lines.length / rows);
  const colWidth = Math.floor(width / columns);
  return (
    <Box flexDirection="row" height={rows}>
      {Array.from({ length: columns }, (_, c) => (
        <Box key={c} flexDirection="column" width={colWidth}>
          {lines.slice(c * rows, (c + 1) * rows).map((l, i) => (
            <Text key={i} wrap="truncate" bold={c === 0 && i === 0}>
              {l}
            </Text>
          ))}
        </Box>
      ))}
    </Box>
  );
}
