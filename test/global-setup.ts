import { execFileSync } from 'node:child_process';

/** End-to-end tests run the built CLI (dist/): build it once, as `npm run build` does, before any test file runs. */
export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}
