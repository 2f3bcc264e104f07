/**
 * keyframe_leaf.ptes: a PTE table's 512 state words, run-length encoded as pairs of little-endian
 * uint16 (count, state) whose counts add up to 512 (schema/004-history.sql). A table holds few distinct
 * states (1.4 on average in the bench's keyframes), so most leaves take 4 to 20 bytes instead of 1024:
 * the raw words made every keyframe row spill into an overflow page of its own (a WITHOUT ROWID row keeps
 * at most ~1000 bytes in a 4 KiB page), about a third of the bench's database.
 */
import { PTRS_PER_PTE } from '../mm/uapi.js';

/** Schema version 1 stored the 512 words as they are (1024 bytes). */
export const RAW_PTES_SCHEMA_VERSION = 1;

const scratch = new Uint16Array(2 * PTRS_PER_PTE);

/** The runs of `ptes` (512 words) as a blob. */
export function encodePteRuns(ptes: Uint16Array): Buffer {
  let n = 0;
  let i = 0;
  while (i < PTRS_PER_PTE) {
    const state = ptes[i]!;
    let j = i + 1;
    while (j < PTRS_PER_PTE && ptes[j] === state) j++;
    scratch[n++] = j - i;
    scratch[n++] = state;
    i = j;
  }
  // A copy: the caller may keep the blob until its statement runs, after later leaves are encoded.
  return Buffer.from(new Uint8Array(scratch.buffer, 0, 2 * n));
}

/** Decode a blob written by encodePteRuns (or, for schema version 1, the raw words) into `out` (512 words). */
export function decodePtes(blob: Uint8Array, schemaVersion: number, out: Uint16Array): void {
  const raw = schemaVersion === RAW_PTES_SCHEMA_VERSION;
  if (raw ? blob.byteLength !== 2 * PTRS_PER_PTE : blob.byteLength % 4 !== 0) {
    throw new Error(`keyframe_leaf.ptes: ${blob.byteLength} bytes is not ${raw ? `${PTRS_PER_PTE} words` : 'a list of (count, state) runs'}`);
  }
  // Copy out of the blob first: it may not be 2-byte aligned.
  const words = new Uint16Array(Uint8Array.from(blob).buffer);
  if (raw) return out.set(words);
  const bad = () => new Error(`keyframe_leaf.ptes: runs that do not cover ${PTRS_PER_PTE} words exactly (${blob.byteLength} bytes)`);
  let at = 0;
  for (let k = 0; k < words.length; k += 2) {
    const count = words[k]!;
    if (count === 0 || at + count > PTRS_PER_PTE) throw bad();
    out.fill(words[k + 1]!, at, at + count);
    at += count;
  }
  if (at !== PTRS_PER_PTE) throw bad();
}
