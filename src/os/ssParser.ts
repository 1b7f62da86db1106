/**
 * Pure parser of Linux `ss -ltnpeH` output (iproute2), the fallback when /proc/net cannot be read:
 *
 * ```
 * LISTEN 0      511        127.0.0.1:3000      0.0.0.0:*    users:(("node",pid=4321,fd=19),("node",pid=4322,fd=19)) uid:1000 ino:48213 sk:1 <->
 * LISTEN 0      511             [::1]:5173         [::]:*    users:(("node",pid=777,fd=22)) ino:48999 sk:2 <->
 * ```
 *
 * `uid:` is printed only for a non-root owner; `users:` is missing for a socket whose process cannot be read.
 */

/** One process holding one listening socket, as ss shows it. */
export interface SsListenSocket {
  pid: number;
  /** Process name as ss prints it (the kernel's comm). */
  command: string;
  port: number;
  address: string;
  /** Owner uid of the socket (0 when ss printed none). */
  uid: number;
}

/** Splits `127.0.0.1:3000`, `[::1]:3000`, `*:3000`, `127.0.0.1%lo:53` into address and port. */
function splitLocal(field: string): { address: string; port: number } | undefined {
  const colon = field.lastIndexOf(':');
  if (colon < 0) return undefined;
  const port = Number(field.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  let address = field.slice(0, colon).replace(/%[^\]]*$/, '').replace(/%[^\]]*\]$/, ']');
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  if (address === '*') address = '0.0.0.0';
  return { address, port };
}

/**
 * Every (process, socket) of `ss -ltnpeH`, of one port or all; a socket without readable processes gives an entry
 * with pid 0 so that its owner uid is still known.
 *
 * @example
 * parseSsListeners('LISTEN 0 511 127.0.0.1:3000 0.0.0.0:* users:(("node",pid=42,fd=19)) ino:9 sk:1 <->\n');
 * // [{ pid: 42, command: 'node', port: 3000, address: '127.0.0.1', uid: 0 }]
 */
export function parseSsListeners(text: string, port?: number): SsListenSocket[] {
  const sockets: SsListenSocket[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'LISTEN' || fields.length < 5) continue;
    const local = splitLocal(fields[3]);
    if (!local || (port !== undefined && local.port !== port)) continue;
    const uid = Number(/\buid:(\d+)/.exec(line)?.[1] ?? 0);
    const users = [...line.matchAll(/\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=\d+\)/g)];
    if (users.length === 0) sockets.push({ pid: 0, command: '', ...local, uid });
    for (const m of users) sockets.push({ pid: Number(m[2]), command: m[1], ...local, uid });
  }
  return sockets;
}
