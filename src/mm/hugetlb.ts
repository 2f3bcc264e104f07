/**
 * hugetlb faults (mm/hugetlb.c:hugetlb_fault, hugetlb_no_page, hugetlb_wp; docs/kernel-rules.md
 * §2.1.9). A 2 MiB hugetlb page is one entry kept in the leaf's PMD slot; uffd-wp works on the whole
 * huge page, and soft-dirty is not maintained for hugetlb (pagemap reads VM_SOFTDIRTY only, §2.2.4).
 */
import { handleUserfault } from './handle-userfault.js';
import { Path, Why } from './cause.js';
import { FAULT_DONE, type VmFault } from './fault-types.js';
import { PF_ANON, PF_DIRTY, PF_SHMEM } from './frames.js';
import { setPmd } from './pgtable.js';
import { userfaultfdWp, userfaultfdWpAsync } from './predicates.js';
import { A, D, EXCL, KIND_MASK, MARKER, NONE, PG_ANON, PG_SHMEM, PRESENT, SD, UW, W, isUffdWpMarker, pteMkUffdWp } from './pte.js';
import { HPAGE_PMD_NR } from './uapi.js';
import { VM_SHARED, VM_WRITE } from './vma.js';
import { CTR } from './counters.js';

export function hugetlbFault(f: VmFault): number {
  const { mm, vma, leaf } = f;
  const sys = mm.sys;
  const e = leaf.pmd;
  const kind = e & KIND_MASK;
  const shared = (vma.flags & VM_SHARED) !== 0;
  if (kind === NONE || kind === MARKER) {
    // hugetlb_no_page: a fresh huge page; writable at once only for shared mappings (make_huge_pte).
    const origUw = isUffdWpMarker(e);
    sys.count(origUw ? CTR.fault_marker : CTR.fault_missing);
    const base = sys.frames.allocLarge(HPAGE_PMD_NR, (shared ? PF_SHMEM : PF_ANON) | PF_DIRTY);
    for (let k = 0; k < HPAGE_PMD_NR; k++) {
      sys.frames.get(base + k);
      sys.frames.map(base + k);
    }
    let entry = PRESENT | A | (shared ? PG_SHMEM : PG_ANON | EXCL);
    if (shared && vma.flags & VM_WRITE) entry |= W | D | SD;
    if (origUw) entry = pteMkUffdWp(entry);
    leaf.pmdPfn = base;
    setPmd(mm, leaf, entry, Path.HUGETLB_FAULT, Why.WRITE);
    return FAULT_DONE;
  }
  if (kind !== PRESENT || !f.write || e & W) return FAULT_DONE;
  let next = e;
  if (userfaultfdWp(vma) && e & UW) {
    if (!userfaultfdWpAsync(vma)) return handleUserfault(f);
    // huge_pte_clear_uffd_wp: the whole huge page becomes written (D25).
    next &= ~UW;
    sys.count(CTR.fault_uffd_async);
  } else {
    sys.count(CTR.fault_wp_reuse);
  }
  // hugetlb_wp on an exclusive anon or shared page: set_huge_ptep_writable (mkdirty also sets SD).
  setPmd(mm, leaf, next | A | D | SD | (vma.flags & VM_WRITE ? W : 0), Path.HUGETLB_FAULT, Why.WRITE);
  return FAULT_DONE;
}
