/**
 * Numeric row objects packed into one Float64Array, field after field, to cross to the store's worker
 * as one transferable buffer: structured-cloning hundreds of thousands of small objects (uffd messages,
 * collect page runs) cost the main thread more than packing them, and the worker more than unpacking.
 */
import type { CollectPageRun, UffdMsgRow } from '../lanes/results.js';

export const UFFD_MSG_FIELDS = ['lane', 'pos', 'pid', 'ctx', 'event', 'flags', 'vpn', 'vpn2', 'tid', 'time'] as const satisfies
  readonly (keyof UffdMsgRow)[];
export const COLLECT_PAGE_FIELDS = ['vpn', 'count', 'reported', 'gtW', 'gtC', 'why'] as const satisfies readonly (keyof CollectPageRun)[];

/** `rows`' `fields`, row after row (numbers are exact in a double, NaN included). */
export function packRows<K extends string>(rows: readonly Readonly<Record<K, number>>[], fields: readonly K[]): Float64Array<ArrayBuffer> {
  const out = new Float64Array(rows.length * fields.length);
  let k = 0;
  for (const r of rows) for (const f of fields) out[k++] = r[f];
  return out;
}

/** The rows packRows packed. */
export function unpackRows<T>(data: Float64Array, fields: readonly (keyof T & string)[]): T[] {
  const rows: T[] = [];
  for (let k = 0; k < data.length;) {
    const r = {} as Record<string, number>;
    for (const f of fields) r[f] = data[k++]!;
    rows.push(r as T);
  }
  return rows;
}
