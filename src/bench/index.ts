export { BENCH_DEFAULTS, BENCH_QUICK, defaultInterval, runBench } from './run.js';
export { formatBench } from './format.js';
export type { BenchOptions, BenchResult, StageResult, StageId, RatioId } from './types.js';
export { STAGE_IDS, RATIO_IDS } from './types.js';
