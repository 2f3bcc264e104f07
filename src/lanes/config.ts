import { UsageError } from '../errors.js';
import { DEFAULT_PROFILE, resolveProfile, type KernelProfile } from '../kernel/profile.js';
import { DEFAULT_SYSFS, type Sysfs } from '../mm/system.js';

/** The mechanism a lane's tracker protocol uses. */
export type TrackerKind = 'soft-dirty' | 'uffd-sync' | 'uffd-async' | 'none';

/** How an async lane reads its dirty set (docs/kernel-rules.md §3 columns). */
export type AsyncRead = 'fast' | 'generic' | 'pagemap';

export interface LaneConfig {
  name: string;
  tracker: TrackerKind;
  /** Sync lanes: ask for UFFD_FEATURE_WP_UNPOPULATED (markers on anon none entries). */
  unpopulated: boolean;
  /** Async lanes: PAGEMAP_SCAN WRITTEN fast path (default), generic path, or pagemap bit 57. */
  read: AsyncRead;
  /** Sync lanes: time from a WP fault to the monitor's un-protect (ns). */
  monitorLatencyNs: number;
  /** Extra UFFD_FEATURE_* bits the monitor asks for (e.g. event_fork, event_remap). */
  extraFeatures: number;
  profile: KernelProfile;
  sysfs: Sysfs;
}

export const DEFAULT_LANES = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async'];

/** What each tracker kind does (the store's tracker_kind table). */
export const TRACKER_KIND_HELP: Record<TrackerKind, string> = {
  'soft-dirty': 'clear_refs 4 (whole mm) to reset; /proc/pid/pagemap bit 55 to read (CRIU)',
  'uffd-sync': 'UFFDIO_REGISTER(MODE_WP) + UFFDIO_WRITEPROTECT to reset; the WP fault messages a monitor un-protects to read',
  'uffd-async': 'UFFD_FEATURE_WP_ASYNC; PAGEMAP_SCAN(PAGE_IS_WRITTEN) with WP_MATCHING to read and re-arm (GetWriteWatch)',
  none: 'no tracker: ground truth and costs only',
};
/** Default sync round trip: ~62k cycles per tracked page at 3 GHz (docs/kernel-rules.md §5.2, process_memwatch thread). */
export const DEFAULT_MONITOR_LATENCY_NS = 20_000;

export interface LaneDefaults {
  kernel?: string;
  kernelOpts?: string[];
  sysfs?: Partial<Sysfs>;
  monitorLatencyNs?: number;
}

/**
 * Split a `--lanes` value into lane specs: comma-separated, and an empty list or an empty item (`''`,
 * `a,,b`, a trailing comma) is a usage error rather than a silent default.
 */
export function parseLaneList(value: string): string[] {
  const specs = value.split(',').map((s) => s.trim());
  if (specs.some((s) => s === '')) {
    throw new UsageError(`option --lanes: expected a comma-separated list of lanes (e.g. ${DEFAULT_LANES.join(',')}), got "${value}"`);
  }
  return specs;
}

/** Lane names are the run's keys (lane.name is UNIQUE): two lanes with one name are a usage error naming it. */
export function checkLaneNames(configs: readonly LaneConfig[]): void {
  const seen = new Set<string>();
  const dup = [...new Set(configs.map((c) => c.name).filter((n) => seen.has(n) || !seen.add(n)))];
  if (dup.length > 0) {
    throw new UsageError(
      `option --lanes: lane name${dup.length > 1 ? 's' : ''} ${dup.map((n) => `"${n}"`).join(', ')} ` +
        'given more than once (each lane needs its own name: add :name=NAME to tell two alike apart)',
    );
  }
}

/**
 * Parse a lane spec: `soft-dirty`, `uffd-sync`, `uffd-sync+unpop`, `uffd-async`, `none`, with options
 * after a colon: `uffd-async:read=generic`, `uffd-sync:latency=50000,features=0x6`, `kernel=6.1`, `name=x`.
 */
export function parseLaneSpec(spec: string, d: LaneDefaults = {}): LaneConfig {
  const [head, opts] = spec.split(':', 2) as [string, string | undefined];
  const kinds: Record<string, [TrackerKind, boolean]> = {
    'soft-dirty': ['soft-dirty', false],
    'uffd-sync': ['uffd-sync', false],
    'uffd-sync+unpop': ['uffd-sync', true],
    'uffd-async': ['uffd-async', true],
    none: ['none', false],
  };
  const k = kinds[head];
  if (!k) throw new UsageError(`unknown lane "${head}" (expected one of ${Object.keys(kinds).join(', ')})`);
  let name = head;
  let read: AsyncRead = 'fast';
  let latency = d.monitorLatencyNs ?? DEFAULT_MONITOR_LATENCY_NS;
  let features = 0;
  let kernel = d.kernel ?? DEFAULT_PROFILE;
  for (const kv of opts ? opts.split(',') : []) {
    const [key, value = ''] = kv.split('=', 2) as [string, string?];
    if (key === 'read' && (value === 'fast' || value === 'generic' || value === 'pagemap')) read = value;
    else if (key === 'latency' && /^\d+$/.test(value)) latency = Number(value);
    else if (key === 'features' && Number.isSafeInteger(Number(value))) features = Number(value);
    else if (key === 'kernel') kernel = value;
    else if (key === 'name' && value) name = value;
    else
      throw new UsageError(
        `lane "${spec}": bad option "${kv}" (expected read=fast|generic|pagemap, latency=NS, features=BITS, kernel=VER, name=NAME)`,
      );
  }
  if (opts && !/name=/.test(opts)) name = spec;
  let profile: KernelProfile;
  try {
    profile = resolveProfile(kernel, d.kernelOpts ?? []);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return {
    name,
    tracker: k[0],
    unpopulated: k[1],
    read,
    monitorLatencyNs: latency,
    extraFeatures: features,
    profile,
    sysfs: { ...DEFAULT_SYSFS, ...d.sysfs },
  };
}
