import { TraceFormatError } from '../../errors.js';
import { lineBatches } from '../lines.js';
import type { ByteSource } from '../source.js';
import type { TraceChunk } from '../types.js';
import { sniffInput, type Sniffed } from './sniff.js';
import type { ImportOptions, ImportSummary } from './types.js';
import { explainStrictError, importVerdict } from './verdict.js';

/** A line-oriented importer: it is fed lines and hands out finished chunks. */
export interface LineImporter {
  line(text: string, lineNo: number): void;
  /** End of input: flush what is pending. */
  finish(): void;
  /** Chunks ready to hand out (all of them when `final`). */
  drain(final: boolean): Iterable<TraceChunk>;
  /** Records produced so far (for progress). */
  records(): number;
  /** What was produced (complete after finish()). */
  summary(): ImportSummary;
}

/**
 * Stream `src` line by line through `imp`, with bounded memory (one line batch at a time), yielding
 * the chunks it produces and reporting progress (decompressed bytes read; the total is unknown for
 * gzip input). Closes the source at the end or when the consumer stops.
 *
 * The last chunk is followed by the import's verdict (verdict.ts): an input with nothing importable,
 * mostly malformed lines or a --pid it does not have ends the iteration with a one-line error instead,
 * so that a writer consuming the chunks removes its partial output. A strict import's error says what
 * the file looks like when it is not the importer's format.
 */
export async function* importLines(src: ByteSource, path: string, opts: ImportOptions, imp: LineImporter): AsyncGenerator<TraceChunk> {
  let bytes = 0;
  const progress = () => opts.onProgress?.({ bytes, totalBytes: src.gzip ? 0 : src.fileBytes, records: imp.records() });
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const b of src.bytes) {
      bytes += b.length;
      yield b;
    }
  }
  let sniffed: Promise<Sniffed> | null = null;
  const sniff = () => (sniffed ??= sniffInput(path));
  try {
    try {
      for await (const batch of lineBatches(counted(), path)) {
        const lines = batch.lines;
        for (let k = 0; k < lines.length; k++) imp.line(lines[k]!, batch.firstLine + k);
        yield* imp.drain(false);
        progress();
      }
    } catch (e) {
      if (e instanceof TraceFormatError) throw await explainStrictError(e, imp.summary().importer, sniff);
      throw e;
    }
    imp.finish();
    const error = await importVerdict(imp.summary(), opts, sniff);
    if (error !== null) throw error;
    yield* imp.drain(true);
    progress();
  } finally {
    src.close();
  }
}
