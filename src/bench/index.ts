export { BENCH_DEFAULTS, BENCH_QUICK, defaultInterval, MEMORY_DEFAULT_ACCESSES, SEEK_DEFAULT_ROWS } from './defaults.js';
export { runBench } from './run.js';
export { formatBench, formatMemoryBench } from './format.js';
export { runMemoryBench, type RssFlatness } from './rss.js';
export type { BenchOptions, BenchResult, FRows, StageResult, StageId, Target } from './types.js';
export { F_ROWS, STAGE_IDS } from './types.js';
export { SEEK_TARGET_MS, formatSeekBench, runSeekBench, type SeekBenchResult } from './seek.js';
