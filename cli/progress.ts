/**
 * The progress line of long commands (import, replay) on a terminal's stderr: bytes of the input read
 * and its size, percentage, count, rates and ETA, redrawn in place at most 5 times a second (from
 * 200 ms after the first update, so that rates are measured), and erased when done so that the
 * summary line takes its place. PTEPLAY_PROGRESS_MS sets that 200 ms (0: draw on every update, as the
 * tests do so that a short replay still shows the line on a fast machine).
 */

const redrawMs = (() => {
  const v = Number(process.env.PTEPLAY_PROGRESS_MS ?? '200');
  return Number.isFinite(v) && v >= 0 ? v : 200;
})();

export interface Progress {
  /** Input bytes read so far, and the input's size (0 when unknown: no percentage or ETA). */
  bytes: number;
  totalBytes: number;
  /** Items done so far (records, accesses). */
  count: number;
}

export interface ProgressPrinter {
  update(p: Progress): void;
  /** Erase the line (before printing anything else on stderr). */
  done(): void;
}

/**
 * `label`: "import perf", "replay"; `unit`/`rateUnit`: "records"/"rec", "accesses"/"acc" ('' leaves the
 * count out); `amount` formats `bytes` and its rate (MiB by default; export counts rows there).
 */
export function progressPrinter(label: string, unit: string, rateUnit: string, amount: (n: number) => string = mib): ProgressPrinter {
  /** The first update: rates are measured from it (the input read before it was no work of this phase's loop). */
  let first: { t: number; bytes: number; count: number } | null = null;
  let last = 0;
  let shown = false;
  return {
    update(p) {
      const now = Date.now();
      if (first === null) first = { t: now, bytes: p.bytes, count: p.count };
      if (now - first.t < redrawMs || (last > 0 && now - last < redrawMs)) return;
      last = now;
      const secs = Math.max(now - first.t, 1) / 1000;
      const rate = (p.bytes - first.bytes) / secs;
      const pct = p.totalBytes > 0 ? ` ${Math.min(100, (100 * p.bytes) / p.totalBytes).toFixed(1)}%` : '';
      const eta = p.totalBytes > 0 && rate > 0 ? ` ETA ${fmtSecs(Math.max(0, (p.totalBytes - p.bytes) / rate))}` : '';
      const count = unit ? `${p.count} ${unit}, ` : '';
      const countRate = unit ? `, ${Math.round((p.count - first.count) / secs)} ${rateUnit}/s` : '';
      process.stderr.write(
        `\r\x1b[K${label}: ${amount(p.bytes)}${p.totalBytes > 0 ? ` / ${amount(p.totalBytes)}` : ''}${pct}, ` +
          `${count}${amount(rate)}/s${countRate}${eta}`,
      );
      shown = true;
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

/** A printer whose label, count and clock restart when the phase changes (replay: scanning, then replaying). */
export function phasedProgress(make: (phase: string) => ProgressPrinter): { update(phase: string, p: Progress): void; done(): void } {
  let phase = '';
  let printer: ProgressPrinter | null = null;
  return {
    update(ph, p) {
      if (ph !== phase) {
        printer?.done();
        phase = ph;
        printer = make(ph);
      }
      printer!.update(p);
    },
    done() {
      printer?.done();
    },
  };
}

function fmtSecs(s: number): string {
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}
