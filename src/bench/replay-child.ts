/**
 * `node replay-child.js TRACE DB [THREADS]`: one stored replay (bench stage E) in a fresh process, so that its
 * peak RSS is measured alone. Prints {"accesses", "seconds", "maxRss"} (bytes: peakRss()) and "opTimes" (each lane's time
 * on op records, ReplaySummary.opTimes) as JSON on stdout.
 */
import { performance } from 'node:perf_hooks';
import { replay } from '../run/replay.js';
import { peakRss } from './peak-rss.js';

const [trace, db, threads] = process.argv.slice(2);
if (!trace || !db) throw new Error('usage: replay-child TRACE DB [THREADS]');
const t0 = performance.now();
const s = await replay({ trace, db, interval: 0, threads: threads ? Number(threads) : undefined });
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ accesses: s.accesses, seconds, maxRss: peakRss(), opTimes: s.opTimes })}\n`);
