/**
 * Mappings an importer has to invent: where an access lands outside every mapping the input showed
 * (one that existed before tracing began, or that the recording tool cannot see), a private anonymous
 * mapping is synthesised right before it. The lackey and perf importers share the rule of where.
 */

/** A synthesised mapping widens over a hole of at most this many pages to reach another synthesised one. */
export const SYNTH_GAP_PAGES = 16;

/** A mapped range next to a hole, and whether it was synthesised. */
export interface Neighbour {
  start: number;
  end: number;
  synth: boolean;
}

/** An importer's picture of one address space, as far as synthesis needs it (page numbers). */
export interface SynthSpace {
  /** The unmapped parts of [start, end), in order. */
  gaps(start: number, end: number): Array<[number, number]>;
  /** The mapped range just below the unmapped page p (ending at or below p), or null. */
  below(p: number): Neighbour | null;
  /** The mapped range just above the unmapped page p, or null. */
  above(p: number): Neighbour | null;
}

/**
 * The ranges to synthesise so that every page of [start, end) is mapped: each unmapped part, widened
 * down and up over a hole of at most SYNTH_GAP_PAGES pages to a synthesised neighbour, so that the
 * pages a program touches in one region become one VMA in the replay (adjacent anonymous mappings
 * merge), not one mapping per page.
 */
export function synthRanges(space: SynthSpace, start: number, end: number): Array<[number, number]> {
  return space.gaps(start, end).map(([a, b]): [number, number] => {
    const below = space.below(a);
    const above = space.above(b - 1);
    return [below?.synth && a - below.end <= SYNTH_GAP_PAGES ? below.end : a, above?.synth && above.start - b <= SYNTH_GAP_PAGES ? above.start : b];
  });
}
