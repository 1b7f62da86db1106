// Port picking and "is it really free" polling, independent of the library under test so that every tool is judged
// by the same yardstick.
import net from 'node:net';
import { nowMs, sleep } from './stats.mjs';

/** Ports for listeners picked one by one (rows 1-4). */
export const PORT_FROM = 45000;
export const PORT_TO = 46399;
/** A contiguous range left to row 5's allocators, which scan a range themselves. */
export const RESERVATION_RANGE = Object.freeze({ start: 46400, end: 46999 });

/** Ports handed out during this run, so no row reuses a port another row left in TIME_WAIT or still holds. */
const handedOut = new Set();

/**
 * Binds host:port and closes again. Node sets SO_REUSEADDR, so TIME_WAIT leftovers count as free, which is what
 * a restarted Node dev server sees too.
 * @returns {Promise<boolean>} true when the bind succeeded
 */
export function canBind(port, host, ipv6Only = false) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT') resolve(true);
      else reject(error);
    });
    server.listen({ port, host, ipv6Only, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Free on both loopback addresses. */
export async function loopbackFree(port) {
  return (await canBind(port, '127.0.0.1')) && (await canBind(port, '::1'));
}

/**
 * Picks `count` ports in [from, to] that bind on 127.0.0.1 and ::1 and were not handed out before in this run.
 * @returns {Promise<number[]>}
 */
export async function pickPorts(count, { from = PORT_FROM, to = PORT_TO } = {}) {
  const out = [];
  for (let port = from; port <= to && out.length < count; port++) {
    if (handedOut.has(port)) continue;
    if (await loopbackFree(port)) {
      handedOut.add(port);
      out.push(port);
    }
  }
  if (out.length < count) throw new Error(`only ${out.length} of ${count} free ports in ${from}-${to}`);
  return out;
}

export async function pickPort(range) {
  return (await pickPorts(1, range))[0];
}

/**
 * Polls a bind on `host` every `intervalMs` until it succeeds (the port is REALLY free for a new dev server).
 * @returns {Promise<{ free: boolean, ms: number }>} ms since `startedAt`
 */
export async function pollUntilFree(port, { host = '127.0.0.1', intervalMs = 2, timeoutMs = 10000, startedAt = nowMs() } = {}) {
  for (;;) {
    if (await canBind(port, host)) return { free: true, ms: nowMs() - startedAt };
    if (nowMs() - startedAt > timeoutMs) return { free: false, ms: nowMs() - startedAt };
    await sleep(intervalMs);
  }
}
