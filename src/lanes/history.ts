/**
 * What a lane records besides PTE changes: VMA changes around each op, and keyframes of its page
 * tables for time travel.
 */
import type { System } from '../mm/system.js';
import { PMD_TABLE } from '../mm/pte.js';
import { VM_FLAG_NAMES, type Vma } from '../mm/vma.js';
import type { Keyframe, KeyframeLeaf, VmaChangeRow } from './results.js';

interface VmaDesc {
  pid: number;
  start: number;
  end: number;
  flags: string;
  backing: string;
  uffdCtx: number | null;
}

/** A VMA's description, with what it was made from (a snapshot runs before and after every op). */
interface Described {
  desc: VmaDesc;
  key: string;
  rawFlags: number;
  obj: Vma['obj'];
  isBrk: boolean;
}

/** The last description of each VMA object, reused while the VMA has not changed. */
const described = new WeakMap<Vma, Described>();

function describe(pid: number, v: Vma): Described {
  const uffdCtx = v.uffd?.id ?? null;
  const c = described.get(v);
  if (
    c !== undefined &&
    c.desc.pid === pid &&
    c.desc.start === v.start &&
    c.desc.end === v.end &&
    c.rawFlags === v.flags &&
    c.desc.uffdCtx === uffdCtx &&
    c.obj === v.obj &&
    c.isBrk === v.isBrk
  )
    return c;
  const desc: VmaDesc = {
    pid,
    start: v.start,
    end: v.end,
    flags: VM_FLAG_NAMES.filter(([bit]) => v.flags & bit)
      .map(([, n]) => n)
      .join(' '),
    backing: v.obj ? `${v.obj.kind}:${v.obj.name}` : v.isBrk ? '[heap]' : 'anon',
    uffdCtx,
  };
  const d: Described = {
    desc,
    key: `${pid}/${desc.start}/${desc.end}/${desc.flags}/${desc.backing}/${uffdCtx}`,
    rawFlags: v.flags,
    obj: v.obj,
    isBrk: v.isBrk,
  };
  described.set(v, d);
  return d;
}

/** Every VMA of every process, keyed by all its visible attributes. */
export function vmaSnapshot(sys: System): Map<string, VmaDesc> {
  const m = new Map<string, VmaDesc>();
  for (const mm of sys.mms.values()) {
    for (const v of mm.vmas.list) {
      const d = describe(mm.pid, v);
      m.set(d.key, d.desc);
    }
  }
  return m;
}

/** The VMAs removed and added between two snapshots, as rows (removals first, by address). */
export function vmaDiff(lane: number, pos: number, before: Map<string, VmaDesc>, after: Map<string, VmaDesc>): VmaChangeRow[] {
  const rows: VmaChangeRow[] = [];
  const emit = (change: 'add' | 'remove', d: VmaDesc) =>
    rows.push({ lane, pos, pid: d.pid, change, startVpn: d.start, endVpn: d.end, flags: d.flags, backing: d.backing, uffdCtx: d.uffdCtx });
  const byAddr = (a: VmaDesc, b: VmaDesc) => a.pid - b.pid || a.start - b.start;
  for (const d of [...before]
    .filter(([k]) => !after.has(k))
    .map(([, d]) => d)
    .sort(byAddr))
    emit('remove', d);
  for (const d of [...after]
    .filter(([k]) => !before.has(k))
    .map(([, d]) => d)
    .sort(byAddr))
    emit('add', d);
  return rows;
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
