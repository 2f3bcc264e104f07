import { FAULT_BLOCKED, FAULT_EFAULT, FAULT_SIGBUS, type VmFault } from './fault-types.js';
import { HPAGE_PMD_NR, UFFD_EVENT_PAGEFAULT, UFFD_PAGEFAULT_FLAG_WP, UFFD_PAGEFAULT_FLAG_WRITE } from './uapi.js';
import { CTR } from './counters.js';

/**
 * fs/userfaultfd.c:handle_userfault(vmf, VM_UFFD_WP) — sync mode (§2.6): queue a
 * UFFD_EVENT_PAGEFAULT message with FLAG_WP and put the thread to sleep; the PTE stays UW=1, W=0
 * until the monitor un-protects it. UFFD_FEATURE_SIGBUS gives SIGBUS instead; a kernel-mode fault on
 * a UFFD_USER_MODE_ONLY context fails (the syscall returns EFAULT and the store does not happen).
 */
export function handleUserfault(f: VmFault): number {
  const sys = f.mm.sys;
  const ctx = f.vma.uffd!;
  if (ctx.sigbus) {
    sys.count(CTR.fault_sigbus);
    return FAULT_SIGBUS;
  }
  if (f.kernel && ctx.userModeOnly) {
    sys.count(CTR.fault_efault);
    return FAULT_EFAULT;
  }
  const msg = {
    event: UFFD_EVENT_PAGEFAULT,
    flags: UFFD_PAGEFAULT_FLAG_WP | (f.write ? UFFD_PAGEFAULT_FLAG_WRITE : 0),
    // vmf->address: hugetlb faults report the huge page's start (no UFFD_FEATURE_EXACT_ADDRESS).
    vpn: f.vma.isHugetlb ? f.vpn - (f.vpn % HPAGE_PMD_NR) : f.vpn,
    vpn2: 0,
    pages: 0,
    tid: f.tid,
    t: sys.now,
  };
  ctx.queue.push(msg);
  sys.count(CTR.fault_uffd_sync);
  sys.count(CTR.uffd_msgs);
  sys.uffdListener?.onMessage(ctx, msg);
  return FAULT_BLOCKED;
}
