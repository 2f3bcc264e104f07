/**
 * The traces of a sweep: what each plan entry resolves to (files of a glob, or a generated trace),
 * its identity (the sha256 of the file's bytes, or the `pteplay gen` command line that makes it), its
 * estimated cost, and the file a cell replays: DIR/traces/<key>/<name>.<ext>, made once per sweep
 * directory and shared by every cell and shard (generated, or imported from perf script / lackey text),
 * written under a temporary name and renamed, so shards that race make the same file and a killed one
 * leaves only its temporary file (cleaned by the next shard on its host). A pteplay trace (JSON Lines,
 * msgpack) is replayed where it is, and its name is the export's trace partition of that path.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EXIT, ioReason, PteplayError } from '../errors.js';
import { traceName } from '../export/partition.js';
import { GENERATORS } from '../trace/generators/index.js';
import { resolveGen } from '../trace/generators/resolve.js';
import { importLackey } from '../trace/importers/lackey.js';
import { importPerf } from '../trace/importers/perf.js';
import { sniffInput } from '../trace/importers/sniff.js';
import type { TraceHeader } from '../trace/types.js';
import { writeTrace } from '../trace/writer.js';
import { globFiles, hasGlob } from './glob.js';
import { HOST, listDir, writeFileAtomic } from './layout.js';
import type { SweepPlan, TraceEntry } from './plan.js';

/** How a trace becomes the file a replay reads. */
export type TraceKind = 'pteplay' | 'perf' | 'lackey' | 'gen';

export interface SweepTrace {
  /** Identity: "sha256:<hex>" of a file's bytes, or "gen:<command line>". */
  key: string;
  /** Short name: the trace partition of the Parquet files and the `trace` of a cell. */
  name: string;
  kind: TraceKind;
  /** The input file (absolute), or the gen command line. */
  source: string;
  /** Estimated records to replay: what shards balance on (shard.ts). */
  cost: number;
  /** For gen traces: the entry, to generate from. */
  entry?: Extract<TraceEntry, { kind: 'gen' }>;
  gzip: boolean;
}

/**
 * Bytes per record of a trace file, measured on traces/real and generated traces: msgpack 30 (zipf),
 * JSON Lines 66, perf script text 150, lackey 20; gzip-compressed perf 8 and lackey 0.8 (its lines
 * repeat), msgpack and JSON Lines about 8. Only the ratios between traces matter (balance).
 */
const BYTES_PER_RECORD: Record<Exclude<TraceKind, 'gen'>, [plain: number, gzip: number]> = {
  pteplay: [30, 8],
  perf: [150, 8],
  lackey: [20, 0.8],
};

/** Resolve every trace entry of a plan (globs expanded, files hashed: cached in `cacheDir` by path, size and mtime). */
export async function resolveTraces(plan: SweepPlan, cacheDir: string): Promise<SweepTrace[]> {
  const planDir = dirname(plan.file);
  const out: SweepTrace[] = [];
  for (const e of plan.traces) {
    if (e.kind === 'gen') {
      const { options } = resolveGen(e.gen, e.params);
      out.push({
        key: `gen:${e.source}`,
        name: `${e.gen}-${sha256Text(e.source).slice(0, 8)}`,
        kind: 'gen',
        source: e.source,
        cost: options.accesses + options.pages,
        entry: e,
        gzip: false,
      });
      continue;
    }
    const files = globFiles(e.pattern, planDir);
    if (hasGlob(e.pattern) && files.length === 0) {
      throw new PteplayError(`${plan.file}: ${e.at}: ${JSON.stringify(e.pattern)} matches no file (relative to ${planDir})`, EXIT.NO_INPUT);
    }
    for (const file of files) out.push(await fileTrace(file, `${plan.file}: ${e.at}`, cacheDir));
  }
  // One trace given twice (by two globs) is one trace; two traces with one name get their key's start.
  const unique = [...new Map(out.map((t) => [t.key, t])).values()];
  const byName = new Map<string, number>();
  for (const t of unique) byName.set(t.name, (byName.get(t.name) ?? 0) + 1);
  // (A pteplay trace's name is its export partition, from its own path: cells tell such traces apart.)
  for (const t of unique) if (byName.get(t.name)! > 1 && t.kind !== 'pteplay') t.name = `${t.name}-${t.key.replace(/^\w+:/, '').slice(0, 8)}`;
  return unique;
}

async function fileTrace(file: string, where: string, cacheDir: string): Promise<SweepTrace> {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    size = st.size;
  } catch (e) {
    throw new PteplayError(`${where}: cannot read trace ${file}: ${ioReason(e)}`, EXIT.NO_INPUT);
  }
  const sniffed = await sniffInput(file);
  const kind: TraceKind | null =
    sniffed.kind === 'pteplay-binary' || sniffed.kind === 'pteplay-jsonl'
      ? 'pteplay'
      : sniffed.kind === 'perf' || sniffed.kind === 'lackey'
        ? sniffed.kind
        : null;
  if (kind === null) {
    throw new PteplayError(`${where}: ${file} is not a trace pteplay reads or imports: ${sniffed.looksLike}`, EXIT.DATA);
  }
  const gzip = isGzip(file);
  const name =
    kind === 'pteplay'
      ? traceName(file)
      : basename(file)
          .replace(/\..*$/, '')
          .replace(/[^\w-]/g, '_') || 'trace';
  const sum = await cachedSha256(file, cacheDir);
  return { key: `sha256:${sum}`, name, kind, source: file, cost: Math.ceil(size / BYTES_PER_RECORD[kind][gzip ? 1 : 0]), gzip };
}

function isGzip(file: string): boolean {
  const b = Buffer.alloc(2);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, b, 0, 2, 0);
  } finally {
    closeSync(fd);
  }
  return b[0] === 0x1f && b[1] === 0x8b;
}

/** The sha256 of a file, remembered in `cacheDir` by (path, size, mtime), so that each shard does not read every trace. */
async function cachedSha256(file: string, cacheDir: string): Promise<string> {
  const st = statSync(file);
  const entry = join(cacheDir, `${sha256Text(file)}.json`);
  try {
    const c = JSON.parse(readFileSync(entry, 'utf8')) as { size: number; mtime_ms: number; sha256: string };
    if (c.size === st.size && c.mtime_ms === st.mtimeMs && /^[0-9a-f]{64}$/.test(c.sha256)) return c.sha256;
  } catch {
    // not cached yet (or unreadable): hash it
  }
  const h = createHash('sha256');
  try {
    for await (const b of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(b as Buffer);
  } catch (e) {
    throw new PteplayError(`cannot read trace ${file}: ${ioReason(e)}`, EXIT.NO_INPUT);
  }
  const sum = h.digest('hex');
  mkdirSync(cacheDir, { recursive: true });
  writeFileAtomic(entry, `${JSON.stringify({ path: file, size: st.size, mtime_ms: st.mtimeMs, sha256: sum })}\n`);
  return sum;
}

export const sha256Text = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The file a cell replays: a pteplay trace itself, else one under the sweep's traces directory. */
export function tracePath(tracesDir: string, t: SweepTrace): string {
  if (t.kind === 'pteplay') return t.source;
  // msgpack named .trace: the export's trace partition is the name without it.
  return join(tracesDir, sha256Text(t.key).slice(0, 16), `${t.name}.trace`);
}

/** Make the trace's replayable file if no shard has made it yet; returns its path. */
export async function materializeTrace(tracesDir: string, t: SweepTrace): Promise<string> {
  const path = tracePath(tracesDir, t);
  if (t.kind === 'pteplay' || existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  const partial = join(dirname(path), `.${basename(path)}.${HOST}-${process.pid}.partial`);
  if (t.kind === 'gen') {
    const { options, source } = resolveGen(t.entry!.gen, t.entry!.params);
    const header: TraceHeader = { pteplay: 'trace', version: 1, source };
    await writeTrace(partial, header, GENERATORS[t.entry!.gen](options), 'msgpack');
  } else {
    const imported = await (t.kind === 'perf' ? importPerf : importLackey)(t.source, {});
    await writeTrace(partial, imported.header, imported.chunks, 'msgpack');
  }
  renameSync(partial, path);
  return path;
}

/** Remove the partial trace files a dead process of this host left (another host's are left alone). */
export function cleanStaleTraces(tracesDir: string, isAlive: (pid: number) => boolean): void {
  for (const d of listDir(tracesDir)) {
    for (const f of listDir(join(tracesDir, d))) {
      // Our partial names, and the sink's own temporary name inside them (.<partial>.<pid>.tmp).
      const m = /\.([^.]+)-(\d+)\.partial(?:\.(\d+)\.tmp)?$/.exec(f);
      if (m && m[1] === HOST && !isAlive(Number(m[3] ?? m[2]))) {
        try {
          unlinkSync(join(tracesDir, d, f));
        } catch {
          // gone already
        }
      }
    }
  }
}
