import type { Mm } from '../../mm/mm.js';
import { pagemapRead } from '../../trackers/pagemap.js';
import type { PageRanges } from '../ranges.js';

/**
 * pread() /proc/pid/pagemap over pages [start, end) and add the pages whose entry bits (a PMB_* set)
 * satisfy `want` to `out`. One read call per range, as CRIU reads a VMA.
 */
export function readPagemapPages(mm: Mm, start: number, end: number, want: (bits: number) => boolean, out: PageRanges): void {
  if (end <= start) return;
  pagemapRead(mm, start * 8, (end - start) * 8, (vpn, n, bits) => {
    if (want(bits)) out.push(vpn, vpn + n);
  });
}
