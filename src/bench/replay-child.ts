/**
 * `node replay-child.js TRACE DB [THREADS] [RUNS]`: a stored replay (bench stage E) in a fresh process, so that its
 * peak RSS is measured alone. Prints {"accesses", "seconds", "maxRss"} (bytes: peakRss()) and "opTimes" (each lane's time
 * on op records, ReplaySummary.opTimes) as JSON on stdout. With RUNS > 1 the same replay runs RUNS times in this
 * process (DB replaced each time): the first run's figures as above, every run's seconds and opTimes in "runs" (the
 * later ones with the JIT warm).
 */
import { performance } from 'node:perf_hooks';
import { replay } from '../run/replay.js';
import { peakRss } from './peak-rss.js';
import { removeDb } from './stages.js';

const [trace, db, threads, runs] = process.argv.slice(2);
if (!trace || !db) throw new Error('usage: replay-child TRACE DB [THREADS] [RUNS]');
const all: { seconds: number; opTimes: unknown }[] = [];
let accesses = 0;
for (let i = 0; i < Math.max(1, Number(runs ?? 1)); i++) {
  if (i > 0) removeDb(db);
  const t0 = performance.now();
  const s = await replay({ trace, db, interval: 0, threads: threads && threads !== '0' ? Number(threads) : undefined });
  all.push({ seconds: (performance.now() - t0) / 1000, opTimes: s.opTimes });
  accesses = s.accesses;
}
process.stdout.write(`${JSON.stringify({ accesses, seconds: all[0]!.seconds, maxRss: peakRss(), opTimes: all[0]!.opTimes, runs: all })}\n`);
