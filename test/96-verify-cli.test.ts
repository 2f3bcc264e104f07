/**
 * `pteplay verify` end to end: real processes on this machine's real kernel (tools/kreplay), real
 * trace files. The kernel-dependent expectations come from asking the kernel directly here (the
 * zero-page probe of test/95), never from what this machine happened to answer when the test was
 * written. Skipped where kreplay cannot run; the exit-69 paths are tested everywhere.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pteplay, ROOT } from './helpers/cli.js';
import { queryRun } from './helpers/run-query.js';
import { ZERO_PAGE_PROBE, kreplayUsable, runKernel } from '../src/verify/kreplay.js';
import { cachedKernel, vmMissing } from '../src/verify/vm.js';

const usable = kreplayUsable();
const tmp = mkdtempSync(join(tmpdir(), 'pteplay-verify-'));
/** Does this kernel map the zero page on a read fault (pagemap: present, not exclusive)? */
const hostZeroPage = usable.ok ? runKernel([ZERO_PAGE_PROBE])[0]![2] === 'ok 1024+1:P' : true;
const wrongZeroPage = `zero_page=${hostZeroPage ? 'off' : 'on'}`;

const json = (stdout: string) => JSON.parse(stdout) as Record<string, any>;

describe('pteplay verify: usage and unavailable backends', () => {
  it('needs exactly one of TRACE, --fuzz, --probe; --seed only with --fuzz; a known --kernel (exit 64)', () => {
    for (const args of [
      [],
      ['--fuzz', '2', 'traces/scenarios/vma-merge.jsonl'],
      ['--seed', '3', 'traces/scenarios/vma-merge.jsonl'],
      ['--fuzz', '2', '--kernel', '5.4'],
      ['--fuzz', '1', '--kernel-opt', 'zero_pages=off'],
    ]) {
      const r = pteplay(['verify', ...args]);
      expect(r.status, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(
        /^pteplay: .*(TRACE, --fuzz N or --probe|--seed and --ops|--kernel: unknown profile "5\.4"|--kernel-opt: bad kernel option "zero_pages=off")/m,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('--vm without qemu, a static busybox or gcc is exit 69 (EX_UNAVAILABLE) naming what to install', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'pteplay.js'), 'verify', '--vm', '6.12', '--fuzz', '2'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: mkdtempSync(join(tmpdir(), 'pteplay-nopath-')) },
    });
    expect(r.status).toBe(69);
    expect(r.stderr).toMatch(
      /^pteplay: cannot run the VM backend: qemu-system-x86_64, a static busybox \(busybox-static\), gcc not found; install them with: .*apt-get install qemu-system-x86 busybox-static/,
    );
  });

  // A real boot of Debian's 6.12 kernel in qemu (~15-30 s): `npm run test:vm` (PTEPLAY_VM_TESTS=1), with the package in the kernel cache.
  it.skipIf(process.env.PTEPLAY_VM_TESTS !== '1' || vmMissing() !== null || cachedKernel('6.12') === null)(
    '--vm 6.12 --fuzz 3: the same comparison in qemu, with soft-dirty compiled in',
    () => {
      const r = pteplay(['verify', '--vm', '6.12', '--fuzz', '3', '--seed', '11', '--json']);
      expect([0, 1], r.stderr).toContain(r.status);
      const s = JSON.parse(r.stdout) as {
        backend: string;
        release: string;
        profile: string;
        kernelOpts: string[];
        sequences: number;
        divergent: number[];
      };
      expect(s.backend).toBe('vm');
      expect(s.release).toMatch(/^6\.12\./);
      expect(s.profile).toBe('6.12');
      expect(s.kernelOpts).not.toContain('soft_dirty=off'); // Debian builds CONFIG_MEM_SOFT_DIRTY=y
      expect(s.sequences).toBe(3);
      expect(r.status).toBe(s.divergent.length > 0 ? 1 : 0);
    },
    180_000,
  );

  // Debian's 6.1 in qemu: userfaultfd works there, WP_ASYNC and PAGEMAP_SCAN do not (6.7+). The fuzz sequences'
  // userfaultfd calls still run on both sides: the kernel refuses the newer features, and so does the 6.1
  // profile (version gates, docs/kernel-rules.md §0.3); before, the backend refused the whole run (exit 69).
  it.skipIf(process.env.PTEPLAY_VM_TESTS !== '1' || vmMissing() !== null || cachedKernel('6.1') === null)(
    '--vm 6.1 --fuzz 20 in qemu: sequences with userfaultfd calls run on a kernel without WP_ASYNC and agree with the 6.1 profile',
    () => {
      const r = pteplay(['verify', '--vm', '6.1', '--fuzz', '20', '--seed', '101', '--json']);
      expect(r.status, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as { backend: string; release: string; profile: string; sequences: number; divergent: number[] };
      expect([s.backend, s.profile, s.sequences, s.divergent]).toEqual(['vm', '6.1', 20, []]);
      expect(s.release).toMatch(/^6\.1\./);
    },
    180_000,
  );

  it('--help documents the exit codes, the probe and examples', () => {
    const r = pteplay(['verify', '--help']);
    expect(r.status).toBe(0);
    for (const s of [
      '--fuzz <n>',
      '--probe',
      '--kernel-opt',
      '--vm <version>',
      '0 no divergence, 1 a divergence',
      '69 no kernel',
      'pteplay verify --fuzz 200 --seed 7',
      'vm.unprivileged_userfaultfd',
    ])
      expect(r.stdout).toContain(s);
  });
});

describe.skipIf(!usable.ok)(`pteplay verify on this machine's kernel (${usable.ok ? 'kreplay usable' : usable.why})`, () => {
  it("--probe names this kernel's zero-page switch, the profile and the replay arguments (table and --json)", () => {
    const r = pteplay(['verify', '--probe']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^release\s+\S+/m);
    expect(r.stdout).toMatch(/^PAGEMAP_SCAN categories accepted\s+0x[0-9a-f]+/m);
    const paste = /^ {2}(--kernel \S+.*)$/m.exec(r.stdout)?.[1] ?? '';
    expect(paste.includes('--kernel-opt zero_page=off')).toBe(!hostZeroPage);
    expect(paste).toMatch(/--swap (on|off)$/);
    const j = json(pteplay(['verify', '--probe', '--json']).stdout);
    expect(j.zeroPage).toBe(hostZeroPage);
    expect(j.replayArgs.join(' ')).toBe(paste);
    expect(j.sysfs.swap).toBe(readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1);
    // The pasted arguments are accepted by replay.
    const db = join(tmp, 'probe.db');
    const rr = pteplay(['replay', 'traces/scenarios/vma-merge.jsonl', '--db', db, '-q', ...j.replayArgs]);
    expect(rr.stderr).toBe('');
    expect(rr.status).toBe(0);
  });

  it('a scenario trace runs with no divergence (exit 0), --json says what ran and with which switches', () => {
    const r = pteplay(['verify', 'traces/scenarios/mremap-move.jsonl']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/mremap-move\.jsonl: \d+ commands: no divergence/);
    const j = json(pteplay(['verify', 'traces/scenarios/uffd-close.jsonl', '--json']).stdout);
    expect(j).toMatchObject({ backend: 'host', mode: 'trace', trace: 'traces/scenarios/uffd-close.jsonl', sequences: 1, divergent: [], first: null });
    expect(j.commands).toBeGreaterThan(20);
    expect(j.kernelOpts.includes('zero_page=off')).toBe(!hostZeroPage);
    expect(Object.keys(j.sysfs).sort()).toEqual(['swap', 'thp', 'thpZeroPage']);
  });

  it("a trace whose header asks for another THP mode than this machine's runs with the machine's, and says so", () => {
    const host = /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))![1]!;
    const other = host === 'always' ? 'never' : 'always';
    const trace = join(tmp, 'thp.jsonl');
    writeFileSync(
      trace,
      `{"pteplay":"trace","version":1,"sysfs":{"thp":"${other}"}}\n` +
        '{"op":"mmap","addr":"0x7f0000000000","len":4194304,"prot":"rw","flags":["private","anonymous","fixed"]}\n{"op":"write","addr":"0x7f0000200000"}\n',
    );
    const r = pteplay(['verify', trace]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(`pteplay: warning: ${trace} asks for THP ${other}; this kernel runs with ${host}, and so does the simulator here\n`);
    expect(r.stdout).toContain(`thp ${host}`);
  });

  it('--fuzz N --seed S: N seeded sequences with no divergence', () => {
    const j = json(pteplay(['verify', '--fuzz', '6', '--seed', '7', '--ops', '25', '--json']).stdout);
    expect(j).toMatchObject({ mode: 'fuzz', seed: 7, ops: 25, sequences: 6, divergent: [], first: null });
    expect(j.commands).toBeGreaterThan(6 * 25);
  });

  it('a model this kernel contradicts (the other zero-page switch): exit 1, the first divergence shrunk, and the shrunk trace still diverges', () => {
    const r = pteplay(['verify', '--fuzz', '5', '--seed', '7', '--kernel-opt', wrongZeroPage, '--json']);
    expect(r.status).toBe(1);
    const j = json(r.stdout);
    expect(j.divergent.length).toBeGreaterThan(0);
    const d = j.first;
    expect(d.sequence).toBe(j.divergent[0]);
    const min = d.minimized;
    expect(min.commands.length).toBeLessThan(d.first.index + 1);
    expect(min.commands[min.commands.length - 1]).toBe(d.first.cmd);
    expect(min.answers.length).toBe(min.commands.length);
    expect(min.answers[min.answers.length - 1].differs).toBe(true);
    expect(min.answers.filter((a: any) => a.kernel !== a.sim).length).toBeGreaterThan(0);
    // The trace records printed with it run through verify again: still divergent with the wrong
    // switch, and no divergence with the probed one.
    const trace = join(tmp, 'shrunk.jsonl');
    writeFileSync(trace, min.records.join('\n') + '\n');
    const again = pteplay(['verify', trace, '--kernel-opt', wrongZeroPage]);
    expect(again.status).toBe(1);
    expect(again.stdout).toContain('first divergence:');
    expect(pteplay(['verify', trace]).status).toBe(0);
  });

  it('the text report shows the first divergence with both answers and the minimised commands', () => {
    const r = pteplay(['verify', '--fuzz', '5', '--seed', '7', '--kernel-opt', wrongZeroPage]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^verify: 5 sequences \(seeds 7\.\.11, 40 ops each, \d+ commands\): \d diverge \(seeds [\d, ]+\)$/m);
    expect(r.stdout).toMatch(/^first divergence: seed \d+, command \d+ of \d+: /m);
    expect(r.stdout).toMatch(/^minimised to \d+ commands? \(from \d+, \d+ kreplay batch(es)?\)/m);
    expect(r.stdout).toMatch(/^\* +\d+ {2}\S.*\n {8}kernel: .*\n {8}sim: {4}/m);
    expect(r.stdout).toMatch(/^ {2}\{"op":"mmap",/m);
  });

  it('on a terminal, progress lines on stderr: sequences done, then the shrinking; erased before the report', () => {
    const cmd = `"${process.execPath}" "${join(ROOT, 'dist', 'cli', 'pteplay.js')}" verify --fuzz 60 --seed 7 --ops 10 --kernel-opt ${wrongZeroPage}`;
    const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stdout).toBe(1);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the progress line's carriage return and erase-line sequence (ESC [ K)
    expect(r.stdout).toMatch(/\r\x1b\[Kverify: 50\/60 sequences, \d+ divergent\r\x1b\[Kverify: 60\/60 sequences, \d+ divergent/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the progress line's carriage return and erase-line sequence (ESC [ K)
    expect(r.stdout).toMatch(/\r\x1b\[Kverify: shrinking the first divergence \(seed \d+\): kreplay batch 1/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the progress line's carriage return and erase-line sequence (ESC [ K)
    expect(r.stdout).toMatch(/\r\x1b\[Kverify: host kernel /);
  });

  it('clear_refs in a trace runs on the kernel too: no divergence with the probed soft-dirty setting, exit 1 with the other', () => {
    const t = join(tmp, 'clear-refs.jsonl');
    writeFileSync(
      t,
      [
        '{"op":"mmap","addr":"0x7f0000000000","len":16384,"prot":"rw","flags":["private","anonymous","fixed"]}',
        '{"op":"write","addr":"0x7f0000000000","size":8}',
        '{"op":"clear_refs","value":"4"}',
        '{"op":"write","addr":"0x7f0000001000","size":8}',
        '{"op":"pagemap_read","offset":' + (0x7f0000000000 / 4096) * 8 + ',"count":32}',
      ].join('\n') + '\n',
    );
    const ok = pteplay(['verify', t, '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    const s = JSON.parse(ok.stdout) as { kernelOpts: string[]; divergent: unknown[] };
    expect(s.divergent).toEqual([]);
    const other = s.kernelOpts.includes('soft_dirty=off') ? 'soft_dirty=on' : 'soft_dirty=off';
    const bad = pteplay(['verify', t, '--kernel-opt', other]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/kernel: ok \d+\+\d+:[^D\n]*\n\s+sim: +ok \d+\+\d+:\S*D|kernel: ok \d+\+\d+:\S*D\S*\n\s+sim: +ok \d+\+\d+:[^D\n]*$/m); // the soft-dirty bit differs
  });

  it('a trace kreplay cannot run is exit 65 naming the record; a missing trace is exit 66', () => {
    const fork = pteplay(['verify', 'traces/scenarios/fork-parent.jsonl']);
    expect(fork.status).toBe(65);
    expect(fork.stderr).toMatch(/^pteplay: traces\/scenarios\/fork-parent\.jsonl: record \d+: "fork" cannot run on the real kernel here/);
    const big = join(tmp, 'big.jsonl');
    writeFileSync(big, '{"op":"mmap","addr":"0x10000000","len":134217728,"prot":"rw","flags":["private","anonymous","fixed"]}\n');
    const b = pteplay(['verify', big]);
    expect(b.status).toBe(65);
    expect(b.stderr).toMatch(/needs 128 MiB .* more than kreplay's 64 MiB reservation/);
    const missing = pteplay(['verify', join(tmp, 'nope.jsonl')]);
    expect(missing.status).toBe(66);
    expect(missing.stderr).toMatch(/^pteplay: cannot open trace .*nope\.jsonl: no such file or directory/);
  });

  const asNobody = process.getuid?.() === 0 && readFileSync('/proc/sys/vm/unprivileged_userfaultfd', 'utf8').trim() === '0';
  it.skipIf(!asNobody)('userfaultfd not permitted (an unprivileged user, vm.unprivileged_userfaultfd=0): exit 69 naming the sysctl', () => {
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(ROOT, 'dist', 'cli', 'pteplay.js'), 'verify', '--fuzz', '2'],
      { cwd: tmp, encoding: 'utf8' },
    );
    expect(r.status).toBe(69);
    expect(r.stderr).toBe('pteplay: userfaultfd is not permitted for this user: run `sysctl vm.unprivileged_userfaultfd=1` or run as root\n');
    // A trace without userfaultfd still runs for that user.
    const ok = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        join(ROOT, 'dist', 'cli', 'pteplay.js'),
        'verify',
        join(ROOT, 'traces/scenarios/vma-merge.jsonl'),
      ],
      { cwd: tmp, encoding: 'utf8' },
    );
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
  });
});

describe('pteplay replay --thp', () => {
  // A trace whose header asks for THP "always", with one store into an aligned 2 MiB anonymous range.
  const trace = join(tmp, 'thp-always.jsonl');
  writeFileSync(
    trace,
    [
      '{"pteplay":"trace","version":1,"source":"thp precedence","sysfs":{"thp":"always"}}',
      '{"op":"mmap","addr":"0x7f0000000000","len":4194304,"prot":"rw","flags":["private","anonymous","fixed"]}',
      '{"op":"write","addr":"0x7f0000000000"}',
    ].join('\n'),
  );
  /** The level of the entry mapping the written page, and the THP mode the run stored. */
  const run = (args: string[]): { level: string; thp: string } => {
    const db = join(tmp, `thp-${args.join('')}.db`);
    const r = pteplay(['replay', trace, '--db', db, '-q', '--lanes', 'soft-dirty', ...args]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const s = pteplay(['state', db, '--lane', 'soft-dirty', '--range', '0x7f0000000000+1', '--json']);
    const q = queryRun<{ thp: string }>(db, "select json_extract(config_json, '$.sysfs.thp') as thp from lane");
    return { level: JSON.parse(s.stdout).level, thp: q[0]!.thp };
  };

  it('the option describes the machine: it wins over the trace header, which wins over the default', () => {
    // do_huge_pmd_anonymous_page maps a PMD THP only where thp_vma_allowable_order allows it.
    expect(run([])).toEqual({ level: 'pmd', thp: 'always' });
    expect(run(['--thp', 'never'])).toEqual({ level: 'pte', thp: 'never' });
    expect(run(['--thp', 'madvise'])).toEqual({ level: 'pte', thp: 'madvise' });
    // The same with the lanes in worker threads.
    expect(run(['--thp', 'never', '--threads', '2', '--lanes', 'soft-dirty,uffd-async'])).toEqual({ level: 'pte', thp: 'never' });
  });
});

describe('pteplay replay --swap', () => {
  /** The soft-dirty lane's entry of the first page after the trace (MADV_PAGEOUT of pages 0 and 1). */
  const entry = (swap: string): string => {
    const db = join(tmp, `swap-${swap}.db`);
    const r = pteplay(['replay', 'traces/scenarios/swap-anon.jsonl', '--db', db, '-q', '--swap', swap]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const s = pteplay(['state', db, '--lane', 'soft-dirty', '--range', '0x7f0000001000+1', '--json']);
    expect(s.status).toBe(0);
    return JSON.stringify(JSON.parse(s.stdout));
  };

  it("off keeps MADV_PAGEOUT'd anonymous pages resident; on (the default) swaps them out", () => {
    const off = entry('off');
    const on = entry('on');
    expect(on).toMatch(/swap/);
    expect(off).not.toMatch(/swap/);
    expect(off).toMatch(/present/);
    // The run keeps the setting (lane.config_json), so --resume and readers see it.
    expect(queryRun(join(tmp, 'swap-off.db'), "select distinct json_extract(config_json, '$.sysfs.swap') as swap from lane")).toEqual([{ swap: 0 }]);
  });

  it('a bad --swap value is exit 64', () => {
    const r = pteplay(['replay', 'traces/scenarios/swap-anon.jsonl', '--db', join(tmp, 'bad.db'), '--swap', 'maybe']);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/^pteplay: option --swap: expected on or off, got "maybe"/m);
  });
});
