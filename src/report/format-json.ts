/** The report as JSON (one document; null where a ratio or rate is undefined). Pure. */
import type { ReportData } from './types.js';

export function formatJson(data: ReportData): string {
  return JSON.stringify(data, null, 2) + '\n';
}
