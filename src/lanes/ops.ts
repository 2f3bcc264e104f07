/**
 * Execute one trace op (a syscall, or a raw tracker API call) literally in a lane's system. Every
 * op's outcome — including errors — is recorded as an op result by the function that models it; what
 * a pagemap_read or pagemap_scan returned besides its return value is handed back as a PagemapAnswer.
 */
import { doMadvise } from '../mm/madvise.js';
import { doBrk, doMmap, doMunmap } from '../mm/mmap.js';
import { doMprotect } from '../mm/mprotect.js';
import { hex } from '../mm/hex.js';
import { doMremap } from '../mm/mremap.js';
import { doExit, doFork, doSpawn } from '../mm/fork.js';
import { doDmaWrite, doPin, doPwrite, doUnpin } from '../mm/gup.js';
import type { Mm } from '../mm/mm.js';
import type { System } from '../mm/system.js';
import { PAGE_SIZE } from '../mm/uapi.js';
import { clearRefs } from '../trackers/clear-refs.js';
import { pagemapRead } from '../trackers/pagemap.js';
import { pagemapScan } from '../trackers/pagemap-scan.js';
import { uffdClose, uffdioApi, uffdioRegister, uffdioUnregister, uffdioWriteprotect, uffdUserfaultfd } from '../trackers/userfaultfd.js';
import type { TraceOp } from '../trace/types.js';
import type { PagemapAnswer } from './results.js';

/** Execute `op`; for a pagemap_read or pagemap_scan that returned entries or regions, what it returned. */
export function executeOp(sys: System, op: TraceOp): PagemapAnswer | null {
  if (op.op === 'pagemap_read' || op.op === 'pagemap_scan') {
    const mm = sys.mm(op.pid);
    if (mm !== undefined && !mm.exited) return pagemapAnswer(mm, op);
  }
  executeOther(sys, op);
  return null;
}

/** pagemap_read or PAGEMAP_SCAN in a live process: the entries as runs (never one per page), or the regions. */
function pagemapAnswer(mm: Mm, op: Extract<TraceOp, { op: 'pagemap_read' | 'pagemap_scan' }>): PagemapAnswer | null {
  const a: PagemapAnswer = { lane: mm.sys.lane, pos: mm.sys.pos, pid: mm.pid, call: 'pagemap_read', vpn: [], count: [], value: [] };
  if (op.op === 'pagemap_read') {
    pagemapRead(mm, op.offset, op.count, (vpn, n, bits) => {
      a.vpn.push(vpn);
      a.count.push(n);
      a.value.push(bits);
    });
  } else {
    a.call = 'PAGEMAP_SCAN';
    for (const r of pagemapScan(mm, op).regions) {
      a.vpn.push(r.start / PAGE_SIZE);
      a.count.push((r.end - r.start) / PAGE_SIZE);
      a.value.push(r.categories);
    }
  }
  return a.vpn.length > 0 ? a : null;
}

function executeOther(sys: System, op: TraceOp): void {
  if (op.op === 'mark') return;
  if (op.op === 'pwrite') {
    doPwrite(sys, op.backing, op.offset, op.len, op.pid);
    return;
  }
  if (op.op === 'fork' && op.pid === 0) {
    doSpawn(sys, op.child);
    return;
  }
  const mm = sys.mm(op.pid);
  if (mm === undefined || mm.exited) {
    sys.result(op.pid, op.op, 'no such process', -1, 'ESRCH');
    return;
  }
  switch (op.op) {
    case 'mmap':
      doMmap(mm, op);
      return;
    case 'munmap':
      doMunmap(mm, op.addr, op.len);
      return;
    case 'mprotect':
      doMprotect(mm, op.addr, op.len, op.prot);
      return;
    case 'mremap':
      doMremap(mm, op);
      return;
    case 'madvise':
      doMadvise(mm, op.addr, op.len, op.advice, op.tid ?? op.pid);
      return;
    case 'brk':
      doBrk(mm, op.addr);
      return;
    case 'exec':
      if (op.brkStart !== undefined) mm.brkStart = mm.brk = Math.ceil(op.brkStart / PAGE_SIZE);
      sys.result(mm.pid, 'exec', op.brkStart !== undefined ? `brk_start=${hex(op.brkStart)}` : '', 0, null);
      return;
    case 'fork':
      doFork(mm, op.child);
      return;
    case 'exit':
      doExit(mm);
      return;
    case 'clear_refs':
      clearRefs(mm, op.value);
      return;
    case 'userfaultfd':
      uffdUserfaultfd(mm, op.fd, op.flags);
      return;
    case 'uffdio_api':
      uffdioApi(mm, op.fd, op.api, op.features);
      return;
    case 'uffdio_register':
      uffdioRegister(mm, op.fd, op.start, op.len, op.mode);
      return;
    case 'uffdio_unregister':
      uffdioUnregister(mm, op.fd, op.start, op.len);
      return;
    case 'uffdio_writeprotect':
      uffdioWriteprotect(mm, op.fd, op.start, op.len, op.mode);
      return;
    case 'close':
      uffdClose(mm, op.fd);
      return;
    case 'pin':
      doPin(mm, op.addr, op.len, op.write, op.longterm, op.tid ?? op.pid);
      return;
    case 'unpin':
      doUnpin(mm, op.addr, op.len);
      return;
    case 'dma_write':
      doDmaWrite(mm, op.addr, op.len);
      return;
    default:
      sys.result(op.pid, op.op, '', -1, 'ENOSYS');
  }
}
