/**
 * The one keymap of `pteplay play`. The input handler, the hint bar, the `?` overlay and
 * `pteplay play --help` are all generated from this table, so they cannot disagree.
 */
import type { Command } from './model/navigate.js';

/** Keys other than printable characters, named as ink's useInput names them. */
export type SpecialKey = 'rightArrow' | 'leftArrow' | 'upArrow' | 'downArrow' | 'tab' | 'escape' | 'home' | 'end';

/** A printable character, or a special key with modifiers. */
export type KeySpec = string | { special: SpecialKey; shift?: boolean } | { ctrl: string };

export interface KeyBinding {
  keys: KeySpec[];
  command: Command;
  /** What the key does, for the overlay and --help. */
  help: string;
  /** Short label for the hint bar; bindings without one appear only in the overlay and --help. */
  hint?: string;
}

/** The subset of ink's Key that matching looks at. */
export interface KeyState {
  rightArrow?: boolean;
  leftArrow?: boolean;
  upArrow?: boolean;
  downArrow?: boolean;
  tab?: boolean;
  escape?: boolean;
  home?: boolean;
  end?: boolean;
  shift?: boolean;
  ctrl?: boolean;
}

export const KEYMAP: KeyBinding[] = [
  { keys: [' '], command: 'togglePlay', help: 'play / pause (a PAUSED badge shows while paused)', hint: 'play' },
  { keys: ['.'], command: 'stepForward', help: 'one event forward (the next position that stored a change, an op or a collect)', hint: 'step' },
  { keys: [','], command: 'stepBack', help: 'one event back' },
  { keys: ['n'], command: 'nextPageChange', help: 'next event that changed the page under the cursor (focused lane)', hint: 'page' },
  { keys: ['N'], command: 'prevPageChange', help: 'previous event that changed the page under the cursor' },
  { keys: [{ special: 'rightArrow' }], command: 'nextInterval', help: 'next collect (one collect interval forward)', hint: 'collect' },
  { keys: [{ special: 'leftArrow' }], command: 'prevInterval', help: 'previous collect (one interval back)' },
  { keys: [{ special: 'rightArrow', shift: true }], command: 'nextInterval10', help: '10 collect intervals forward' },
  { keys: [{ special: 'leftArrow', shift: true }], command: 'prevInterval10', help: '10 collect intervals back' },
  { keys: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], command: 'jumpPercent', help: 'jump to 0 %, 10 %, ... 90 % of the run' },
  { keys: ['g', { special: 'home' }], command: 'start', help: 'start of the run' },
  { keys: ['G', { special: 'end' }], command: 'end', help: 'end of the run (a live run: follow new rows)' },
  { keys: [']'], command: 'nextFalse', help: 'next collect with a false page in a shown lane', hint: 'false' },
  { keys: ['['], command: 'prevFalse', help: 'previous collect with a false page' },
  { keys: ['m'], command: 'setMark', help: 'set a mark at this position' },
  { keys: ["'"], command: 'toMark', help: 'return to the last mark' },
  { keys: ['+', '='], command: 'faster', help: 'play twice as fast (up to 4096x)' },
  { keys: ['-'], command: 'slower', help: 'play half as fast (down to 1/16x)' },
  { keys: [{ special: 'tab' }], command: 'cycleLane', help: 'focus the next lane (its VMAs, page history and change density)', hint: 'lane' },
  { keys: ['h'], command: 'cursorLeft', help: 'page cursor left (one map cell)', hint: 'cursor' },
  { keys: ['l'], command: 'cursorRight', help: 'page cursor right' },
  { keys: ['k', { special: 'upArrow' }], command: 'cursorUp', help: 'page cursor up one map band' },
  { keys: ['j', { special: 'downArrow' }], command: 'cursorDown', help: 'page cursor down one map band' },
  {
    keys: ['/'],
    command: 'filter',
    help: 'filter: ADDR+PAGES, ADDR-ADDR, vma N (or vma ADDR), tid N; empty: back to the opening range',
    hint: 'filter',
  },
  {
    keys: [':'],
    command: 'goto',
    help: 'go to: a trace position (120000, 64k), N%, #SEQ (change row of the focused lane), cN (collect N)',
    hint: 'go to',
  },
  { keys: ['?'], command: 'help', help: 'this help (any key closes it)', hint: 'help' },
  { keys: ['q', { special: 'escape' }], command: 'quit', help: 'quit (Esc first closes the help or a prompt)', hint: 'quit' },
  { keys: [{ ctrl: 'c' }], command: 'interrupt', help: 'quit with exit status 130' },
];

const SPECIAL_LABEL: Record<SpecialKey, string> = {
  rightArrow: '→',
  leftArrow: '←',
  upArrow: '↑',
  downArrow: '↓',
  tab: 'Tab',
  escape: 'Esc',
  home: 'Home',
  end: 'End',
};

export function keyLabel(k: KeySpec): string {
  if (typeof k === 'string') return k === ' ' ? 'Space' : k;
  if ('ctrl' in k) return `Ctrl-${k.ctrl.toUpperCase()}`;
  return `${k.shift ? 'Shift-' : ''}${SPECIAL_LABEL[k.special]}`;
}

/** "0-9" for the digits, else the keys joined by " / ". */
export function keysLabel(b: KeyBinding): string {
  if (b.command === 'jumpPercent') return '0-9';
  return b.keys.map(keyLabel).join(' / ');
}

function matches(k: KeySpec, input: string, key: KeyState): boolean {
  if (typeof k === 'string') return input === k && !key.ctrl;
  if ('ctrl' in k) return !!key.ctrl && input === k.ctrl;
  return !!key[k.special] && !!key.shift === !!k.shift;
}

/** The binding for one key press, if any. */
export function bindingFor(input: string, key: KeyState): KeyBinding | undefined {
  return KEYMAP.find((b) => b.keys.some((k) => matches(k, input, key)));
}

/** The overlay's and --help's lines: keys, padded, then what they do. */
export function helpLines(): string[] {
  const w = Math.max(...KEYMAP.map((b) => keysLabel(b).length));
  return KEYMAP.map((b) => `${keysLabel(b).padEnd(w)}  ${b.help}`);
}

/** The hint bar: the bindings with a hint, "Space play  . step ...". */
export function hintItems(): { keys: string; hint: string }[] {
  return KEYMAP.filter((b) => b.hint).map((b) => ({ keys: b.command === 'jumpPercent' ? '0-9' : keyLabel(b.keys[0]!), hint: b.hint! }));
}
