/**
 * Stage A0 of `pteplay bench`: the decode floor. The same file read as A reads it (a stream of 1 MiB
 * blocks), its frames cut at their length prefixes and unpacked by a bare msgpackr Unpackr, the columns
 * copied into fresh typed arrays as the reader does, and every access's address added up as A does; no
 * check of keys, types, lengths, positions or ops. A / A0 is what validation and the reader's machinery cost.
 */
import { createReadStream } from 'node:fs';
import { Unpackr } from 'msgpackr';
import { FRAME_PREFIX, MAGIC_BYTES } from '../trace/msgpack.js';
import { REC_OP } from '../trace/types.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

interface RawChunk {
  n: number;
  kind: Uint8Array;
  addr: Uint8Array;
  flags: Uint8Array;
  pid: Uint8Array;
  tid: Uint8Array;
  time: Uint8Array;
  size: Uint8Array;
}

/** A0 on a msgpack trace: returns the access count and a checksum of their addresses, like decodeOnly. */
export async function bareDecode(path: string): Promise<{ accesses: number; checksum: number }> {
  let buf: Buffer = Buffer.alloc(0);
  let frames = -1; // the header frame comes first
  let accesses = 0;
  let checksum = 0;
  let skip = MAGIC_BYTES.length;
  for await (const block of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    buf = buf.length === 0 ? block : Buffer.concat([buf, block]);
    let at = skip;
    skip = 0;
    while (buf.length - at >= FRAME_PREFIX) {
      const len = buf.readUInt32LE(at);
      if (buf.length - at - FRAME_PREFIX < len) break;
      const body = buf.subarray(at + FRAME_PREFIX, at + FRAME_PREFIX + len);
      at += FRAME_PREFIX + len;
      if (++frames === 0) continue;
      const c = unpackr.unpack(body) as RawChunk;
      const n = c.n;
      const kind = new Uint8Array(n);
      kind.set(c.kind);
      const addr = new Float64Array(n);
      new Uint8Array(addr.buffer).set(c.addr);
      for (const col of [c.flags, c.pid, c.tid, c.time, c.size]) new Uint8Array(col.length).set(col);
      for (let i = 0; i < n; i++) {
        if (kind[i] !== REC_OP) {
          accesses++;
          checksum += addr[i]!;
        }
      }
    }
    buf = buf.subarray(at);
  }
  return { accesses, checksum };
}
