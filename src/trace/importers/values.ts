/**
 * Range checks for the numbers an importer copies into a trace. A recording tool prints addresses,
 * lengths and ids as text of any size or sign; the trace only holds non-negative integers below 2^53
 * (addresses, lengths, offsets) and ids below 2^31 (the chunk's pid/tid columns are Int32Array). A
 * value outside is a corrupt line: the importer reports it as malformed rather than write a record no
 * reader accepts.
 */

const ID_MAX = 0x7fffffff;

/** An address, length or offset the trace can hold: 0 .. 2^53-1 (not -0: the text had a minus sign). */
export const isTraceUint = (n: number): boolean => Number.isSafeInteger(n) && n >= 0 && !Object.is(n, -0);

/** A process or thread id the trace can hold: 0 .. 2^31-1. */
export const isTraceId = (n: number): boolean => isTraceUint(n) && n <= ID_MAX;

/**
 * The first field of `fields` whose value the trace cannot hold, as `name <value>: expected ...`,
 * or null when all are fine. `ids` names the fields that are process or thread ids.
 */
export function badValue(fields: Record<string, number | undefined>, ids: readonly string[] = []): string | null {
  for (const [name, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const id = ids.includes(name);
    if (id ? isTraceId(v) : isTraceUint(v)) continue;
    return `${name} ${v}: expected ${id ? 'an id from 0 to 2147483647' : 'a non-negative integer below 2^53'}`;
  }
  return null;
}
