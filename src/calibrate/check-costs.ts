/**
 * The cost table `calibrate --check` prices the simulated run with: the documented default, or a
 * calibration file (`--costs FILE`).
 */
import { UsageError } from '../errors.js';
import { type CostItem, DEFAULT_COST_MODEL } from '../report/cost-model.js';

export interface CheckCosts {
  items: readonly CostItem[];
  /** Which table, in words (printed with the comparison). */
  source: string;
}

export function checkCosts(path?: string): CheckCosts {
  if (path !== undefined) throw new UsageError('option --costs: calibration files are not supported by this build yet');
  return { items: DEFAULT_COST_MODEL, source: 'the default table (src/report/cost-model.ts)' };
}
