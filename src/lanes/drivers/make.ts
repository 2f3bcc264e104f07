import { PageRanges } from '../ranges.js';
import type { LaneConfig } from '../config.js';
import type { TrackerDriver } from './driver.js';
import { SoftDirtyDriver } from './soft-dirty.js';
import { UffdAsyncDriver } from './uffd-async.js';
import { UffdSyncDriver } from './uffd-sync.js';

/** A lane without a tracker: reports nothing (ground truth and costs only). */
class NoDriver implements TrackerDriver {
  reset(): void {}
  collect() {
    return { pages: new PageRanges(), method: 'none', errors: [] };
  }
}

export function makeDriver(c: LaneConfig): TrackerDriver {
  switch (c.tracker) {
    case 'soft-dirty':
      return new SoftDirtyDriver();
    case 'uffd-sync':
      return new UffdSyncDriver(c.unpopulated, c.extraFeatures);
    case 'uffd-async':
      return new UffdAsyncDriver(c.read, c.extraFeatures);
    default:
      return new NoDriver();
  }
}
