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
  /**
   * i_size in pages: a fault at or beyond it is VM_FAULT_SIGBUS (shmem_get_folio_gfp, filemap_fault).
   * Shared anonymous memory has the length of its mmap (shmem_zero_setup), so an mremap that grows it
   * maps pages beyond EOF; files and memfds are unbounded here (no ftruncate is modelled; kreplay
   * sizes them beyond every access).
   */
  sizePages = Infinity;

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
      frames.setOwner(id, this.id, index);
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
