/**
 * This process's peak resident set size in bytes. On Linux it is VmHWM of /proc/self/status (the
 * high-water mark of this process's own address space, all threads). Not getrusage's maxRSS: a child
 * started by a process of 900 MB reports ru_maxrss >= 900 MB from its first instruction, because
 * exec carries the high-water mark of the address space it replaces (the parent's, shared under vfork)
 * into the process's maxrss.
 */
import { readFileSync } from 'node:fs';

export function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS * 1024;
}
