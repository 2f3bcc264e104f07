/**
 * Run the player in a real terminal: alternate screen, cursor hidden, the frame sized to the terminal
 * (and re-sized on every resize), and the terminal restored however the player ends: q (0), Ctrl-C in
 * the player or SIGINT (130), SIGTERM (143), or an error (rethrown after the restore).
 * Only called when stdin and stdout are TTYs (raw mode needs one; ink 6 throws without it).
 */
import { render } from 'ink';
import { EXIT } from '../errors.js';
import type { PlaybackReader } from '../store/playback-reader.js';
import { Player, type ExitCode } from './app.js';
import type { PlaybackState, Viewport } from './model/state.js';

const ENTER_ALT_SCREEN = '\u001B[?1049h\u001B[H';
const LEAVE_ALT_SCREEN = '\u001B[?1049l';
const SHOW_CURSOR = '\u001B[?25h';

export interface RunPlayerOptions {
  source: PlaybackReader;
  initial: PlaybackState;
  file: string;
  color: boolean;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

/** The terminal's size now. */
export function terminalSize(stdout: NodeJS.WriteStream): Viewport {
  return { cols: stdout.columns || 80, rows: stdout.rows || 24 };
}

/** Play until the user quits; resolves to the exit status (0, 130 or 143). */
export async function runPlayer(o: RunPlayerOptions): Promise<number> {
  const stdout = o.stdout ?? process.stdout;
  const stdin = o.stdin ?? process.stdin;
  let code: number = 0;
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    stdout.write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
  };
  stdout.write(ENTER_ALT_SCREEN);
  const element = (viewport: Viewport) => (
    <Player
      source={o.source}
      initial={{ ...o.initial, viewport }}
      file={o.file}
      viewport={viewport}
      color={o.color}
      onExit={(c: ExitCode) => {
        code = c;
      }}
    />
  );
  let instance: ReturnType<typeof render> | undefined;
  const onResize = (): void => instance?.rerender(element(terminalSize(stdout)));
  const onSignal = (status: number) => () => {
    code = status;
    instance?.unmount();
  };
  const onInt = onSignal(EXIT.SIGINT);
  const onTerm = onSignal(EXIT.SIGTERM);
  // A crash anywhere must not leave the terminal in the alternate screen and raw mode.
  const onCrash = (): void => restore();
  try {
    instance = render(element(terminalSize(stdout)), { stdout, stdin, exitOnCtrlC: false, patchConsole: false, maxFps: 30 });
    stdout.on('resize', onResize);
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    process.on('exit', onCrash);
    await instance.waitUntilExit();
    return code;
  } finally {
    stdout.off('resize', onResize);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('exit', onCrash);
    instance?.unmount();
    instance?.cleanup();
    restore();
  }
}
