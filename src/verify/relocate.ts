/**
 * Moving a trace's memory into kreplay's reservation (64 MiB at KREPLAY_BASE) and back.
 *
 * kreplay maps every trace inside one PROT_NONE reservation, so that a MAP_FIXED of the trace can
 * never land on the executor's own code, heap or stack. A trace's addresses are therefore moved: the
 * 2 MiB slots the trace uses are grouped into clusters of adjacent slots, and the clusters are packed
 * into the reservation in address order with one free slot between them. Offsets inside a 2 MiB slot
 * are kept, so PMD alignment (THP, PMD-sized mremap moves) is the same as in the trace; clusters that
 * were apart stay apart (no new VMA merges).
 */
import { PAGE_SIZE } from '../mm/uapi.js';
import { KREPLAY_BASE, REGION_BYTES } from './kreplay.js';

const SLOT = 2 << 20;
const RESERVATION_SLOTS = REGION_BYTES / SLOT;

interface Cluster {
  /** First slot (address / 2 MiB) in the trace, and one past the last. */
  start: number;
  end: number;
  /** First slot inside the reservation (relative to KREPLAY_BASE). */
  to: number;
}

export class Relocation {
  private constructor(private readonly clusters: Cluster[]) {}

  /** A relocation for these byte ranges [start, end); throws a RangeError naming the size when they do not fit. */
  static of(ranges: Iterable<readonly [number, number]>): Relocation {
    const slots: [number, number][] = [];
    for (const [s, e] of ranges) if (e > s) slots.push([Math.floor(s / SLOT), Math.ceil(e / SLOT)]);
    slots.sort((a, b) => a[0] - b[0]);
    const clusters: Cluster[] = [];
    for (const [s, e] of slots) {
      const last = clusters[clusters.length - 1];
      if (last && s <= last.end) last.end = Math.max(last.end, e);
      else clusters.push({ start: s, end: e, to: 0 });
    }
    let cursor = 0;
    for (const c of clusters) {
      c.to = cursor;
      cursor += c.end - c.start + 1;
    }
    const used = cursor - (clusters.length > 0 ? 1 : 0);
    if (used > RESERVATION_SLOTS) {
      throw new RangeError(
        `the trace's memory needs ${used * 2} MiB in ${clusters.length} region(s) (2 MiB aligned, apart by 2 MiB), ` +
          `more than kreplay's ${REGION_BYTES >> 20} MiB reservation`,
      );
    }
    return new Relocation(clusters);
  }

  /** A trace address inside the reservation. */
  to(addr: number): number {
    const slot = Math.floor(addr / SLOT);
    const c = this.clusters.find((k) => slot >= k.start && slot < k.end) ?? this.clusters.find((k) => slot === k.end && addr % SLOT === 0); // the end of a range
    if (!c) throw new RangeError(`address 0x${addr.toString(16)} is outside the trace's relocated memory`);
    return KREPLAY_BASE + c.to * SLOT + (addr - c.start * SLOT);
  }

  /** A reservation address back in the trace's address space (unchanged outside every cluster). */
  back(addr: number): number {
    const slot = Math.floor((addr - KREPLAY_BASE) / SLOT);
    const c =
      this.clusters.find((k) => slot >= k.to && slot < k.to + (k.end - k.start)) ??
      this.clusters.find((k) => slot === k.to + (k.end - k.start) && (addr - KREPLAY_BASE) % SLOT === 0);
    return c ? addr - KREPLAY_BASE - c.to * SLOT + c.start * SLOT : addr;
  }

  /** The relocated clusters as [first page, pages) relative to KREPLAY_BASE: where to observe. */
  windows(): [number, number][] {
    return this.clusters.map((c) => [(c.to * SLOT) / PAGE_SIZE, ((c.end - c.start) * SLOT) / PAGE_SIZE]);
  }
}
