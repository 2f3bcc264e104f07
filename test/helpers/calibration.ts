/** A calibration file's header fields for hand-made test calibrations (schema/calibration.schema.json). */
export function calibrationFile(items: Record<string, unknown>): Record<string, unknown> {
  return {
    format: 'pteplay-calibration',
    version: 1,
    kernel: '9.9.9-test',
    cpu: 'Test CPU',
    cpus: 2,
    date: '2026-12-07T00:00:00Z',
    host: 'h',
    pinned_cpu: 1,
    items,
  };
}
