/**
 * The deploy files (Dockerfile, deploy/kubernetes/*.yaml, deploy/slurm/sweep.sbatch) cannot be run
 * here: no Docker engine, cluster or registry is reachable. So they are checked by construction: the
 * command lines they run against the built CLI's options, the shard count against the Job's
 * completions and the Slurm array, the shard index mapping against src/sweep/shard.ts, and the paths
 * and image against the Dockerfile, whose runtime stage's file set is assembled from this checkout's
 * build and run.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { NODE_FLAGS } from '../src/node-flags.js';
import { checkCommandLine } from './helpers/cli-help.js';
import { ROOT } from './helpers/cli.js';
import { contextIncludes, copies, execForm, finalWorkdir, last, parseDockerfile, type Stage } from './helpers/dockerfile.js';

const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');
const yamlDocs = (rel: string): any[] =>
  parseAllDocuments(read(rel))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${rel}: ${d.errors[0]!.message}`);
      return d.toJS();
    })
    .filter((d) => d !== null);

const dockerfile = parseDockerfile(read('Dockerfile'));
const buildStage = dockerfile.find((s) => s.name === 'build')!;
const runtime = dockerfile[dockerfile.length - 1]!;
const job = yamlDocs('deploy/kubernetes/sweep-job.yaml').find((d) => d.kind === 'Job');
const dataDocs = yamlDocs('deploy/kubernetes/data.yaml');
const sbatch = read('deploy/slurm/sweep.sbatch');
const jobPod = job?.spec?.template?.spec;
const jobContainer = jobPod?.containers?.[0];

const runs = (stage: Stage) => stage.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
/** `npm run build`'s outputs and npm's, which no COPY brings into the build stage. */
const BUILT = ['dist', 'node_modules'];

/** Shell words of a line (quotes removed, `$VAR` left as written), up to a redirection, pipe or comment. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
    const bare = m[3];
    if (bare !== undefined && /^(>|>>|\||&&|;|#|2>)/.test(bare)) break;
    words.push(m[1] ?? m[2] ?? bare!);
  }
  return words;
}

/**
 * Every `pteplay sweep ...` command line written in a text file, commented or not: the words from
 * `sweep` on, where the word before is a way to start pteplay (`pteplay`, `.../pteplay.js`, an
 * apptainer image `*.sif`).
 */
function sweepCommandLines(rel: string): { where: string; argv: string[] }[] {
  const out: { where: string; argv: string[] }[] = [];
  read(rel)
    .split('\n')
    .forEach((line, i) => {
      const words = shellWords(line.replace(/^\s*#+/, ''));
      for (let k = 1; k < words.length; k++) {
        if (words[k] === 'sweep' && /(^|\/)pteplay(\.js)?$|\.sif$/.test(words[k - 1]!)) out.push({ where: `${rel}:${i + 1}`, argv: words.slice(k) });
      }
    });
  return out;
}

/** The N of every `--shard auto/N` in the command lines (and the lines with any other --shard). */
function shardCounts(lines: { where: string; argv: string[] }[]): { where: string; shard: string }[] {
  return lines.flatMap(({ where, argv }) => {
    const i = argv.indexOf('--shard');
    return i < 0 ? [] : [{ where, shard: argv[i + 1] ?? '' }];
  });
}

/** `#SBATCH --array=A-B[%K]`: the first and last task id. */
function slurmArray(): { min: number; max: number } {
  const m = /^#SBATCH\s+--array=(\d+)-(\d+)(?:%\d+)?\s*$/m.exec(sbatch);
  if (!m) throw new Error('deploy/slurm/sweep.sbatch has no #SBATCH --array=A-B line');
  return { min: Number(m[1]), max: Number(m[2]) };
}

describe('Dockerfile', () => {
  it('builds on node:20 in a build stage (npm ci, npm run build, prune) and runs pteplay from a runtime stage without compilers', () => {
    expect(dockerfile.map((s) => s.from)).toEqual(['node:20-bookworm-slim', 'node:20-bookworm-slim']);
    expect(buildStage, 'a stage named build').toBeDefined();
    const build = runs(buildStage).join('\n');
    expect(build).toMatch(/\bnpm ci\b/);
    expect(build).toMatch(/\bnpm run build\b/);
    expect(build).toMatch(/\bnpm prune --omit=dev\b/);
    // The native modules are built where the compilers are, then copied: the runtime stage installs nothing.
    expect(runs(runtime).join('\n')).not.toMatch(/apt-get install|npm (ci|install|rebuild)|\b(gcc|g\+\+|make)\b/);
    expect(copies(runtime).flatMap((c) => c.sources.map((s) => posix.basename(s)))).toContain('node_modules');
    expect(execForm(last(runtime, 'ENTRYPOINT')!)).toEqual(['node', ...NODE_FLAGS, '/opt/pteplay/dist/cli/pteplay.js']);
    expect(last(runtime, 'USER')?.args).toMatch(/^(?!root\b|0\b)\S+$/);
  });

  it('npm ci --ignore-scripts is followed by an npm rebuild of every production dependency that has an install script', () => {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { hasInstallScript?: boolean; dev?: boolean }> };
    const needed = Object.entries(lock.packages)
      .filter(([path, p]) => path.startsWith('node_modules/') && p.hasInstallScript && !p.dev)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(needed).toContain('better-sqlite3');
    const build = runs(buildStage).join('\n');
    expect(build).toMatch(/npm ci --ignore-scripts/);
    const rebuilt = new Set(/npm rebuild ([^&;\n]*)/.exec(build)?.[1]?.trim().split(/\s+/) ?? []);
    for (const name of needed) expect(rebuilt.has(name), `npm rebuild in the Dockerfile must name ${name} (it has an install script)`).toBe(true);
  });

  it('copies from the context only what .dockerignore lets through, and everything npm run build compiles', () => {
    const ignore = read('.dockerignore');
    const fromContext = copies(buildStage).filter((c) => c.from === null);
    const workdir = '/opt/pteplay';
    const copied: string[] = [];
    for (const c of fromContext) {
      for (const src of c.sources) {
        expect(existsSync(join(ROOT, src)), `Dockerfile line ${c.line}: ${src} is not in the repository`).toBe(true);
        expect(contextIncludes(ignore, src), `.dockerignore keeps ${src} out of the build context (Dockerfile line ${c.line})`).toBe(true);
        // The build stage holds each file at the same path under its WORKDIR as in the repository.
        const dest = c.sources.length > 1 || c.dest === workdir ? posix.join(c.dest, posix.basename(src)) : c.dest;
        expect(dest, `Dockerfile line ${c.line}`).toBe(posix.join(workdir, src));
        copied.push(src);
      }
    }
    const tsconfig = JSON.parse(read('tsconfig.json')) as { include: string[] };
    for (const inc of tsconfig.include) expect(copied, `tsconfig.json compiles ${inc}`).toContain(inc.split('/')[0]);
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'schema']) expect(copied).toContain(f);
    // The allowlist really excludes: a run database or node_modules in the checkout stay out.
    expect(contextIncludes(ignore, 'runs/big.db')).toBe(false);
    expect(contextIncludes(ignore, 'node_modules')).toBe(false);
  });

  const tmp = mkdtempSync(join(tmpdir(), 'pteplay-image-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("the runtime stage's files, assembled from this checkout's build, run the entrypoint: version, gen, replay into /data", () => {
    const buildWorkdir = finalWorkdir(buildStage);
    const inBuild = [...copies(buildStage).flatMap((c) => c.sources), ...BUILT];
    for (const c of copies(runtime)) {
      expect(c.from, `Dockerfile line ${c.line}: the runtime stage copies from the build stage only`).toBe('build');
      for (const src of c.sources) {
        const rel = posix.relative(buildWorkdir, src);
        const parts = inBuild.filter((p) => p === rel || p.startsWith(`${rel}/`));
        expect(parts, `Dockerfile line ${c.line}: the build stage has nothing at ${src}`).not.toEqual([]);
        const dest = join(tmp, c.dest);
        for (const p of parts) {
          const to = join(dest, posix.relative(rel, p));
          mkdirSync(join(to, '..'), { recursive: true });
          // node_modules: this checkout's (with dev dependencies: the pruning is npm's job, not checked here).
          if (p === 'node_modules') symlinkSync(join(ROOT, p), to);
          else cpSync(join(ROOT, p), to, { recursive: true });
        }
      }
    }
    const entry = execForm(last(runtime, 'ENTRYPOINT')!)!;
    const script = entry[entry.length - 1]!;
    expect(existsSync(join(tmp, script)), `${script} is in the runtime stage`).toBe(true);
    const data = join(tmp, finalWorkdir(runtime));
    mkdirSync(data, { recursive: true });
    const run = (args: string[]) => {
      const r = spawnSync(process.execPath, [...entry.slice(1, -1), join(tmp, script), ...args], { cwd: data, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    expect(run(['--version']).trim()).toBe((JSON.parse(read('package.json')) as { version: string }).version);
    run(['gen', 'zipf', '--pages', '256', '--accesses', '5000', '-o', 'z.ptrace']);
    const summary = JSON.parse(run(['replay', 'z.ptrace', '--db', 'z.db', '--json']));
    expect(summary).toBeTypeOf('object');
    expect(existsSync(join(data, 'z.db'))).toBe(true);
  });
});

describe('Kubernetes and Slurm manifests', () => {
  it('the Job is an Indexed Job whose --shard auto/N has N = completions, retried per index, 2 CPUs and 1 GiB', () => {
    expect(job?.apiVersion).toBe('batch/v1');
    expect(job.spec.completionMode).toBe('Indexed');
    const n = job.spec.completions;
    expect(Number.isInteger(n) && n > 0).toBe(true);
    expect(job.spec.parallelism).toBeGreaterThan(0);
    expect(job.spec.parallelism).toBeLessThanOrEqual(n);
    expect(job.spec.backoffLimitPerIndex).toBeGreaterThanOrEqual(1);
    expect(jobPod.restartPolicy).toBe('Never');
    expect(jobContainer.command, 'the image entrypoint runs pteplay; the Job passes args only').toBeUndefined();
    expect(shardCounts([{ where: 'Job args', argv: jobContainer.args }])).toEqual([{ where: 'Job args', shard: `auto/${n}` }]);
    expect(jobContainer.resources.requests).toEqual({ cpu: '2', memory: '1Gi' });
    expect(jobContainer.resources.limits.memory).toBe('1Gi');
  });

  it('the Slurm array has as many tasks as the Job has completions, and every --shard in the deploy files is auto/N with that N', () => {
    const n = job.spec.completions;
    const { min, max } = slurmArray();
    expect(max - min + 1).toBe(n);
    const lines = [
      ...sweepCommandLines('deploy/slurm/sweep.sbatch'),
      ...sweepCommandLines('deploy/kubernetes/sweep-job.yaml'),
      { where: 'Job args', argv: jobContainer.args },
    ];
    const shards = shardCounts(lines);
    // The node line, the apptainer line, the header comments of both files and the Job's args.
    expect(shards.length).toBeGreaterThanOrEqual(4);
    for (const s of shards) expect(s.shard, s.where).toBe(`auto/${n}`);
  });

  it('every option the deploy files pass to pteplay exists in the built CLI', () => {
    const lines = [
      { where: 'deploy/kubernetes/sweep-job.yaml (Job args)', argv: jobContainer.args as string[] },
      ...sweepCommandLines('deploy/kubernetes/sweep-job.yaml'),
      ...sweepCommandLines('deploy/kubernetes/data.yaml'),
      ...sweepCommandLines('deploy/slurm/sweep.sbatch'),
    ];
    // sweep itself, and status / report in the comments that say how to read the results.
    const found = new Set(lines.map((l) => l.argv.slice(0, 2).join(' ')));
    for (const c of ['sweep /data/plan.json', 'sweep $PLAN', 'sweep status', 'sweep report']) expect(found, `a \`${c}\` line is found`).toContain(c);
    expect(lines.flatMap((l) => checkCommandLine(l.where, l.argv))).toEqual([]);
  });

  it('the volume, paths, user and image agree with the Dockerfile and between the files', () => {
    const workdir = finalWorkdir(runtime);
    const volumes = runtime.instructions.filter((i) => i.op === 'VOLUME').flatMap((i) => execForm(i) ?? i.args.split(/\s+/));
    expect(volumes).toEqual([workdir]);
    const pvc = dataDocs.find((d) => d.kind === 'PersistentVolumeClaim');
    const toolbox = dataDocs.find((d) => d.kind === 'Pod');
    expect(pvc.spec.accessModes).toEqual(['ReadWriteMany']);
    for (const [what, pod] of [
      ['Job', jobPod],
      ['toolbox', toolbox.spec],
    ] as const) {
      const c = pod.containers[0];
      const mount = c.volumeMounts.find((m: any) => m.mountPath === workdir);
      expect(mount, `${what} mounts the shared volume at the image's ${workdir}`).toBeDefined();
      const vol = pod.volumes.find((v: any) => v.name === mount.name);
      expect(vol.persistentVolumeClaim.claimName, what).toBe(pvc.metadata.name);
      // The image's USER is node (uid 1000 in the node images); fsGroup makes the volume writable for it.
      expect(last(runtime, 'USER')?.args).toBe('node');
      expect(pod.securityContext, what).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
    }
    const args: string[] = jobContainer.args;
    for (const path of [args[1]!, args[args.indexOf('--out') + 1]!]) expect(path.startsWith(`${workdir}/`), path).toBe(true);
    // One image name: the Job, the toolbox, apptainer's pull, the build and push commands.
    const image = jobContainer.image as string;
    expect(image).toMatch(/^[\w.-]+(:\d+)?\/[\w./-]+:[\w.-]+$/);
    expect(toolbox.spec.containers[0].image).toBe(image);
    const named = (rel: string) => [...read(rel).matchAll(/(?:docker:\/\/|docker build -t |docker push )(\S+)/g)].map((m) => m[1]);
    expect(named('deploy/slurm/sweep.sbatch')).toEqual([image]);
    expect(named('deploy/kubernetes/sweep-job.yaml')).toEqual([image, image]);
    expect(new Set(named('Dockerfile'))).toEqual(new Set([image]));
    expect(new Set(named('README.md'))).toEqual(new Set([image]));
  });

  it('the shard index comes from JOB_COMPLETION_INDEX, or SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN (src/sweep/shard.ts)', async () => {
    // Loaded by path: the manifests depend on the sweep's shard selection, which its own change adds.
    const modulePath = join(ROOT, 'src', 'sweep', 'shard.ts');
    expect(existsSync(modulePath), 'src/sweep/shard.ts (shardFromEnv) is missing: the manifests rely on --shard auto/N').toBe(true);
    const { shardFromEnv } = (await import(/* @vite-ignore */ modulePath)) as {
      shardFromEnv: (spec: string, env: NodeJS.ProcessEnv) => { index: number; count: number };
    };
    const n: number = job.spec.completions;
    const spec = `auto/${n}`;
    const indexes = Array.from({ length: n }, (_, i) => shardFromEnv(spec, { JOB_COMPLETION_INDEX: String(i) }));
    expect(indexes).toEqual(Array.from({ length: n }, (_, i) => ({ index: i, count: n })));
    const { min, max } = slurmArray();
    const env = (id: number, lo: number) => ({ SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_MIN: String(lo) });
    for (let id = min; id <= max; id++) expect(shardFromEnv(spec, env(id, min))).toEqual({ index: id - min, count: n });
    // An array numbered from 1 (--array=1-N) covers the same shards.
    for (let id = 1; id <= n; id++) expect(shardFromEnv(spec, env(id, 1))).toEqual({ index: id - 1, count: n });
    // Outside a Job or an array task, auto/N is a usage error, not shard 0.
    let err: unknown;
    try {
      shardFromEnv(spec, {});
    } catch (e) {
      err = e;
    }
    expect((err as { exitCode?: number } | undefined)?.exitCode, 'shardFromEnv(auto/N, {}) throws a usage error (exit 64)').toBe(64);
  });
});
