/**
 * What an input file looks like, from its first lines: for an importer's error when the file is not
 * what it expects ("it looks like a valgrind lackey log: use `pteplay import lackey`").
 */
import { MAGIC_BYTES } from '../msgpack.js';
import { openByteSource } from '../source.js';
import { quoteLine } from './quote.js';

export type InputKind = 'perf' | 'lackey' | 'pteplay-binary' | 'pteplay-jsonl' | 'perf-data' | 'binary' | 'empty' | 'text';

export interface Sniffed {
  kind: InputKind;
  /** "it looks like ...", with what to do about it. */
  looksLike: string;
}

/** Bytes looked at (decompressed). */
const SNIFF_BYTES = 64 * 1024;
/** Lines classified. */
const SNIFF_LINES = 200;

const LACKEY_LINE = /^(?:I {1,2}| [LSM] {1,2})[0-9a-fA-F]+,\d+\s*$|^(?:==|--|\*\*)\d+(?:==|--|\*\*)|^SYSCALL\[\d+,\d+\]/;
const PERF_LINE =
  /^\s*\S.*?\s\d+(?:\/\d+)?\s+(?:\[\d+\]\s+)?\d+\.\d+:\s|PERF_RECORD_[A-Z0-9]+|\b(?:exceptions|syscalls|sched|task|raw_syscalls):[a-z_0-9]+:/;
const JSONL_LINE = /^\s*\{.*"(?:op|pteplay)"\s*:/;

/** Read the head of `path` (gunzipped) and say what it looks like. Never throws: an unreadable file is 'empty'. */
export async function sniffInput(path: string): Promise<Sniffed> {
  let head: Buffer;
  try {
    const src = await openByteSource(path);
    const parts: Buffer[] = [];
    let got = 0;
    try {
      for await (const b of src.bytes) {
        parts.push(b);
        got += b.length;
        if (got >= SNIFF_BYTES) break;
      }
    } finally {
      src.close();
    }
    head = Buffer.concat(parts).subarray(0, SNIFF_BYTES);
  } catch {
    return { kind: 'empty', looksLike: 'it cannot be read' };
  }
  return classify(head);
}

export function classify(head: Buffer): Sniffed {
  if (head.length === 0) return { kind: 'empty', looksLike: 'it is empty' };
  if (head.subarray(0, MAGIC_BYTES.length).equals(MAGIC_BYTES)) {
    return { kind: 'pteplay-binary', looksLike: 'it is a pteplay binary trace already: replay it with `pteplay replay`' };
  }
  if (head.subarray(0, 8).toString('latin1') === 'PERFILE2') {
    return { kind: 'perf-data', looksLike: 'it is a perf.data file: convert it first with `perf script -i FILE --show-mmap-events > FILE.txt`' };
  }
  let control = 0;
  for (const b of head) if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) control++;
  const text = head.toString('utf8');
  const invalid = (text.match(/\ufffd/g) ?? []).length;
  if ((control + invalid) / head.length > 0.05) {
    return {
      kind: 'binary',
      looksLike: `it looks like binary data, not text (${Math.round((100 * (control + invalid)) / head.length)}% of its first ${head.length} bytes are control bytes or not UTF-8)`,
    };
  }
  const lines = text
    .split('\n')
    .slice(0, SNIFF_LINES)
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
  const [lackey, perf, jsonl] = [count(LACKEY_LINE), count(PERF_LINE), count(JSONL_LINE)];
  const half = lines.length / 2;
  if (lackey > half && lackey >= perf) return { kind: 'lackey', looksLike: 'it looks like a valgrind lackey log: use `pteplay import lackey`' };
  if (perf > half) return { kind: 'perf', looksLike: 'it looks like perf script output: use `pteplay import perf`' };
  if (jsonl > half) return { kind: 'pteplay-jsonl', looksLike: 'it looks like a pteplay JSONL trace already: replay it with `pteplay replay`' };
  if (lines.length === 0) return { kind: 'empty', looksLike: 'it has no text lines' };
  return {
    kind: 'text',
    looksLike: `it is text that looks like neither perf script output nor a lackey log (first line ${quoteLine(lines[0]!, 60)})`,
  };
}
