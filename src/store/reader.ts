/**
 * RunReader: opens a run database read-only (db-file.ts openReadOnly, the opener `pteplay sql` uses too:
 * writes through it fail with SQLITE_READONLY) and checks that it is a pteplay run database this
 * version understands.
 */
import type Database from 'better-sqlite3';
import { EXIT, PteplayError } from '../errors.js';
import { openReadOnly } from './db-file.js';
import { metaFromRows, type RunMeta } from './meta.js';
import { SCHEMA_VERSION } from './schema.js';

export interface LaneRow {
  laneId: number;
  name: string;
  tracker: string;
  config: unknown;
}

export class RunReader {
  private constructor(
    readonly db: Database.Database,
    readonly path: string,
  ) {}

  /**
   * Open `path` read-only. A missing or unreadable file, or a directory, is PteplayError(EXIT.NO_INPUT); a file that is
   * not a pteplay run database (or has a newer schema) is PteplayError(EXIT.DATA).
   */
  static open(path: string): RunReader {
    const notARun = (why: string) => `${path}: not a pteplay run database (${why})`;
    const db = openReadOnly(path, notARun);
    let version: number;
    try {
      const hasMeta = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'").get();
      if (!hasMeta) throw new Error('no meta table');
      const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
      version = Number(row?.value);
    } catch (err) {
      db.close();
      throw new PteplayError(notARun((err as Error).message), EXIT.DATA);
    }
    if (!(version >= 1 && version <= SCHEMA_VERSION)) {
      db.close();
      throw new PteplayError(`${path}: run database schema version ${version} is not supported (this pteplay reads 1..${SCHEMA_VERSION})`, EXIT.DATA);
    }
    return new RunReader(db, path);
  }

  meta(): RunMeta {
    return metaFromRows(this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]);
  }

  lanes(): LaneRow[] {
    const rows = this.db.prepare('SELECT lane_id, name, tracker, config_json FROM lane ORDER BY lane_id').all() as {
      lane_id: number;
      name: string;
      tracker: string;
      config_json: string;
    }[];
    return rows.map((r) => ({ laneId: r.lane_id, name: r.name, tracker: r.tracker, config: parseJson(r.config_json) }));
  }

  close(): void {
    this.db.close();
  }
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
