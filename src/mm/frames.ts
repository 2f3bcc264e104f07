/**
 * Physical pages ("frames"), identified by a small integer id. The simulator needs page identity for
 * CoW reuse decisions after fork, the mapped-exactly-once pagemap bit, pins, page cache sharing between
 * mappings, and content truth through aliases. Id 0 is the shared zero page.
 */
export const PF_ANON = 1;
export const PF_FILE = 2;
export const PF_SHMEM = 4;
/** Part of a large folio (PMD THP); `head` is the first subpage. */
export const PF_LARGE = 8;
/** MADV_FREE'd and clean: reclaim may discard it. */
export const PF_LAZYFREE = 16;
/** Content lives in swap (anon page referenced by swap entries only). */
export const PF_SWAPPED = 32;
/** folio_test_dirty: written through some mapping since it was last clean. */
export const PF_DIRTY = 64;
/**
 * The page holds data: something stored into it since it was allocated zero-filled (a copy takes
 * the flag of its source). A THP split maps subpages without it to the shared zero page.
 */
export const PF_DATA = 128;

export const ZERO_PFN = 0;

export class PageFrames {
  /** Present mappings (page_mapcount). */
  mapcount = new Int32Array(1024);
  /** References that keep the page alive: present and swap entries, page cache. */
  refs = new Int32Array(1024);
  flags = new Uint8Array(1024);
  /** First subpage of the large folio (self for small pages). */
  head = new Int32Array(1024);
  /** FOLL_PIN count by folio head (folio_maybe_dma_pinned when > 0); pins are rare, so a map. */
  private readonly pins = new Map<number, number>();
  /** Page cache pages: owning file/shmem object id and page index in it (anon pages have none). */
  private readonly owners = new Map<number, { obj: number; index: number }>();
  private next = 1;
  private free: number[] = [];
  /** Pages currently allocated (for memory statistics). */
  live = 0;

  private grow(min: number): void {
    let cap = this.flags.length;
    while (cap < min) cap *= 2;
    const g = <T extends Int32Array | Uint8Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as { new (n: number): T })(cap);
      b.set(a);
      return b;
    };
    this.mapcount = g(this.mapcount);
    this.refs = g(this.refs);
    this.flags = g(this.flags);
    this.head = g(this.head);
  }

  private init(id: number, flags: number, head: number): void {
    this.mapcount[id] = 0;
    this.refs[id] = 0;
    this.flags[id] = flags;
    this.head[id] = head;
    this.live++;
  }

  /** Allocate one small page. */
  alloc(flags: number): number {
    const id = this.free.length > 0 ? this.free.pop()! : this.next++;
    if (id >= this.flags.length) this.grow(id + 1);
    this.init(id, flags, id);
    return id;
  }

  /** Allocate a PMD-sized large folio: `nr` consecutive ids; returns the first. */
  allocLarge(nr: number, flags: number): number {
    const base = this.next;
    this.next += nr;
    if (this.next > this.flags.length) this.grow(this.next);
    for (let i = 0; i < nr; i++) this.init(base + i, flags | PF_LARGE, base);
    return base;
  }

  /** Take a lifetime reference (a present or swap entry, or the page cache). */
  get(id: number): void {
    if (id !== ZERO_PFN) this.refs[id]!++;
  }

  /** Drop a lifetime reference; the page is freed when none is left. */
  put(id: number): void {
    if (id === ZERO_PFN) return;
    if (--this.refs[id]! > 0) return;
    this.release(id);
  }

  /**
   * unmap (when `mapped`) and put of each page of ids[from, to), in order: the page references of a
   * run of entries dropped in one call.
   */
  putRun(ids: Int32Array, from: number, to: number, mapped: boolean): void {
    const mapcount = this.mapcount;
    const refs = this.refs;
    for (let i = from; i < to; i++) {
      const id = ids[i]!;
      if (id === ZERO_PFN) continue;
      if (mapped) mapcount[id]!--;
      if (--refs[id]! <= 0) this.release(id);
    }
  }

  /** The last reference to page `id` is gone: free it. */
  private release(id: number): void {
    this.live--;
    const large = (this.flags[id]! & PF_LARGE) !== 0;
    this.flags[id] = 0;
    this.owners.delete(id);
    // Small pages are recycled; large-folio ids are not (they must stay consecutive, and a split
    // still looks for the folio's subpages by id).
    if (this.head[id] === id && !large) this.free.push(id);
  }

  map(id: number): void {
    if (id !== ZERO_PFN) this.mapcount[id]!++;
  }

  unmap(id: number): void {
    if (id !== ZERO_PFN) this.mapcount[id]!--;
  }

  isLarge(id: number): boolean {
    return id !== ZERO_PFN && (this.flags[id]! & PF_LARGE) !== 0;
  }

  /** folio_maybe_dma_pinned(). */
  maybePinned(id: number): boolean {
    return id !== ZERO_PFN && this.pins.has(this.head[id]!);
  }

  /** FOLL_PIN of page `id` (counted on its folio); unpin() undoes one. */
  pin(id: number): void {
    const head = this.head[id]!;
    this.pins.set(head, (this.pins.get(head) ?? 0) + 1);
  }

  unpin(id: number): void {
    const head = this.head[id]!;
    const n = (this.pins.get(head) ?? 0) - 1;
    if (n > 0) this.pins.set(head, n);
    else this.pins.delete(head);
  }

  /** Page `id` is page `index` of the page cache of object `obj`. */
  setOwner(id: number, obj: number, index: number): void {
    this.owners.set(id, { obj, index });
  }

  /** The page cache object and index of page `id`, or undefined for an anon page. */
  ownerOf(id: number): { obj: number; index: number } | undefined {
    return this.owners.get(id);
  }
}
