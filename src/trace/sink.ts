/**
 * An output byte sink with backpressure: a file (written to a temporary name and renamed into place
 * on success, so a failed conversion never leaves half a trace behind), gzip-compressed when the name
 * ends in ".gz", or stdout ("-"). Errors become one-line pteplay errors: EXIT.CANT_CREATE when the
 * file cannot be created, EXIT.IO when a write fails midway.
 */
import { once } from 'node:events';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { EXIT, PteplayError } from '../errors.js';
import { ioReason } from './source.js';

export interface Sink {
  /** Write; resolves when the stream can take more (awaits 'drain'). */
  write(data: string | Uint8Array): Promise<void>;
  /** Flush and close; returns the bytes that reached the file (compressed size for gzip). */
  end(): Promise<number>;
  /** Give up: close and remove the temporary file. */
  abort(): Promise<void>;
}

export async function openSink(path: string): Promise<Sink> {
  if (path === '-') return streamSink(process.stdout, path);
  let target = path;
  let temp: string | null = null;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new PteplayError(`cannot create ${path}: is a directory`, EXIT.CANT_CREATE);
    // A FIFO, a device or /dev/null: write in place; renaming over it would be wrong.
    if (!st.isFile()) target = path;
    else temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  } catch (e) {
    if (e instanceof PteplayError) throw e;
    temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  }
  let fh: FileHandle;
  try {
    fh = await open(temp ?? target, 'w');
  } catch (e) {
    throw new PteplayError(`cannot create ${path}: ${ioReason(e)}`, EXIT.CANT_CREATE);
  }
  const file = fh.createWriteStream({ highWaterMark: 1024 * 1024 });
  const gzip = path.endsWith('.gz') ? createGzip({ level: 6 }) : null;
  if (gzip) gzip.pipe(file);
  gzip?.on('error', (e) => file.destroy(e));
  const fileDone = finished(file);
  fileDone.catch(() => undefined);
  const inner = streamSink(gzip ?? file, path);
  return {
    write: inner.write,
    async end() {
      await inner.end();
      try {
        await fileDone;
      } catch (e) {
        await removeTemp(temp);
        throw new PteplayError(`error writing ${path}: ${ioReason(e)}`, EXIT.IO);
      }
      if (temp) {
        try {
          await rename(temp, path);
        } catch (e) {
          await removeTemp(temp);
          throw new PteplayError(`cannot create ${path}: ${ioReason(e)}`, EXIT.CANT_CREATE);
        }
      }
      return file.bytesWritten;
    },
    async abort() {
      gzip?.destroy();
      file.destroy();
      await fileDone.catch(() => undefined);
      await removeTemp(temp);
    },
  };
}

async function removeTemp(temp: string | null): Promise<void> {
  if (temp) await unlink(temp).catch(() => undefined);
}

/** Backpressured writes to one stream; the first error is kept and rethrown as EXIT.IO. */
function streamSink(stream: Writable, path: string): Sink {
  let failure: unknown = null;
  let bytes = 0;
  const onError = (e: unknown): void => {
    failure ??= e;
  };
  stream.on('error', onError);
  const check = (): void => {
    if (failure === null) return;
    const e = failure as NodeJS.ErrnoException;
    if (e.code === 'EPIPE') throw e; // the reader went away: the CLI exits quietly
    throw new PteplayError(`error writing ${path === '-' ? 'stdout' : path}: ${ioReason(e)}`, EXIT.IO);
  };
  return {
    async write(data) {
      check();
      bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      if (!stream.write(data)) await drained(stream).catch(onError);
      check();
    },
    async end() {
      check();
      if (stream === process.stdout) {
        stream.off('error', onError);
        return bytes;
      }
      stream.end();
      await finished(stream).catch(onError);
      stream.off('error', onError);
      check();
      return bytes;
    },
    async abort() {
      stream.off('error', onError);
    },
  };
}

/** Wait for 'drain' (or 'close', or reject on 'error') without leaving listeners behind. */
async function drained(stream: Writable): Promise<void> {
  const ac = new AbortController();
  try {
    await Promise.race([once(stream, 'drain', { signal: ac.signal }), once(stream, 'close', { signal: ac.signal })]);
  } finally {
    ac.abort();
  }
}
