/**
 * Where a compiled module is, for a worker thread or a child process (both run JavaScript): next to
 * the calling module when pteplay runs from dist/, and under dist/ when the caller itself was loaded
 * from the TypeScript sources (vitest imports src/*.ts; its global setup builds dist/ first).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** `relative`: the module's path from the caller, without extension (e.g. './lane-worker'). */
export function compiledModule(moduleUrl: string, relative: string): URL {
  const here = new URL(`${relative}.js`, moduleUrl);
  if (existsSync(fileURLToPath(here))) return here;
  const path = fileURLToPath(new URL(`${relative}.ts`, moduleUrl));
  const compiled = path.replace(/([/\\])src([/\\])(?!.*[/\\]src[/\\])/, '$1dist$1src$2').replace(/\.ts$/, '.js');
  if (!existsSync(compiled)) throw new Error(`internal: ${compiled} is missing (run npm run build)`);
  return pathToFileURL(compiled);
}
