/** keyframe_leaf.ptes encoding (src/store/pte-runs.ts): run-length pairs, and the raw words of schema version 1. */
import { describe, expect, it } from 'vitest';
import { decodePtes, encodePteRuns } from '../src/store/pte-runs.js';
import { SCHEMA_VERSION } from '../src/store/schema.js';

function roundTrip(ptes: Uint16Array): { bytes: number; back: Uint16Array } {
  const blob = encodePteRuns(ptes);
  // Unaligned, as SQLite may hand a blob back.
  const unaligned = new Uint8Array(blob.byteLength + 1).subarray(1);
  unaligned.set(blob);
  const back = new Uint16Array(512);
  decodePtes(unaligned, SCHEMA_VERSION, back);
  return { bytes: blob.byteLength, back };
}

describe('PTE table runs (keyframe_leaf.ptes)', () => {
  it('round-trips tables of one state, few states, and 512 different states', () => {
    let x = 12345;
    const tables = [
      new Uint16Array(512).fill(0x236),
      Uint16Array.from({ length: 512 }, (_, i) => (i < 100 ? 0 : i < 300 ? 0x23e : 0x236)),
      Uint16Array.from({ length: 512 }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 3),
      Uint16Array.from({ length: 512 }, (_, i) => 0xffff - i),
    ];
    const sizes = tables.map((t) => {
      const { bytes, back } = roundTrip(t);
      expect(Array.from(back)).toEqual(Array.from(t));
      return bytes;
    });
    expect(sizes[0]).toBe(4);
    expect(sizes[1]).toBe(12);
    expect(sizes[3]).toBe(2048);
  });

  it('keeps earlier blobs intact while later tables are encoded', () => {
    const a = encodePteRuns(new Uint16Array(512).fill(1));
    encodePteRuns(new Uint16Array(512).fill(2));
    expect(Array.from(new Uint16Array(Uint8Array.from(a).buffer))).toEqual([512, 1]);
  });

  it('reads the raw words of schema version 1', () => {
    const t = Uint16Array.from({ length: 512 }, (_, i) => i * 3);
    const out = new Uint16Array(512);
    decodePtes(new Uint8Array(t.buffer), 1, out);
    expect(Array.from(out)).toEqual(Array.from(t));
    expect(() => decodePtes(new Uint8Array(1000), 1, out)).toThrow(/1000 bytes is not 512 words/);
  });

  it('rejects runs that do not cover exactly 512 words', () => {
    const out = new Uint16Array(512);
    const blob = (...w: number[]) => new Uint8Array(Uint16Array.from(w).buffer);
    expect(() => decodePtes(blob(511, 7), SCHEMA_VERSION, out)).toThrow(/do not cover 512/);
    expect(() => decodePtes(blob(512, 7, 1, 7), SCHEMA_VERSION, out)).toThrow(/do not cover 512/);
    expect(() => decodePtes(blob(0, 7, 512, 7), SCHEMA_VERSION, out)).toThrow(/do not cover 512/);
    expect(() => decodePtes(blob(512), SCHEMA_VERSION, out)).toThrow(/2 bytes is not a list/);
  });
});
