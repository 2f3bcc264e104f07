#!/usr/bin/env node
// npm run verify:vm: (re)record the hand-written differential cases and the seeded fuzz sequences on
// Debian's 6.1 and 6.12 kernels in qemu into test/fixtures/kernel-<release>/, then compare the
// simulator with them (the same check as test/96-kernel-fixtures.test.ts).
//   node tools/vm/record.mjs [--series 6.12] [--fuzz N] [--only cases|fuzz] [--dry]
// --dry compares without writing. Needs qemu-system-x86_64, busybox-static, gcc (static glibc) and
// the kernel packages (downloaded with apt-get on first use into PTEPLAY_KERNEL_CACHE or
// ~/.cache/pteplay/kernels).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { CASES, REGRESSIONS, SOFT_DIRTY_CASES, SOFT_DIRTY_THP_CASES, THP_CASES } from '../../dist/src/verify/cases.js';
import { fuzzSequence } from '../../dist/src/verify/fuzz.js';
import { compareFixture, recordBatch } from '../../dist/src/verify/fixtures.js';
import { PROFILES } from '../../dist/src/kernel/profile.js';
import { VM_SERIES } from '../../dist/src/verify/vm.js';

const { values } = parseArgs({
  options: {
    series: { type: 'string', multiple: true },
    fuzz: { type: 'string', default: '150' },
    only: { type: 'string' },
    dry: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    ops: { type: 'string', default: '30' },
  },
});
const root = new URL('../..', import.meta.url).pathname;
const named = (rec) => Object.entries(rec).map(([name, cmds]) => ({ name, cmds }));
const cases = [...named(CASES), ...named(REGRESSIONS), ...named(THP_CASES), ...named(SOFT_DIRTY_CASES), ...named(SOFT_DIRTY_THP_CASES)];
const nFuzz = Number(values.fuzz);
const seed0 = Number(values.seed);

let divergent = 0;
for (const series of values.series ?? VM_SERIES) {
  const guard = PROFILES[series].guardMarkers;
  const fuzz = Array.from({ length: nFuzz }, (_, i) => ({
    name: `seed ${seed0 + i}`,
    cmds: fuzzSequence(seed0 + i, Number(values.ops), (seed0 + i) % 3 !== 0, guard),
  }));
  for (const [batch, seqs] of [
    ['cases', cases],
    ['fuzz', fuzz],
  ]) {
    if (values.only && values.only !== batch) continue;
    const f = await recordBatch(series, seqs);
    const res = compareFixture(f);
    const bad = res.filter((r) => r.count > 0);
    divergent += bad.length;
    console.log(
      `${f.release} (${f.package.name} ${f.package.version}) ${batch}: ${seqs.length} sequences in ${f.seconds.toFixed(1)} s, ` +
        `${bad.length} divergent under profile ${f.profile} ${f.kernelOpts.join(' ')}`,
    );
    for (const b of bad) console.log(`--- ${b.name}\n${b.report}`);
    if (!values.dry) {
      const dir = join(root, 'test', 'fixtures', `kernel-${f.release}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${batch}.json.gz`), gzipSync(JSON.stringify(f, null, 1) + '\n', { level: 9 }));
    }
  }
}
process.exitCode = divergent ? 1 : 0;
