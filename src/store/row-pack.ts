/**
 * Numeric row objects packed into one Float64Array, field after field, to cross to the store's worker
 * as one transferable buffer: structured-cloning hundreds of thousands of small objects (uffd messages)
 * cost the main thread more than packing them, and RunStore.writeUffdMsgs binds them from the array.
 */
import type { UffdMsgRow } from '../lanes/results.js';

export const UFFD_MSG_FIELDS = [
  'lane',
  'pos',
  'pid',
  'ctx',
  'event',
  'flags',
  'vpn',
  'vpn2',
  'pages',
  'tid',
  'time',
] as const satisfies readonly (keyof UffdMsgRow)[];

/** `rows`' `fields`, row after row (numbers are exact in a double, NaN included). */
export function packRows<K extends string>(rows: readonly Readonly<Record<K, number>>[], fields: readonly K[]): Float64Array<ArrayBuffer> {
  const out = new Float64Array(rows.length * fields.length);
  let k = 0;
  for (const r of rows) for (const f of fields) out[k++] = r[f];
  return out;
}
