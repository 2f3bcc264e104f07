/**
 * The seeded sequence generator of the kreplay differential fuzz (test/95-kreplay-diff.test.ts):
 * kreplay commands over a 16-page region that straddles a PMD boundary, a 2 MiB THP-able region,
 * and their mremap destinations, with observations (pagemap of every window, the VMAs, the uffd
 * messages) after every operation; soft-dirty resets (clear_refs) and forks among the operations.
 */
const anon = (off: number, n: number, prot = 'rw', extra = '') => `mmap ${off}p ${n}p ${prot} private|anonymous|fixed${extra}`;
const ASYNC = 0x8000;
const WPU = 0x2000;
const REMAP = 0x4;

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fuzz areas (pages): a small region S, its mremap destination D, a THP region T and its destination TD. */
const S = 504; // straddles the PMD boundary at 512
const D = 4100;
const T = 2048;
const TD = 6144;
const WINDOWS: [number, number][] = [
  [S - 4, 24],
  [D - 4, 24],
  [T, 512],
  [TD - 16, 544],
];

/**
 * `guard`: the kernel knows PAGE_IS_GUARD (v6.15); without it every scan mask leaves 0x100 out (a
 * 6.12 kernel refuses it with EINVAL, which would waste the observation).
 */
export function fuzzSequence(seed: number, nOps: number, thp: boolean, guard = true): string[] {
  const cats = guard ? 0x1ff : 0xff;
  const r = rng(seed);
  const pick = <X>(xs: readonly X[]): X => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  /** A page range [off, off+n) in one of the areas. */
  const range = (): [number, number] => {
    const area = thp ? pick(['S', 'S', 'S', 'T', 'D', 'TD'] as const) : pick(['S', 'S', 'D'] as const);
    if (area === 'S' || area === 'D') {
      const base = area === 'S' ? S : D;
      const a = int(-2, 17);
      return [base + a, int(1, 18 - a)];
    }
    const base = area === 'T' ? T : TD;
    const shape = int(0, 3);
    if (shape === 0) return [base, 512];
    if (shape === 1) return [base + pick([0, 256]), 256];
    const a = int(0, 511);
    return [base + a, int(1, Math.min(64, 512 - a))];
  };
  const page = (): number => {
    const [a, n] = range();
    return a + int(0, n - 1);
  };
  const prots = ['rw', 'rw', 'rw', 'r', '-'];
  const features = [0, WPU, ASYNC, ASYNC, ASYNC | REMAP, WPU | REMAP];
  const cmds: string[] = [];
  const observe = () => {
    for (const [o, n] of WINDOWS.slice(0, thp ? 4 : 2)) cmds.push(`pagemap ${o}p ${n}`);
    // Which pages are PMD-mapped (PAGE_IS_HUGE only): pagemap cannot tell.
    if (thp) for (const [o, n] of WINDOWS.slice(2, 4)) cmds.push(`pagemap_scan ${o}p ${o + n}p 0 0 0 0 0x40 1024 0`);
    cmds.push('maps');
  };
  // Start: the small region mapped and touched, the THP region madvised.
  cmds.push(anon(S, 16), `write ${S + 1}p`, `write ${S + 9}p`);
  if (thp) cmds.push(anon(T, 512), `madvise ${T}p 512p hugepage`, `write ${T + 3}p`);
  let fds = 0;
  for (let i = 0; i < nOps; i++) {
    const k = r();
    if (k < 0.2) {
      cmds.push(`write ${page()}p`, 'messages');
    } else if (k < 0.25) {
      cmds.push(`read ${page()}p`);
    } else if (k < 0.255) {
      // Soft-dirty: the whole-mm reset (or another clear_refs type), a fork whose child shares the pages.
      const j = r();
      cmds.push(j < 0.7 ? 'clear_refs 4' : j < 0.8 ? `clear_refs ${pick(['1', '2', '3', '5', '0'])}` : j < 0.93 ? 'fork' : 'reap');
    } else if (k < 0.27) {
      // The kernel stores or loads for us (copy_to_user / copy_from_user): EFAULT instead of a signal.
      cmds.push(`${pick(['kwrite', 'kread'])} ${page()}p`, 'messages');
    } else if (k < 0.31) {
      const [a, n] = range();
      const kind = pick([
        'private|anonymous|fixed',
        'private|anonymous|fixed',
        'private|anonymous|fixed',
        'shared|anonymous|fixed',
        'shared|fixed',
        'private|fixed',
        'shared|fixed',
      ]);
      // Regular files only with KREPLAY_FILES=1: the simulator has no page-cache readahead
      // (do_sync_mmap_readahead, read_ahead_kb of the device), which fault-around then maps.
      const files = process.env.KREPLAY_FILES === '1' ? ['memfd:m', 'memfd:m', 'file:f'] : ['memfd:m'];
      const backing = kind.includes('anonymous') ? '' : ` ${pick(files)} ${Math.max(0, a - S)}p`;
      cmds.push(`mmap ${a}p ${n}p ${pick(['rw', 'rw', 'r'])} ${kind}${r() < 0.2 ? '|populate' : ''}${backing}`);
    } else if (k < 0.34) {
      const [a, n] = range();
      cmds.push(`munmap ${a}p ${n}p`);
    } else if (k < 0.38) {
      const [a, n] = range();
      cmds.push(`mprotect ${a}p ${n}p ${pick(prots)}`);
    } else if (k < 0.42) {
      const [a, n] = range();
      const to = a >= T && a < T + 512 ? TD + pick([0, 0, 16, a - T]) : D + int(-2, 4);
      const newN = r() < 0.7 ? n : int(1, n + 4);
      const kind = r();
      if (kind < 0.6) cmds.push(`mremap ${a}p ${n}p ${newN}p maymove|fixed ${to}p`);
      else if (kind < 0.75) cmds.push(`mremap ${a}p ${n}p ${n}p maymove|fixed|dontunmap ${to}p`);
      else cmds.push(`mremap ${a}p ${n}p ${newN}p 0`);
    } else if (k < 0.5) {
      const [a, n] = range();
      cmds.push(
        `madvise ${a}p ${n}p ${pick(['dontneed', 'dontneed', 'free', 'remove', 'pageout', 'populate_read', 'populate_write', 'hugepage', 'nohugepage', 'collapse', 'cold', 'willneed'])}`,
      );
    } else if (k < 0.56) {
      if (fds < 2 && (fds === 0 || r() < 0.3)) {
        const fd = 3 + fds++;
        const f = pick(features) | (r() < 0.08 ? 0x80 : 0); // occasionally UFFD_FEATURE_SIGBUS
        cmds.push(`userfaultfd ${fd} ${r() < 0.15 ? 'cloexec|user_mode_only' : 'cloexec|nonblock'}`, `uffdio_api ${fd} 0xaa ${f}`);
      } else if (fds > 0 && r() < 0.15) {
        cmds.push(`close ${pick([3, 4].slice(0, fds))}`);
      }
    } else if (k < 0.66) {
      if (fds === 0) continue;
      const [a, n] = range();
      const fd = pick([3, 4].slice(0, fds));
      cmds.push(r() < 0.85 ? `uffdio_register ${fd} ${a}p ${n}p ${r() < 0.95 ? 2 : pick([0, 8])}` : `uffdio_unregister ${fd} ${a}p ${n}p`);
    } else if (k < 0.8) {
      if (fds === 0) continue;
      const [a, n] = range();
      cmds.push(`uffdio_writeprotect ${pick([3, 4].slice(0, fds))} ${a}p ${n}p ${pick([1, 1, 0, 2, 3])}`);
    } else {
      const [a, n] = range();
      const flags = pick([0, 0, 1, 1, 2, 3]);
      const q = pick([
        [0, 2, 0, 2],
        [0, 0, 2, 2],
        [0, 0, 0, 0x1ff],
        [2, 2, 0, 0x1ff],
        [0, 8, 0, 0x1b],
        [0, 1, 0, 0x1ff],
        [0, 0x20, 0, 0x1ff],
        [0, 0, 0x50, 0x1ff],
        [0, 0x80, 0, 0x82],
        [0x80, 0x80, 0, 0xff],
        [0, 0, 0x82, 0x1ff],
      ] as const).map((m) => m & cats);
      const vec = pick([1024, 1024, 0, 1, 2, 3]);
      const maxp = pick([0, 0, 0, 1, 3, 100]);
      const end = r() < 0.1 ? `0x${((a + n) * 4096 - 1).toString(16)}` : `${a + n}p`;
      cmds.push(`pagemap_scan ${a}p ${end} ${flags} ${q[0]} ${q[1]} ${q[2]} ${q[3]} ${vec} ${maxp}`);
    }
    observe();
  }
  // Final readings: a full and a fast scan of every window.
  for (const [o, n] of WINDOWS.slice(0, thp ? 4 : 2)) {
    cmds.push(`pagemap_scan ${o}p ${o + n}p 0 0 0 0 0x${cats.toString(16)} 1024 0`, `pagemap_scan ${o}p ${o + n}p 0 0 2 0 2 1024 0`);
  }
  cmds.push('messages');
  return cmds;
}
