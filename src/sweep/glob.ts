/**
 * The trace globs of a sweep plan: `*` and `?` within one path segment, `**` for any number of
 * directories. Node 20 has no fs.glob; this walks only the directories the pattern can reach.
 * Results are the matching regular files (symlinks followed), sorted; hidden names match only a
 * pattern segment that starts with a dot.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

export const hasGlob = (pattern: string): boolean => /[*?]/.test(pattern);

/** Files matching `pattern`, relative to `base` unless absolute. */
export function globFiles(pattern: string, base: string): string[] {
  const abs = isAbsolute(pattern) ? pattern : resolve(base, pattern);
  const parts = abs.split(sep);
  const firstGlob = parts.findIndex(hasGlob);
  if (firstGlob < 0) return [abs];
  const root = parts.slice(0, firstGlob).join(sep) || sep;
  const out = new Set<string>();
  walk(root, parts.slice(firstGlob), out);
  return [...out].sort();
}

function walk(dir: string, rest: string[], out: Set<string>): void {
  const [seg, ...tail] = rest;
  if (seg === undefined) return;
  if (seg === '**') {
    walk(dir, tail, out); // zero directories
    for (const name of entries(dir)) if (!name.startsWith('.') && isDir(join(dir, name))) walk(join(dir, name), rest, out);
    return;
  }
  const re = segmentRegExp(seg);
  for (const name of hasGlob(seg) ? entries(dir) : [seg]) {
    if (!re.test(name)) continue;
    const p = join(dir, name);
    if (tail.length === 0) {
      if (isFile(p)) out.add(p);
    } else if (isDir(p)) walk(p, tail, out);
  }
}

function segmentRegExp(seg: string): RegExp {
  const body = seg
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${seg.startsWith('.') ? '' : '(?!\\.)'}${body}$`);
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
