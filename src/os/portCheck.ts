/**
 * Is a TCP port free? Answered by binding it, on every local address, one after the other.
 *
 * Why every address: a bind on 127.0.0.1 or 0.0.0.0 misses a listener on `::1` or an IPv6-only `::`, and a
 * bind on `::1` misses IPv4 listeners (vite #10638, detect-port #17). On macOS/BSD and Windows 0.0.0.0 and
 * 127.0.0.1 can both be bound at once, so all four of `::`, 0.0.0.0, 127.0.0.1 and ::1 are tried. On Linux a
 * wildcard bind fails next to a listener on any address it covers (the kernel lets a second socket share a port
 * only when neither listens), and libuv binds `::` dual-stack (it sets IPV6_V6ONLY off itself, whatever
 * net.ipv6.bindv6only says), so `::` alone sees every IPv4 and IPv6 listener; 0.0.0.0 is bound after it as a
 * second look that costs one bind, and the specific addresses, which add nothing there, are not bound.
 *
 * `::` is bound by listening without a host (Node binds the dual-stack `::` then, or 0.0.0.0 on a machine without
 * IPv6): a host string would go through `dns.lookup`, whose `net.isIPv6` compiles a large regular expression on its
 * first use, 3.5–5 ms of every CLI call.
 *
 * TIME_WAIT: libuv sets SO_REUSEADDR on every TCP server socket, so a port whose only remains are connections in
 * TIME_WAIT binds fine and is reported free. That is the right answer for dev servers: Node (Vite, Next.js,
 * webpack-dev-server, Express...) and most other dev servers set SO_REUSEADDR too, so they can listen there at once.
 * A server that does not set it would still fail with EADDRINUSE for up to 60 s; we accept that.
 */
import * as net from 'node:net';
import { errorCode, OsAccessError } from './errors';
import { assertPort, assertRange } from './validate';
import type { WaitOptions } from './types';

/** `undefined`: no host, i.e. `::` (see above). */
const CHECK_HOSTS: readonly (string | undefined)[] = process.platform === 'linux' ? [undefined, '0.0.0.0'] : [undefined, '0.0.0.0', '127.0.0.1', '::1'];

type BindOutcome = 'free' | 'in-use' | 'skip';

function bindOnce(port: number, host: string | undefined, ipv6Only = false): Promise<BindOutcome> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err) => {
      const code = errorCode(err);
      if (code === 'EADDRINUSE') resolve('in-use');
      // A host without IPv6 (disabled by sysctl, or a container without ::1) cannot bind an IPv6 address at all:
      // nothing can listen there either, so that address is skipped rather than answered.
      else if (host?.includes(':') && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) resolve('skip');
      else if (code === 'EACCES') {
        reject(
          new OsAccessError(
            `Port ${port} cannot be checked by binding it: ports below 1024 need administrator rights to bind (EACCES). ` +
              `Use a port above 1023, or run as root to check it.`,
            { code: 'EACCES', port },
            { cause: err },
          ),
        );
      } else reject(err);
    });
    // exclusive: true keeps cluster workers from sharing the primary's handle, so the bind is really ours.
    server.listen(host === undefined ? { port, exclusive: true, ipv6Only } : { port, host, exclusive: true, ipv6Only }, () => {
      server.close(() => resolve('free'));
    });
  });
}

/**
 * True when `port` can be bound on `::` and `0.0.0.0` (and on other systems than Linux on `127.0.0.1` and `::1`
 * too), i.e. nothing listens on it on any local address. Rejects (never answers "free") when the port cannot be checked, e.g. EACCES for a privileged port.
 *
 * @example
 * if (!(await isPortAvailable(3000))) console.log('3000 is taken');
 */
export async function isPortAvailable(port: number): Promise<boolean> {
  assertPort(port);
  for (const host of CHECK_HOSTS) {
    // Sequential on purpose: parallel binds of `::` and 0.0.0.0 on the same port collide with each other on Linux.
    if ((await bindOnce(port, host)) === 'in-use') return false;
  }
  return true;
}

/**
 * First port in `start..end` (inclusive) that is free on every local address and not in `exclude`, or undefined.
 * Ports that cannot be checked (EACCES: privileged ports as a normal user) count as not available.
 *
 * @example
 * const port = await findAvailablePort(3000, 3999, { exclude: [3000] }); // e.g. 3001
 */
export async function findAvailablePort(
  start: number,
  end: number,
  options: { exclude?: Iterable<number> } = {},
): Promise<number | undefined> {
  assertRange(start, end);
  const exclude = new Set(options.exclude ?? []);
  for (let port = start; port <= end; port++) {
    if (exclude.has(port)) continue;
    try {
      if (await isPortAvailable(port)) return port;
    } catch (err) {
      if (errorCode(err) !== 'EACCES') throw err;
    }
  }
  return undefined;
}

/**
 * Polls until `port` is free on every local address. Resolves true when it is, false after `timeoutMs`.
 *
 * @example
 * process.kill(pid);
 * const free = await waitForPortAvailable(3000, { timeoutMs: 5000 });
 */
export async function waitForPortAvailable(port: number, options: WaitOptions = {}): Promise<boolean> {
  assertPort(port);
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  // A port usually frees within a few ms of its holder's exit: look again after 1, 2, 4 … ms, up to intervalMs.
  let wait = Math.min(1, intervalMs);
  for (;;) {
    if (await isPortAvailable(port)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait, Math.max(0, deadline - Date.now()))));
    wait = Math.min(intervalMs, wait * 2);
  }
}

/**
 * Which address families may have a socket bound on `port`: a bind of `0.0.0.0` fails when any IPv4 socket (or a
 * dual-stack `::` one) is bound there, an IPv6-only bind of `::` when any IPv6 socket is. A family whose bind
 * succeeds has no listener on the port, so its /proc/net table need not be read (reading /proc/net/tcp6 walks the
 * kernel's whole connection hash when the namespace has no IPv6 connection: ~2 ms). True when it cannot be told
 * (a privileged port for a normal user). Like {@link isPortAvailable}, it holds the port for the moment of a bind.
 */
export async function familiesBound(port: number): Promise<{ v4: boolean; v6: boolean }> {
  const probe = async (host: string, ipv6Only: boolean): Promise<boolean> => {
    try {
      return (await bindOnce(port, host, ipv6Only)) === 'in-use';
    } catch {
      return true;
    }
  };
  // Sequential: parallel binds of `::` and 0.0.0.0 on the same port would collide with each other.
  const v4 = await probe('0.0.0.0', false);
  const v6 = await probe('::', true);
  return { v4, v6 };
}
