/**
 * What the fault paths share (mm/fault.ts, hugetlb.ts, handle-userfault.ts): the vm_fault_t outcomes
 * and struct vm_fault, in a file of their own so that the fault path and handle_userfault do not
 * import each other (as include/linux/mm_types.h holds them for mm/memory.c and fs/userfaultfd.c).
 */
import type { Leaf } from './leaf.js';
import type { Mm } from './mm.js';
import type { Vma } from './vma.js';

export const FAULT_DONE = 0;
export const FAULT_BLOCKED = 1;
export const FAULT_SIGBUS = 2;
export const FAULT_EFAULT = 3;
export const FAULT_SIGSEGV = 4;

/** struct vm_fault, reduced to what the simulator needs. */
export interface VmFault {
  mm: Mm;
  vma: Vma;
  vpn: number;
  leaf: Leaf;
  /** Index of the page in its leaf. */
  i: number;
  write: boolean;
  /** The access came from the kernel (copy_to_user, GUP): matters for UFFD_USER_MODE_ONLY. */
  kernel: boolean;
  tid: number;
}
