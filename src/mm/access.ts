import { Path, Why } from './cause.js';
import { handleMmFault } from './fault.js';
import { FAULT_DONE, FAULT_SIGSEGV } from './fault-types.js';
import { PF_DATA } from './frames.js';
import { GT_C, GT_W, type Leaf } from './leaf.js';
import type { Mm } from './mm.js';
import type { MemObject } from './object.js';
import type { System } from './system.js';
import { NO_WHY, setPmd, setPte } from './pgtable.js';
import { A, D, KIND_MASK, PAGE_MASK, PG_ANON, PMD_TABLE, PRESENT, PROTNONE, W, isPresent } from './pte.js';
import { PTRS_PER_PTE } from './uapi.js';
import { VM_EXEC, VM_READ, VM_SHARED, VM_WRITE, type Vma } from './vma.js';
import { CTR } from './counters.js';

export const ACCESS_OK = -1;

/**
 * The MMU's view of one access: if the entry lets it through, set A (and D for a store) as the
 * hardware does — never SD, never UW (docs/kernel-rules.md §0.2, §2.1.1) — and return true.
 */
function hwAccess(mm: Mm, leaf: Leaf, i: number, write: boolean): boolean {
  const need = write ? A | D : A;
  if (leaf.pmd === PMD_TABLE) {
    const e = leaf.pte[i]!;
    if ((e & (KIND_MASK | PROTNONE)) !== PRESENT || (write && (e & W) === 0)) return false;
    if ((e & need) !== need) setPte(mm, leaf, i, e | need, Path.HW_ACCESS, NO_WHY);
    return true;
  }
  const pmd = leaf.pmd;
  if ((pmd & (KIND_MASK | PROTNONE | PMD_TABLE)) !== PRESENT || (write && (pmd & W) === 0)) return false;
  if ((pmd & need) !== need) setPmd(mm, leaf, pmd | need, Path.HW_ACCESS, NO_WHY);
  return true;
}

/** access_error(): does the VMA allow this access at all? */
function vmaPermits(vma: Vma, write: boolean): boolean {
  return write ? (vma.flags & VM_WRITE) !== 0 : (vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) !== 0;
}

/**
 * One CPU (or kernel, for `kernel`) access to page `vpn`: the hardware walk, then faults until the
 * access can complete. Returns ACCESS_OK, or the FAULT_* outcome that stopped it (a blocked sync
 * uffd-wp fault, SIGSEGV, SIGBUS, EFAULT). A completed store marks the write truth.
 */
export function accessPage(mm: Mm, vpn: number, write: boolean, kernel: boolean, tid: number): number {
  const slot = Math.floor(vpn / PTRS_PER_PTE);
  const i = vpn - slot * PTRS_PER_PTE;
  for (let pass = 0; pass < 8; pass++) {
    const leaf = mm.leafAt(slot);
    if (leaf !== undefined && hwAccess(mm, leaf, i, write)) {
      if (write) {
        mm.sys.frames.flags[leaf.pmd === PMD_TABLE ? leaf.pfn[i]! : leaf.pmdPfn + i]! |= PF_DATA;
        markWritten(mm, leaf, i, vpn);
      }
      return ACCESS_OK;
    }
    const vma = mm.vmas.find(vpn);
    if (vma === null || !vmaPermits(vma, write)) {
      mm.sys.count(CTR.fault_sigsegv);
      return FAULT_SIGSEGV;
    }
    const r = handleMmFault({ mm, vma, vpn, leaf: leaf ?? mm.ensureLeaf(slot), i, write, kernel, tid });
    if (r !== FAULT_DONE) return r;
  }
  throw new Error(`internal: access to page 0x${vpn.toString(16)} did not complete after 8 faults`);
}

/**
 * First store to a page since the last reset (by the CPU, or by the kernel through GUP): GT_w and
 * GT_c. A store into a shared file/shmem page also changes what every other mapping of that page
 * shows (GT_c there, cause alias-write).
 */
export function markWritten(mm: Mm, leaf: Leaf, i: number, vpn: number): void {
  if ((leaf.gt[i]! & GT_W) !== 0) return;
  leaf.gt[i]! |= GT_W | GT_C;
  const vma = mm.vmas.find(vpn);
  const obj = vma?.obj;
  if (!vma || !obj || (vma.flags & VM_SHARED) === 0 || obj.mappings.size < 2) return;
  markObjectPages(mm.sys, obj, vma.pgoffOf(vpn), 1, Why.ALIAS_WRITE, vma);
}

/**
 * Content truth for every mapping of `obj` pages [index, index+count) except `except`: shared
 * mappings, and private ones where the page is still the page cache page (not yet CoW'd).
 */
export function markObjectPages(sys: System, obj: MemObject, index: number, count: number, why: number, except: Vma | null): void {
  for (const v of obj.mappings) {
    if (v === except) continue;
    const target = sys.mms.get(v.pid);
    if (!target) continue;
    const first = Math.max(index, v.pgoff);
    const last = Math.min(index + count, v.pgoff + v.pages);
    for (let k = first; k < last; k++) {
      const page = v.start + (k - v.pgoff);
      const l = target.ensureLeaf(Math.floor(page / PTRS_PER_PTE));
      const j = page - l.base;
      const e = l.pte[j]!;
      const cowed = (v.flags & VM_SHARED) === 0 && l.pmd === PMD_TABLE && isPresent(e) && (e & PAGE_MASK) === PG_ANON;
      if (cowed) continue;
      l.gt[j]! |= GT_C;
      l.cWhy[j] = why;
    }
  }
}
