/**
 * Open a trace file as a stream of buffers: 1 MiB reads (createReadStream's default 64 KiB is four
 * times slower, performance-notes.md), gunzipped when the file starts with the gzip magic (whatever
 * its name). Errors become one-line pteplay errors: missing/unreadable input (EXIT.NO_INPUT), a read
 * failure midway (EXIT.IO), corrupt or truncated gzip data (TraceFormatError, EXIT.DATA).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { EXIT, ioReason, PteplayError, TraceFormatError } from '../errors.js';

export const READ_HIGH_WATER_MARK = 1024 * 1024;

export interface ByteSource {
  /** The (decompressed) bytes, in order. Iterate once. */
  bytes: AsyncIterable<Buffer>;
  gzip: boolean;
  /** File size in bytes (compressed size for gzip). */
  fileBytes: number;
  /** File bytes read so far (compressed for gzip; reads run up to 1 MiB ahead of what was consumed): for progress. */
  readonly bytesRead: number;
  /** Stop reading and release the file (safe to call twice, or after the end). */
  close(): void;
}

export { ioReason } from '../errors.js';

export async function openByteSource(path: string): Promise<ByteSource> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new PteplayError(`cannot open trace ${path}: ${ioReason(e)}`, EXIT.NO_INPUT);
  }
  let fileBytes: number;
  let gzip: boolean;
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    fileBytes = st.size;
    const magic = Buffer.alloc(2);
    const { bytesRead } = await fh.read(magic, 0, 2, 0);
    gzip = bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw new PteplayError(`cannot read trace ${path}: ${ioReason(e)}`, EXIT.NO_INPUT);
  }
  const file = fh.createReadStream({ start: 0, highWaterMark: READ_HIGH_WATER_MARK, autoClose: true });
  const gunzip = gzip ? createGunzip({ chunkSize: 256 * 1024 }) : null;
  if (gunzip) {
    file.on('error', (e) => gunzip.destroy(e));
    file.pipe(gunzip);
  }
  const stream = gunzip ?? file;
  async function* bytes(): AsyncGenerator<Buffer> {
    try {
      for await (const b of stream) yield b as Buffer;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (gunzip && typeof err?.code === 'string' && err.code.startsWith('Z_')) {
        throw new TraceFormatError(
          path,
          `byte offset ${file.bytesRead}`,
          `corrupt or truncated gzip data (${err.message}; offset in the compressed file)`,
        );
      }
      throw new PteplayError(`error reading trace ${path}: ${ioReason(e)}`, EXIT.IO);
    } finally {
      file.destroy();
      gunzip?.destroy();
    }
  }
  return {
    bytes: bytes(),
    gzip,
    fileBytes,
    get bytesRead() {
      return file.bytesRead;
    },
    close() {
      file.destroy();
      gunzip?.destroy();
    },
  };
}
