/** Group and unit of each cost counter, as stored in the `counter` lookup table. */
import type { CounterName } from '../mm/counters.js';

export type CounterGroup = 'fault' | 'uffd' | 'pgtable' | 'walk' | 'syscall';

const UFFD = new Set<string>(['uffd_msgs', 'ctx_switches', 'monitor_syscalls', 'stall_ns']);
const SYSCALL = new Set<string>(['syscalls', 'errors']);

export function counterGroup(name: CounterName): CounterGroup {
  if (name.startsWith('fault_')) return 'fault';
  if (UFFD.has(name)) return 'uffd';
  if (SYSCALL.has(name)) return 'syscall';
  if (/^(pte_|tlb_|thp_)/.test(name)) return 'pgtable';
  return 'walk';
}

export function counterUnit(name: CounterName): 'count' | 'ns' {
  return name.endsWith('_ns') ? 'ns' : 'count';
}
