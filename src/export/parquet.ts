/**
 * STUB on branch p18-sweep until p18-export lands (the shared contract's signature): replaced by the
 * real export when that branch is merged.
 */
export interface ExportOptions {
  db: string;
  out: string;
  tables?: readonly string[];
  cell?: string;
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}
export interface ExportSummary {
  tables: { name: string; rows: number; files: string[] }[];
}
export async function exportRunToParquet(_o: ExportOptions): Promise<ExportSummary> {
  return { tables: [] };
}
