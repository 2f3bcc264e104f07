/**
 * A small Dockerfile reader for test/80-deploy-manifests: enough of the format to check the stages,
 * their commands and paths without a Docker engine. One instruction per logical line (a line ending in
 * `\` continues on the next; comment lines, also inside a continuation, are dropped), split into
 * stages at each FROM. JSON ("exec") form arguments are parsed as JSON; the rest stay text.
 */
import { posix } from 'node:path';

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, WORKDIR, ... */
  op: string;
  /** The rest of the logical line, continuations joined with a space. */
  args: string;
  /** 1-based line of the keyword. */
  line: number;
}

export interface Stage {
  /** The base image (FROM's first argument). */
  from: string;
  /** `FROM x AS name`, lower-cased; the stage's index when unnamed. */
  name: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending: { parts: string[]; line: number } | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trimEnd();
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && pending === null)) continue;
    const continues = raw.endsWith('\\');
    const body = continues ? raw.slice(0, -1).trim() : trimmed;
    if (pending === null) pending = { parts: [], line: i + 1 };
    if (body !== '') pending.parts.push(body);
    if (continues) continue;
    const joined = pending.parts.join(' ');
    const m = /^(\S+)\s*(.*)$/.exec(joined);
    if (m) instructions.push({ op: m[1]!.toUpperCase(), args: m[2]!, line: pending.line });
    pending = null;
  }
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const [from = '', as, name] = ins.args.split(/\s+/);
      stages.push({ from, name: as?.toUpperCase() === 'AS' && name ? name.toLowerCase() : String(stages.length), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.op !== 'ARG') throw new Error(`Dockerfile line ${ins.line}: ${ins.op} before the first FROM`);
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return stages;
}

/** An instruction's arguments in exec form (`["a", "b"]`), or null when it uses the shell form. */
export function execForm(ins: Instruction): string[] | null {
  if (!ins.args.startsWith('[')) return null;
  const v: unknown = JSON.parse(ins.args);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new Error(`Dockerfile line ${ins.line}: ${ins.op} is not a JSON list of strings`);
  return v;
}

export interface Copy {
  /** `--from=<stage>` (lower-cased), or null for the build context. */
  from: string | null;
  sources: string[];
  /** Absolute destination (a relative one resolved against the WORKDIR in force). */
  dest: string;
  line: number;
}

/** The stage's COPY instructions, destinations made absolute with the WORKDIR in force at each. */
export function copies(stage: Stage): Copy[] {
  const out: Copy[] = [];
  let workdir = '/';
  for (const ins of stage.instructions) {
    if (ins.op === 'WORKDIR') workdir = posix.resolve(workdir, ins.args.trim());
    if (ins.op !== 'COPY') continue;
    const words = execForm(ins) ?? ins.args.split(/\s+/);
    let from: string | null = null;
    const paths: string[] = [];
    for (const w of words) {
      if (w.startsWith('--from=')) from = w.slice('--from='.length).toLowerCase();
      else if (!w.startsWith('--')) paths.push(w);
    }
    if (paths.length < 2) throw new Error(`Dockerfile line ${ins.line}: COPY needs a source and a destination`);
    const dest = paths.pop()!;
    out.push({ from, sources: paths, dest: posix.resolve(workdir, dest), line: ins.line });
  }
  return out;
}

/** The WORKDIR in force at the end of the stage. */
export function finalWorkdir(stage: Stage): string {
  let workdir = '/';
  for (const ins of stage.instructions) if (ins.op === 'WORKDIR') workdir = posix.resolve(workdir, ins.args.trim());
  return workdir;
}

/** The last instruction of a kind in the stage (ENTRYPOINT, USER, ...), or undefined. */
export function last(stage: Stage, op: string): Instruction | undefined {
  return stage.instructions.filter((i) => i.op === op).pop();
}

/**
 * Does a .dockerignore let `path` into the build context? Its patterns in order, the last match
 * deciding (`!` re-includes); `*` matches within one path segment, and a pattern matches a path's
 * parents too, as Docker's matcher does. Only the forms used here: `*`, plain paths, `!` paths.
 */
export function contextIncludes(dockerignore: string, path: string): boolean {
  const segments = path.replace(/^\.\//, '').replace(/\/$/, '').split('/');
  let included = true;
  for (const rawLine of dockerignore.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = (negate ? line.slice(1) : line).replace(/^\//, '').replace(/\/$/, '');
    const pat = pattern.split('/');
    if (pat.length > segments.length) continue;
    const matches = pat.every((p, i) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`).test(segments[i]!));
    if (matches) included = negate;
  }
  return included;
}
