/**
 * The bottom line: the prompt being typed after `/` or `:`, else the last message, else the hint bar
 * (generated from the keymap).
 */
import { Text } from 'ink';
import { hintItems } from '../keymap.js';
import type { Prompt } from '../model/state.js';

export function Footer({ prompt, message, color }: { prompt: Prompt | null; message: string | null; color: boolean }) {
  if (prompt) {
    return (
      <Text wrap="truncate" bold>
        {`${prompt.kind === 'filter' ? '/' : ':'}${prompt.text}`}
        <Text inverse> </Text>
        <Text dimColor>{'  Enter: apply  Esc: cancel'}</Text>
      </Text>
    );
  }
  if (message)
    return (
      <Text wrap="truncate" color={color ? 'yellow' : undefined}>
        {message}
      </Text>
    );
  return (
    <Text wrap="truncate">
      {hintItems().map((h, i) => (
        <Text key={i}>
          <Text bold color={color ? 'cyan' : undefined}>
            {h.keys}
          </Text>
          {` ${h.hint}  `}
        </Text>
      ))}
    </Text>
  );
}
