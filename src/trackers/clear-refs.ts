/**
 * write(2) to /proc/PID/clear_refs (fs/proc/task_mmu.c:clear_refs_write; docs/kernel-rules.md §2.2).
 *
 *   1 CLEAR_REFS_ALL, 2 CLEAR_REFS_ANON, 3 CLEAR_REFS_MAPPED: clear the young bit (A) of present
 *     entries that map a normal page (clear_refs_pte_range; the zero page has no folio);
 *   4 CLEAR_REFS_SOFT_DIRTY: clear VM_SOFTDIRTY on every VMA, then write-protect and clear SD on every
 *     present entry (skipping pinned ones), clear swap-SD on swap-format entries, keep D and A on a
 *     huge PMD; one flush_tlb_mm at the end;
 *   5 CLEAR_REFS_MM_HIWATER_RSS: resets peak RSS (nothing the simulator models).
 *
 * Like the kernel, a successful write returns the number of bytes consumed (at most
 * PROC_NUMBUF - 1 = 12), e.g. 1 for "4" and 2 for "4\n" (probed: "write '4' returns 1").
 */
import { Path, Why } from '../mm/cause.js';
import type { Leaf } from '../mm/leaf.js';
import type { Mm } from '../mm/mm.js';
import { NO_WHY, flushTlbMm, flushTlbRange, setPmd, setPte } from '../mm/pgtable.js';
import { A, KIND_MASK, NONE, PAGE_MASK, PG_ZERO, PRESENT, SD, W, isPresent } from '../mm/pte.js';
import { isHugeEntry } from '../mm/thp.js';
import {
  CLEAR_REFS_ALL,
  CLEAR_REFS_ANON,
  CLEAR_REFS_LAST,
  CLEAR_REFS_MAPPED,
  CLEAR_REFS_MM_HIWATER_RSS,
  CLEAR_REFS_SOFT_DIRTY,
  HPAGE_PMD_NR,
} from '../mm/uapi.js';
import { VM_PFNMAP, VM_SOFTDIRTY, type Vma } from '../mm/vma.js';
import { CTR } from '../mm/counters.js';
import { walkPmdRange } from '../mm/pagewalk.js';

/** PROC_NUMBUF: clear_refs_write copies at most sizeof(buffer) - 1 = 12 bytes. */
const PROC_NUMBUF = 13;

/** isspace() of the kernel's ctype for the ASCII range (strstrip). */
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

/** lib/string.c:strstrip — leading and trailing whitespace removed. */
function strstrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (b > a && isSpace(s[b - 1]!)) b--;
  while (a < b && isSpace(s[a]!)) a++;
  return s.slice(a, b);
}

/** Result of lib/kstrtox.c:kstrtoint(s, 10): the value or an errno name. */
export type KstrtointResult = { ok: true; value: number } | { ok: false; errno: 'EINVAL' | 'ERANGE' };

/**
 * lib/kstrtox.c:kstrtoint(s, 10, &res): optional '-' (kstrtoll) or '+' (kstrtoull), decimal digits
 * only (base 10: no 0x prefix), one trailing '\n' allowed, nothing else. No digits → EINVAL;
 * beyond u64 or outside int → ERANGE.
 */
export function kstrtoint(s: string): KstrtointResult {
  let i = 0;
  let neg = false;
  if (s[0] === '-') {
    neg = true;
    i = 1;
  } else if (s[0] === '+') {
    i = 1;
  }
  const digitsStart = i;
  while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
  const digits = s.slice(digitsStart, i);
  if (digits.length === 0) return { ok: false, errno: 'EINVAL' };
  if (s[i] === '\n') i++;
  if (i !== s.length) return { ok: false, errno: 'EINVAL' };
  const v = BigInt(digits);
  if (v > 0xffffffffffffffffn) return { ok: false, errno: 'ERANGE' };
  const signed = neg ? -v : v;
  if (signed > 0x7fffffffn || signed < -0x80000000n) return { ok: false, errno: 'ERANGE' };
  return { ok: true, value: Number(signed) };
}

/**
 * fs/proc/task_mmu.c:clear_refs_write. Returns bytes consumed, or -1 with the errno recorded
 * (EINVAL for a bad number or a type outside 1..5, ERANGE from kstrtoint).
 */
export function clearRefs(mm: Mm, value: string): number {
  const sys = mm.sys;
  const args = JSON.stringify(value);
  sys.count(CTR.clear_refs_calls);
  // count = min(count, sizeof(buffer) - 1); the buffer is then NUL-terminated.
  let buf = value.length > PROC_NUMBUF - 1 ? value.slice(0, PROC_NUMBUF - 1) : value;
  const nul = buf.indexOf('\0');
  const count = buf.length;
  if (nul >= 0) buf = buf.slice(0, nul);
  const parsed = kstrtoint(strstrip(buf));
  if (!parsed.ok) return sys.result(mm.pid, 'clear_refs', args, -1, parsed.errno);
  const type = parsed.value;
  if (type < CLEAR_REFS_ALL || type >= CLEAR_REFS_LAST) return sys.result(mm.pid, 'clear_refs', args, -1, 'EINVAL');
  if (mm.exited) return sys.result(mm.pid, 'clear_refs', args, count, null);
  if (type === CLEAR_REFS_MM_HIWATER_RSS) return sys.result(mm.pid, 'clear_refs', args, count, null);
  // !CONFIG_MEM_SOFT_DIRTY: VM_SOFTDIRTY is 0 and clear_soft_dirty{,_pmd} are empty stubs.
  if (type === CLEAR_REFS_SOFT_DIRTY && !sys.profile.softDirty) return sys.result(mm.pid, 'clear_refs', args, count, null);

  if (type === CLEAR_REFS_SOFT_DIRTY) {
    for (const vma of mm.vmas.list) {
      // vm_flags_clear(vma, VM_SOFTDIRTY) + vma_set_page_prot: the predicates read the flag.
      if (vma.flags & VM_SOFTDIRTY) vma.flags &= ~VM_SOFTDIRTY;
    }
    mm.tlbFlushPending++;
  }
  let visited = 0;
  for (const vma of mm.vmas.list) {
    if (!clearRefsTestWalk(vma, type)) continue;
    // No hugetlb_entry in clear_refs_walk_ops: hugetlb VMAs are not walked (§2.2.4).
    if (vma.isHugetlb) continue;
    // clear_refs_pte_range as pmd_entry; no pte_hole callback.
    walkPmdRange(mm, vma.start, vma.end, {
      pmdEntry(leaf, from, to) {
        if (isHugeEntry(leaf.pmd)) {
          visited++;
          if (type === CLEAR_REFS_SOFT_DIRTY) clearSoftDirtyPmd(mm, leaf);
          else clearYoungPmd(mm, leaf);
          return 0;
        }
        const lo = from - leaf.base;
        const hi = to - leaf.base;
        visited += hi - lo;
        if (type === CLEAR_REFS_SOFT_DIRTY) clearSoftDirtyPtes(mm, vma, leaf, lo, hi);
        else clearYoungPtes(mm, leaf, lo, hi);
        return 0;
      },
    });
  }
  sys.count(CTR.clear_refs_entries, visited);
  if (type === CLEAR_REFS_SOFT_DIRTY) {
    flushTlbMm(mm);
    mm.tlbFlushPending--;
  }
  return sys.result(mm.pid, 'clear_refs', args, count, null);
}

/** clear_refs_test_walk: skip VM_PFNMAP; type 2 skips VMAs with a file (vm_file), type 3 those without. */
function clearRefsTestWalk(vma: Vma, type: number): boolean {
  if (vma.flags & VM_PFNMAP) return false;
  // Shared anonymous memory has a vm_file (shmem_zero_setup), so it counts as "mapped".
  if (type === CLEAR_REFS_ANON && vma.obj !== null) return false;
  if (type === CLEAR_REFS_MAPPED && vma.obj === null) return false;
  return true;
}

/**
 * fs/proc/task_mmu.c:pte_is_pinned — pte_write && is_cow_mapping && MMF_HAS_PINNED &&
 * folio_maybe_dma_pinned(vm_normal_folio) (the zero page has no folio).
 */
function pteIsPinned(mm: Mm, vma: Vma, e: number, pfn: number): boolean {
  if (!mm.hasPinned || !vma.isCow || (e & W) === 0) return false;
  if ((e & PAGE_MASK) === PG_ZERO) return false;
  return mm.sys.frames.maybePinned(pfn);
}

/**
 * fs/proc/task_mmu.c:clear_soft_dirty for PTEs [lo, hi) of `leaf`: present → (unless pinned)
 * pte_wrprotect + pte_clear_soft_dirty through ptep_modify_prot_start/commit (D, A, UW kept);
 * swap-format (swap, migration, markers) → pte_swp_clear_soft_dirty; none → nothing.
 */
function clearSoftDirtyPtes(mm: Mm, vma: Vma, leaf: Leaf, lo: number, hi: number): void {
  const pte = leaf.pte;
  for (let i = lo; i < hi; i++) {
    const e = pte[i]!;
    const kind = e & KIND_MASK;
    if (kind === NONE) continue;
    if (kind === PRESENT) {
      if (pteIsPinned(mm, vma, e, leaf.pfn[i]!)) {
        // Skipped entirely: stays writable, keeps SD (D21).
        if (e & SD) leaf.sdWhy[i] = Why.PINNED;
        continue;
      }
      setPte(mm, leaf, i, e & ~(W | SD), Path.CLEAR_SOFT_DIRTY, Why.ARMED);
    } else {
      setPte(mm, leaf, i, e & ~SD, Path.CLEAR_SOFT_DIRTY, Why.ARMED);
    }
    // A new epoch: reasons from the previous one no longer apply.
    leaf.sdWhy[i] = Why.ARMED;
  }
}

/**
 * fs/proc/task_mmu.c:clear_soft_dirty_pmd: present → pmdp_invalidate (flushes the PMD range), keep
 * D and A, pmd_wrprotect + pmd_clear_soft_dirty; a PMD migration entry → swap-SD cleared.
 */
function clearSoftDirtyPmd(mm: Mm, leaf: Leaf): void {
  const pmd = leaf.pmd;
  if (isPresent(pmd)) {
    setPmd(mm, leaf, pmd & ~(W | SD), Path.CLEAR_SOFT_DIRTY, Why.ARMED);
    flushTlbRange(mm, HPAGE_PMD_NR);
  } else {
    setPmd(mm, leaf, pmd & ~SD, Path.CLEAR_SOFT_DIRTY, Why.ARMED);
  }
  leaf.sdWhy.fill(Why.ARMED);
}

/** clear_refs_pte_range, types 1–3: ptep_test_and_clear_young on present PTEs with a normal folio. */
function clearYoungPtes(mm: Mm, leaf: Leaf, lo: number, hi: number): void {
  const pte = leaf.pte;
  for (let i = lo; i < hi; i++) {
    const e = pte[i]!;
    if (!isPresent(e) || (e & PAGE_MASK) === PG_ZERO || (e & A) === 0) continue;
    setPte(mm, leaf, i, e & ~A, Path.CLEAR_REFS_YOUNG, NO_WHY);
  }
}

/** clear_refs_pte_range, types 1–3, huge PMD: pmdp_test_and_clear_young when present. */
function clearYoungPmd(mm: Mm, leaf: Leaf): void {
  const pmd = leaf.pmd;
  if (!isPresent(pmd) || (pmd & A) === 0) return;
  setPmd(mm, leaf, pmd & ~A, Path.CLEAR_REFS_YOUNG, NO_WHY);
}
