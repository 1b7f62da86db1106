// Where the time of a /proc-based "who listens" goes: reading the socket tables versus walking every process's fds.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { nowMs } from './stats.mjs';

/** ms to read /proc/net/tcp and tcp6 and how many rows they have. */
export function procNetCost() {
  const t0 = nowMs();
  let rows = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      rows += readFileSync(file, 'latin1').split('\n').length - 2;
    } catch {
      // tcp6 is missing when IPv6 is disabled.
    }
  }
  return { ms: nowMs() - t0, rows };
}

/** ms for a full synchronous walk of every /proc/<pid>/fd (readdir + readlink of each), the worst case of a scan. */
export function fullFdScanCost() {
  const t0 = nowMs();
  let fds = 0;
  let processes = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    processes++;
    let entries;
    try {
      entries = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of entries) {
      try {
        readlinkSync(`/proc/${name}/fd/${fd}`);
        fds++;
      } catch {
        // the fd closed or the process exited between readdir and readlink.
      }
    }
  }
  return { ms: nowMs() - t0, fds, processes };
}
