/**
 * Split a byte stream into lines, in batches (one per stream buffer) so that the per-line cost
 * stays a loop iteration, not an await. Handles UTF-8 sequences cut between buffers, CRLF and a
 * leading byte-order mark; a line longer than {@link MAX_LINE_CHARS} is an error, not unbounded memory.
 */
import { StringDecoder } from 'node:string_decoder';
import { TraceFormatError } from '../errors.js';

export const MAX_LINE_CHARS = 16 * 1024 * 1024;

export interface LineBatch {
  /** Line number (1-based) of lines[0]. */
  firstLine: number;
  lines: string[];
}

export async function* lineBatches(source: AsyncIterable<Buffer>, file: string): AsyncGenerator<LineBatch> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let lineNo = 1;
  let first = true;
  const emit = (text: string): LineBatch | null => {
    const parts = text.split('\n');
    rest = parts.pop()!;
    if (rest.length > MAX_LINE_CHARS) {
      throw new TraceFormatError(file, `line ${lineNo + parts.length}`, `line longer than ${MAX_LINE_CHARS} characters (is this a JSONL trace?)`);
    }
    if (parts.length === 0) return null;
    const batch = { firstLine: lineNo, lines: parts };
    lineNo += parts.length;
    return batch;
  };
  for await (const buf of source) {
    let text = rest + decoder.write(buf);
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const batch = emit(text);
    if (batch) yield batch;
  }
  const tail = rest + decoder.end();
  if (tail.length > 0) yield { firstLine: lineNo, lines: [tail] };
}
