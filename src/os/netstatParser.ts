/**
 * Pure parser of Windows `netstat -ano` (also `-p tcp` / `-p tcpv6`) output:
 *
 * ```
 * Active Connections
 *
 *   Proto  Local Address          Foreign Address        State           PID
 *   TCP    0.0.0.0:3000           0.0.0.0:0              LISTENING       4321
 *   TCP    127.0.0.1:3000         127.0.0.1:52144        ESTABLISHED     4321
 *   TCP    [::]:3000              [::]:0                 LISTENING       4321
 *   UDP    0.0.0.0:5353           *:*                                    2345
 * ```
 *
 * Ports are matched exactly on the LOCAL address (`findstr :3000` also matches `:30001` and remote ports).
 * The State column is translated on non-English Windows ("ABHÖREN"), so a row also counts as listening when its
 * foreign address is the unspecified `0.0.0.0:0` / `[::]:0`, which only a listening TCP socket has among the rows
 * plain `-ano` prints (`-q` would add BOUND rows that look the same, so it is not used).
 */

/** One listening TCP socket from netstat. */
export interface NetstatListenSocket {
  /** `0.0.0.0`, `127.0.0.1`, `::`, `::1`, `fe80::1%12` (brackets removed). */
  address: string;
  port: number;
  family: 4 | 6;
  pid: number;
}

/**
 * Splits `127.0.0.1:3000` or `[::1]:3000` into address and port; undefined when malformed (e.g. UDP's `*:*`).
 *
 * @example
 * splitHostPort('[::1]:3000'); // { address: '::1', port: 3000 }
 */
export function splitHostPort(text: string): { address: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^\s:\[\]]+)):(\d+)$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (!Number.isInteger(port) || port > 65535) return undefined;
  return { address: match[1] ?? match[2], port };
}

/**
 * Listening TCP sockets (IPv4 and IPv6) in netstat -ano output; with `port`, only those whose LOCAL port is exactly
 * that port.
 *
 * @example
 * parseNetstatListeners('  TCP    0.0.0.0:3000    0.0.0.0:0    LISTENING    4321', 3000);
 * // [{ address: '0.0.0.0', port: 3000, family: 4, pid: 4321 }]
 */
export function parseNetstatListeners(text: string, port?: number): NetstatListenSocket[] {
  const sockets: NetstatListenSocket[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = line.trim().split(/\s+/);
    // TCP rows have 5 columns: proto, local, foreign, state, pid. UDP rows have no state and are skipped.
    if (fields.length !== 5 || !/^TCP(v6)?$/i.test(fields[0])) continue;
    const [, localText, foreignText, state, pidText] = fields;
    const local = splitHostPort(localText);
    const foreign = splitHostPort(foreignText);
    if (!local || !foreign || !/^\d+$/.test(pidText)) continue;
    const unspecifiedPeer = foreign.port === 0 && (foreign.address === '0.0.0.0' || foreign.address === '::');
    if (state.toUpperCase() !== 'LISTENING' && !unspecifiedPeer) continue;
    if (port !== undefined && local.port !== port) continue;
    sockets.push({ address: local.address, port: local.port, family: local.address.includes(':') ? 6 : 4, pid: Number(pidText) });
  }
  return sockets;
}
