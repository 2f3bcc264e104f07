/**
 * The player: holds the playback state, runs the one input handler (keymap → command → actions), the
 * playback timer and the live-run poller, and renders the pure Screen. The input handler is stable
 * (it reads the state through a ref) so ink 6's useInput does not re-subscribe on every render.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useApp, useInput, useStdin } from 'ink';
import type { PlaybackReader } from '../store/playback-reader.js';
import { bindingFor, type KeyState } from './keymap.js';
import { FrameBuilder } from './model/frame.js';
import { commandActions, filterActions, gotoActions, playActions, playbackStep } from './model/navigate.js';
import { reduce, type Action } from './model/reducer.js';
import type { PlaybackState, Viewport } from './model/state.js';
import { Screen } from './view/Screen.js';

/** How the player ended: q (0) or Ctrl-C (130). */
export type ExitCode = 0 | 130;

export interface PlayerProps {
  source: PlaybackReader;
  initial: PlaybackState;
  file: string;
  viewport: Viewport;
  color: boolean;
  onExit: (code: ExitCode) => void;
  /** How often to look for new rows of a run that is still being written (ms). */
  pollMs?: number;
}

type PressKey = KeyState & { return?: boolean; backspace?: boolean; delete?: boolean };

/** The key flags of one character of a burst (ink only decodes a read that is one key). */
function burstKey(ch: string): PressKey {
  return { return: ch === '\r' || ch === '\n', backspace: ch === '\u007F' || ch === '\b', tab: ch === '\t', escape: ch === '\u001B' };
}

export function Player({ source, initial, file, viewport, color, onExit, pollMs = 500 }: PlayerProps) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const [state, setState] = useState(initial);
  const ref = useRef(state);
  const apply = useCallback((actions: Action[]) => {
    if (!actions.length) return;
    ref.current = actions.reduce(reduce, ref.current);
    setState(ref.current);
  }, []);

  const quit = useCallback(
    (code: ExitCode) => {
      onExit(code);
      exit();
    },
    [exit, onExit],
  );

  /** One key press: the prompt's editing keys while a prompt is open, else the keymap's command. */
  const press = useCallback(
    (input: string, key: PressKey): void => {
      const s = ref.current;
      if (key.ctrl && input === 'c') return quit(130);
      if (s.prompt) {
        if (key.escape) return apply([{ type: 'promptCancel' }]);
        if (key.return) {
          const { text, kind } = s.prompt;
          apply([{ type: 'promptCancel' }]);
          return apply(kind === 'filter' ? filterActions(text, ref.current, source) : gotoActions(text, ref.current, source));
        }
        if (key.backspace || key.delete) return apply([{ type: 'promptText', text: s.prompt.text.slice(0, -1) }]);
        if (input && !key.ctrl && input >= ' ') apply([{ type: 'promptText', text: s.prompt.text + input }]);
        return;
      }
      if (s.help) return apply([{ type: 'help', open: false }]);
      const b = bindingFor(input, key);
      if (!b) return;
      if (b.command === 'quit') return quit(0);
      if (b.command === 'interrupt') return quit(130);
      if (b.command === 'help') return apply([{ type: 'help', open: true }]);
      apply(commandActions(b.command, input, ref.current, source));
    },
    [apply, quit, source],
  );

  // Several characters in one read (typed fast, pasted, or sent by a script) are several key presses.
  const onKey = useCallback(
    (input: string, key: PressKey) => {
      if (input.length <= 1 || key.ctrl) return press(input, key);
      for (const ch of input) press(ch, burstKey(ch));
    },
    [press],
  );
  useInput(onKey, { isActive: isRawModeSupported });

  // The terminal's size.
  useEffect(() => {
    if (viewport.cols !== ref.current.viewport.cols || viewport.rows !== ref.current.viewport.rows) apply([{ type: 'resize', viewport }]);
  }, [viewport, apply]);

  // Playback: one step per tick, the next tick scheduled after this frame (never ahead of the screen).
  // biome-ignore lint/correctness/useExhaustiveDependencies: state.pos is there to re-arm the timer after every step.
  useEffect(() => {
    if (!state.playing) return;
    const t = setTimeout(() => apply(playActions(ref.current, source)), playbackStep(state.speed).ms);
    return () => clearTimeout(t);
  }, [state.playing, state.speed, state.pos, apply, source]);

  // A run another replay is still writing: follow its committed position.
  useEffect(() => {
    if (state.status !== 'running') return;
    const t = setInterval(() => {
      const run = source.run();
      const lastPos = Math.max(0, run.committedPos);
      if (lastPos !== ref.current.lastPos || run.status !== ref.current.status) {
        source.refresh();
        apply([{ type: 'grow', lastPos, status: run.status }]);
      }
    }, pollMs);
    return () => clearInterval(t);
  }, [state.status, apply, source, pollMs]);

  const builder = useMemo(() => new FrameBuilder(source), [source]);
  const frame = useMemo(() => builder.build(state), [builder, state]);
  return (
    <Screen frame={frame} file={file} cols={state.viewport.cols} prompt={state.prompt} message={state.message} help={state.help} color={color} />
  );
}
