/**
 * A chunk's accesses as runs of consecutive records to one page of one process, computed once per
 * chunk and read by every lane of a thread: a lane's hit path then costs one TLB lookup per run, not
 * one per access (real traces access the same page several times in a row: instruction fetches, the
 * stack). Pure functions of the chunk's columns; nothing here knows a lane's state.
 */
import { PAGE_SIZE } from '../mm/uapi.js';
import { REC_OP, REC_WRITE, type TraceChunk } from '../trace/types.js';

export class PageRuns {
  /** Record i's page (valid where end[i] > i). */
  vpn = new Float64Array(0);
  /**
   * End (exclusive) of the run holding record i: the records from i to end[i] - 1 are accesses of the
   * same process, each within page vpn[i]. end[i] === i for a record the hit path never takes: an op,
   * or an access that spans pages.
   */
  end = new Int32Array(0);
  /** The first store at or after record i in its run (end[i] if none). */
  nextWrite = new Int32Array(0);
  /** The first record at or after i that carries a time (n if none), whatever the run. */
  nextTimed = new Int32Array(0);

  /** Fill the columns for `c` (buffers are reused from chunk to chunk). */
  compute(c: TraceChunk): this {
    const n = c.n;
    if (this.end.length < n) {
      this.vpn = new Float64Array(n);
      this.end = new Int32Array(n);
      this.nextWrite = new Int32Array(n);
      this.nextTimed = new Int32Array(n);
    }
    const { kind: kinds, addr: addrs, size: sizes, pid: pids, time: times } = c;
    const { vpn: vpns, end, nextWrite, nextTimed } = this;
    // One pass from the end: record i joins the run of record i + 1 (held in the locals).
    let timed = n;
    let runVpn = -1;
    let runPid = -1;
    let runEnd = 0;
    let runWrite = 0;
    for (let i = n - 1; i >= 0; i--) {
      if (!Number.isNaN(times[i]!)) timed = i;
      nextTimed[i] = timed;
      const addr = addrs[i]!;
      const vpn = Math.floor(addr / PAGE_SIZE);
      vpns[i] = vpn;
      if (kinds[i] === REC_OP || addr - vpn * PAGE_SIZE + sizes[i]! > PAGE_SIZE) {
        end[i] = i;
        nextWrite[i] = i;
        runVpn = -1;
        continue;
      }
      const pid = pids[i]!;
      if (vpn !== runVpn || pid !== runPid) {
        runVpn = vpn;
        runPid = pid;
        runEnd = i + 1;
        runWrite = runEnd;
      }
      if (kinds[i] === REC_WRITE) runWrite = i;
      end[i] = runEnd;
      nextWrite[i] = runWrite;
    }
    return this;
  }
}
