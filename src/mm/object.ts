import type { PageFrames } from './frames.js';
import { PF_FILE, PF_SHMEM } from './frames.js';
import type { Vma } from './vma.js';

/**
 * A file or shmem object (struct address_space): its page cache and the VMAs that map it (i_mmap).
 * Shared anonymous mappings are shmem objects too.
 */
export class MemObject {
  readonly pages = new Map<number, number>();
  readonly mappings = new Set<Vma>();

  constructor(
    readonly id: number,
    readonly kind: 'file' | 'shmem',
    readonly name: string,
  ) {}

  /** The page cache page at `index`, created (zero-filled or read from the file) on first use. */
  getPage(frames: PageFrames, index: number): number {
    let id = this.pages.get(index);
    if (id === undefined) {
      id = frames.alloc(this.kind === 'file' ? PF_FILE : PF_SHMEM);
      frames.obj[id] = this.id;
      frames.index[id] = index;
      frames.get(id); // the page cache's own reference
      this.pages.set(index, id);
    }
    return id;
  }

  /** Drop pages [first, first+count) from the cache (hole punch, MADV_REMOVE). */
  punch(frames: PageFrames, first: number, count: number): void {
    for (let i = first; i < first + count; i++) {
      const id = this.pages.get(i);
      if (id === undefined) continue;
      this.pages.delete(i);
      frames.put(id);
    }
  }
}
