/**
 * Where a worker's script is. Workers run compiled JavaScript: next to the module when pteplay runs
 * from dist/, and from dist/ when the module itself was loaded from the TypeScript sources (vitest
 * imports src/*.ts; its global setup builds dist/ first).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function workerScript(moduleUrl: string, name: string): URL {
  const here = new URL(`./${name}.js`, moduleUrl);
  if (existsSync(fileURLToPath(here))) return here;
  const path = fileURLToPath(new URL(`./${name}.ts`, moduleUrl));
  const compiled = path.replace(/([/\\])src([/\\])(?!.*[/\\]src[/\\])/, '$1dist$1src$2').replace(/\.ts$/, '.js');
  if (!existsSync(compiled)) throw new Error(`internal: worker script ${compiled} is missing (run npm run build)`);
  return pathToFileURL(compiled);
}
