// Where the time of a /proc-based "who listens" goes: reading the socket tables, parsing them, and walking every
// process's fds. Used for the profile notes of row 1.
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { nowMs } from './stats.mjs';

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];

function readAll(file) {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return ''; // tcp6 is missing when IPv6 is disabled.
  }
}

/** ms to read /proc/net/tcp{,6} whole, how many rows, and ms for `parse` (the project's parser) on that text. */
export function procNetCost(parse) {
  const t0 = nowMs();
  const texts = TABLES.map(readAll);
  const readMs = nowMs() - t0;
  const rows = texts.reduce((n, t) => n + Math.max(0, t.split('\n').length - 2), 0);
  let parseMs;
  if (parse) {
    const t1 = nowMs();
    for (const t of texts) parse(t);
    parseMs = nowMs() - t1;
  }
  return { readMs, parseMs, rows };
}

const chunk = Buffer.allocUnsafe(64 * 1024);

/**
 * ms to read only the LISTEN section at the top of /proc/net/tcp{,6}: the kernel walks the listening hash before
 * the established one (net/ipv4/tcp_ipv4.c, tcp_get_idx), so the LISTEN rows (state 0A) come first and the read
 * can stop at the first row in another state. Returns the ports found, so the caller can check the trick saw the
 * listener.
 */
export function listenSectionCost() {
  const t0 = nowMs();
  const ports = new Set();
  for (const file of TABLES) {
    let fd;
    try {
      fd = openSync(file, 'r');
    } catch {
      continue;
    }
    try {
      let rest = '';
      let header = true;
      let done = false;
      while (!done) {
        const n = readSync(fd, chunk, 0, chunk.length, null);
        if (n === 0) break;
        const lines = (rest + chunk.latin1Slice(0, n)).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (header) {
            header = false;
            continue;
          }
          const f = line.trim().split(/\s+/);
          if (f[3] !== '0A') {
            done = true;
            break;
          }
          ports.add(parseInt(f[1].slice(-4), 16));
        }
      }
    } finally {
      closeSync(fd);
    }
  }
  return { ms: nowMs() - t0, ports };
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
