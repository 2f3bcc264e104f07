/**
 * What a lane records besides PTE changes: the VMA changes of each op (from the VMAs the op touched,
 * src/mm/vma-log.ts), and keyframes of its page tables for time travel.
 */
import type { System } from '../mm/system.js';
import { PMD_TABLE } from '../mm/pte.js';
import { VM_FLAG_NAMES } from '../mm/vma.js';
import type { VmaChangeLog, VmaState } from '../mm/vma-log.js';
import type { Keyframe, KeyframeLeaf, VmaChangeRow } from './results.js';

interface VmaDesc {
  pid: number;
  start: number;
  end: number;
  flags: string;
  backing: string;
  uffdCtx: number | null;
}

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

function describe(s: VmaState): VmaDesc {
  return {
    pid: s.pid,
    start: s.start,
    end: s.end,
    flags: flagsText(s.flags),
    backing: s.obj ? `${s.obj.kind}:${s.obj.name}` : s.isBrk ? '[heap]' : 'anon',
    uffdCtx: s.uffdCtx,
  };
}

/** Every visible attribute of a VMA: a VMA whose key is the same before and after an op did not change. */
const keyOf = (d: VmaDesc): string => `${d.pid}/${d.start}/${d.end}/${d.flags}/${d.backing}/${d.uffdCtx}`;

/** What an op that touched no VMA changed (shared: nothing may add to it). */
const NO_VMA_CHANGES: { rows: VmaChangeRow[]; visited: number } = Object.freeze({ rows: Object.freeze([]) as unknown as VmaChangeRow[], visited: 0 });

/**
 * The VMAs an op removed and added, as rows (removals first, then additions, each by pid and
 * address), from the VMAs it touched (`log`): their state before the op against their state now. A
 * VMA whose visible attributes came back to what they were (split and merged again, flags set and
 * cleared) is no change; an untouched VMA cannot have changed. Returns the rows and how many VMA
 * states it compared (the cost: what the op changed, not how many VMAs the processes have).
 */
export function vmaChanges(lane: number, pos: number, log: VmaChangeLog): { rows: VmaChangeRow[]; visited: number } {
  if (log.touched.size === 0) return NO_VMA_CHANGES;
  const before = new Map<string, VmaDesc>();
  const after = new Map<string, VmaDesc>();
  let visited = 0;
  for (const [v, was] of log.touched) {
    if (was !== null) {
      const d = describe(was);
      before.set(keyOf(d), d);
      visited++;
    }
    const now = v.state();
    if (now !== null) {
      const d = describe(now);
      after.set(keyOf(d), d);
      visited++;
    }
  }
  const rows: VmaChangeRow[] = [];
  for (const d of onlyIn(before, after)) rows.push(row(lane, pos, 'remove', d));
  for (const d of onlyIn(after, before)) rows.push(row(lane, pos, 'add', d));
  return { rows, visited };
}

/** The VMAs of `a` whose key `b` does not have, by pid and address (in `a`'s order where equal). */
function onlyIn(a: Map<string, VmaDesc>, b: Map<string, VmaDesc>): VmaDesc[] {
  const out: VmaDesc[] = [];
  for (const [k, d] of a) if (!b.has(k)) out.push(d);
  if (out.length > 1) out.sort((x, y) => x.pid - y.pid || x.start - y.start);
  return out;
}

function row(lane: number, pos: number, change: 'add' | 'remove', d: VmaDesc): VmaChangeRow {
  return { lane, pos, pid: d.pid, change, startVpn: d.start, endVpn: d.end, flags: d.flags, backing: d.backing, uffdCtx: d.uffdCtx };
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
