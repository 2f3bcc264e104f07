/**
 * What a lane records besides PTE changes: the VMA changes of each op (from the VMAs the op touched,
 * src/mm/vma-log.ts), and keyframes of its page tables for time travel.
 */
import type { System } from '../mm/system.js';
import { PMD_TABLE } from '../mm/pte.js';
import { VM_FLAG_NAMES } from '../mm/vma.js';
import type { VmaChangeLog, VmaState } from '../mm/vma-log.js';
import type { Keyframe, KeyframeLeaf, VmaChangeRow } from './results.js';

/** vm_flags as the row's short names, by flags value (a lane sees few distinct values). */
const flagNames = new Map<number, string>();

function flagsText(flags: number): string {
  let t = flagNames.get(flags);
  if (t === undefined) {
    t = VM_FLAG_NAMES.filter(([bit]) => flags & bit)
      .map(([, n]) => n)
      .join(' ');
    flagNames.set(flags, t);
  }
  return t;
}

/** The vm_flags bits a row shows (the others may change without a row). */
const VISIBLE_FLAGS = VM_FLAG_NAMES.reduce((m, [bit]) => m | bit, 0);

function backingText(s: VmaState): string {
  return s.obj ? `${s.obj.kind}:${s.obj.name}` : s.isBrk ? '[heap]' : 'anon';
}

/** Every visible attribute of the two states is the same (what a row would say of each). */
function sameRow(a: VmaState, b: VmaState): boolean {
  if (a.pid !== b.pid || a.start !== b.start || a.end !== b.end || a.uffdCtx !== b.uffdCtx) return false;
  if ((a.flags & VISIBLE_FLAGS) !== (b.flags & VISIBLE_FLAGS)) return false;
  if (a.obj === null || b.obj === null) return a.obj === b.obj && a.isBrk === b.isBrk;
  return a.obj === b.obj || (a.obj.kind === b.obj.kind && a.obj.name === b.obj.name);
}

const byAddress = (x: VmaState, y: VmaState): number => x.pid - y.pid || x.start - y.start;

/** What an op that touched no VMA changed (shared: nothing may add to it). */
const NO_VMA_CHANGES: { rows: VmaChangeRow[]; visited: number } = Object.freeze({ rows: Object.freeze([]) as unknown as VmaChangeRow[], visited: 0 });

/**
 * The VMAs an op removed and added, as rows (removals first, then additions, each by pid and
 * address), from the VMAs it touched (`log`): their state before the op against their state now. A
 * VMA whose visible attributes came back to what they were (split and merged again, flags set and
 * cleared) is no change; an untouched VMA cannot have changed. Returns the rows and how many VMA
 * states it compared (the cost: what the op changed, not how many VMAs the processes have). The
 * states are compared field by field, in address order; only rows are turned into text.
 */
export function vmaChanges(lane: number, pos: number, log: VmaChangeLog): { rows: VmaChangeRow[]; visited: number } {
  if (log.touched.size === 0) return NO_VMA_CHANGES;
  const before: VmaState[] = [];
  const after: VmaState[] = [];
  for (const [v, was] of log.touched) {
    if (was !== null) before.push(was);
    const now = v.state();
    if (now !== null) after.push(now);
  }
  if (before.length > 1) before.sort(byAddress);
  if (after.length > 1) after.sort(byAddress);
  // In one list no two states share pid and start (they are VMAs of one moment): walk both in order.
  const removed: VmaState[] = [];
  const added: VmaState[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const c = i === before.length ? 1 : j === after.length ? -1 : byAddress(before[i]!, after[j]!);
    if (c === 0 && sameRow(before[i]!, after[j]!)) {
      i++;
      j++;
    } else if (c <= 0) removed.push(before[i++]!);
    else added.push(after[j++]!);
  }
  if (removed.length === 0 && added.length === 0) return { rows: [], visited: before.length + after.length };
  const rows: VmaChangeRow[] = [];
  for (const d of removed) rows.push(row(lane, pos, 'remove', d));
  for (const d of added) rows.push(row(lane, pos, 'add', d));
  return { rows, visited: before.length + after.length };
}

function row(lane: number, pos: number, change: 'add' | 'remove', s: VmaState): VmaChangeRow {
  return {
    lane,
    pos,
    pid: s.pid,
    change,
    startVpn: s.start,
    endVpn: s.end,
    flags: flagsText(s.flags),
    backing: backingText(s),
    uffdCtx: s.uffdCtx,
  };
}

/** The lane's page tables now: every slot with a PMD entry or a PTE table, processes by pid. */
export function captureKeyframe(sys: System, lane: number, seq: number, pos: number): Keyframe {
  const leaves: KeyframeLeaf[] = [];
  for (const pid of [...sys.mms.keys()].sort((a, b) => a - b)) {
    const mm = sys.mms.get(pid)!;
    const slots = [...mm.leaves.values()].filter((l) => l.pmd !== 0).sort((a, b) => a.index - b.index);
    for (const l of slots) leaves.push({ pid, slot: l.index, pmd: l.pmd, ptes: l.pmd === PMD_TABLE ? Uint16Array.from(l.pte) : null });
  }
  return { lane, seq, pos, leaves };
}

/** A run of pages (level 0) or 2 MiB slots (level 1) with the same final state. */
export interface FinalRun {
  pid: number;
  vpn: number;
  count: number;
  level: 0 | 1;
  state: number;
}

/** The lane's page tables at the end of the run, run-length encoded; holes and none entries left out. */
export function finalPages(sys: System): FinalRun[] {
  const runs: FinalRun[] = [];
  const push = (pid: number, vpn: number, level: 0 | 1, state: number) => {
    const last = runs[runs.length - 1];
    const step = level === 1 ? 512 : 1;
    if (last && last.pid === pid && last.level === level && last.state === state && last.vpn + last.count * step === vpn) last.count++;
    else runs.push({ pid, vpn, count: 1, level, state });
  };
  for (const pid of [...sys.mms.keys()].sort((a, b) => a - b)) {
    const mm = sys.mms.get(pid)!;
    for (const l of [...mm.leaves.values()].sort((a, b) => a.index - b.index)) {
      if (l.pmd === 0) continue;
      if (l.pmd !== PMD_TABLE) {
        push(pid, l.base, 1, l.pmd);
        continue;
      }
      for (let i = 0; i < l.pte.length; i++) if (l.pte[i] !== 0) push(pid, l.base + i, 0, l.pte[i]!);
    }
  }
  return runs;
}
