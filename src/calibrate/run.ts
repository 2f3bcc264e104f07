/**
 * `pteplay calibrate -o FILE`: run the timing helper, map its measurements onto the cost model's
 * items and write the calibration file atomically (a temporary file renamed into place). An existing
 * FILE is replaced only with --force (exit 73 otherwise, checked before the minute of measuring).
 */
import { existsSync, linkSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { EXIT, ioReason, PteplayError } from '../errors.js';
import { CALIBRATION_FORMAT, CALIBRATION_VERSION, type CalibrationFile, validateCalibration } from '../report/cost-table.js';
import { type RawMeasurement, runHelper } from './helper.js';
import { mapMeasurements } from './map.js';

export interface CalibrateOptions {
  out: string;
  force: boolean;
  /** Few samples and sizes up to 2^12 pages (seconds, for tests). */
  quick: boolean;
  onMeasurement?: (m: RawMeasurement) => void;
}

/** Refuse an existing output file unless forced (before measuring anything). */
export function checkOutput(out: string, force: boolean): void {
  if (existsSync(out) && !force) throw new PteplayError(`${out} exists: give --force to replace it`, EXIT.CANT_CREATE);
}

export async function calibrate(o: CalibrateOptions): Promise<CalibrationFile> {
  checkOutput(o.out, o.force);
  const raw = await runHelper(o.quick, o.onMeasurement);
  const file = validateCalibration(
    {
      format: CALIBRATION_FORMAT,
      version: CALIBRATION_VERSION,
      kernel: raw.meta.kernel,
      cpu: raw.meta.cpu,
      cpus: raw.meta.cpus,
      date: new Date().toISOString(),
      host: hostname(),
      pinned_cpu: raw.meta.pinned_cpu,
      quick: raw.meta.quick,
      timer_ns: raw.meta.timer_ns,
      items: mapMeasurements(raw),
    },
    '(calibrate output)',
  );
  writeAtomically(o.out, `${JSON.stringify(file, null, 2)}\n`, o.force);
  return file;
}

function writeAtomically(out: string, text: string, force: boolean): void {
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(tmp, text, { flag: 'wx' });
    // Without --force, link() fails if the file appeared while we measured: never overwrite it.
    if (force) renameSync(tmp, out);
    else {
      linkSync(tmp, out);
      unlinkSync(tmp);
    }
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EEXIST' && existsSync(out)) throw new PteplayError(`${out} exists: give --force to replace it`, EXIT.CANT_CREATE);
    throw new PteplayError(`cannot create ${out}: ${ioReason(e)}`, EXIT.CANT_CREATE);
  }
}
