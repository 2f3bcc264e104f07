/**
 * Exact-size reads over a stream of buffers, for the binary format's frames. Holds at most one frame
 * plus one stream buffer in memory.
 */
export class ByteReader {
  private readonly it: AsyncIterator<Buffer>;
  private bufs: Buffer[] = [];
  private avail = 0;
  private done = false;
  /** Bytes consumed so far (the file offset of the next read). */
  offset = 0;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Buffer until `n` bytes are available or the stream ends; returns how many are available (≤ n). */
  private async fill(n: number): Promise<number> {
    while (this.avail < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.length > 0) {
        this.bufs.push(r.value);
        this.avail += r.value.length;
      }
    }
    return Math.min(this.avail, n);
  }

  /** Up to `n` bytes without consuming them (fewer at the end of the stream). */
  async peek(n: number): Promise<Buffer> {
    const got = await this.fill(n);
    return this.gather(got, false);
  }

  /** Exactly `n` bytes, or fewer only at the end of the stream (the caller reports truncation). */
  async read(n: number): Promise<Buffer> {
    const got = await this.fill(n);
    const out = this.gather(got, true);
    this.offset += got;
    return out;
  }

  private gather(n: number, consume: boolean): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.bufs[0]!;
    let out: Buffer;
    if (first.length >= n) out = first.subarray(0, n);
    else {
      out = Buffer.allocUnsafe(n);
      let pos = 0;
      for (const b of this.bufs) {
        const take = Math.min(b.length, n - pos);
        b.copy(out, pos, 0, take);
        pos += take;
        if (pos === n) break;
      }
    }
    if (consume) {
      let left = n;
      while (left > 0) {
        const b = this.bufs[0]!;
        if (b.length <= left) {
          this.bufs.shift();
          left -= b.length;
        } else {
          this.bufs[0] = b.subarray(left);
          left = 0;
        }
      }
      this.avail -= n;
    }
    return out;
  }

  /** The remaining stream: buffered bytes first, then the rest of the source. */
  async *rest(): AsyncGenerator<Buffer> {
    const pending = this.bufs;
    this.bufs = [];
    this.avail = 0;
    for (const b of pending) yield b;
    if (this.done) return;
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      yield r.value;
    }
  }

  /** Stop the underlying stream. */
  async close(): Promise<void> {
    this.bufs = [];
    this.avail = 0;
    if (!this.done) {
      this.done = true;
      await this.it.return?.();
    }
  }
}
