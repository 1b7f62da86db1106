/**
 * Pure parser of lsof's field output (`-F`), as printed by
 * `lsof -nP -iTCP -sTCP:LISTEN -FpcuLtnT` (macOS, BSD and Linux print the same format). One field a line, the
 * first character names it; a `p` line starts a process, the lines after it describe it and then its files:
 *
 * ```
 * p4321          pid
 * cnode          command name (short)
 * u501           uid
 * Lme            login name
 * tIPv6          address family of the file that follows (only with `t` in -F)
 * n[::1]:3000    local address:port, or `local->remote` for a connected socket; `*:3000` is the wildcard
 * TST=LISTEN     TCP state (only with `T` in -F)
 * ```
 *
 * Connected sockets (`->`, or a TST other than LISTEN) are skipped, so a browser tab connected to the port is never
 * taken for its owner even when lsof was called without `-sTCP:LISTEN`.
 */

/** One listening socket as lsof shows it. */
export interface LsofListenSocket {
  pid: number;
  /** lsof's `c` field: the short command name. */
  command: string;
  uid?: number;
  login?: string;
  /** `127.0.0.1`, `::1`, `0.0.0.0`, `::`; `*` when the wildcard's family is unknown (no `t` field requested). */
  address: string;
  port: number;
}

interface PendingFile {
  family?: string;
  name?: string;
  state?: string;
}

/**
 * Splits lsof's `n` field of a TCP socket into address and port; undefined for a connected socket (`a->b`).
 *
 * @example
 * parseLsofAddress('[::1]:3000', 'IPv6'); // { address: '::1', port: 3000 }
 * parseLsofAddress('*:3000', 'IPv4');     // { address: '0.0.0.0', port: 3000 }
 */
export function parseLsofAddress(name: string, family?: string): { address: string; port: number } | undefined {
  if (name.includes('->')) return undefined;
  const match = /^(?:\[([^\]]+)\]|([^\s:]+|\*)):(\d+)$/.exec(name.trim());
  if (!match) return undefined;
  let address = match[1] ?? match[2];
  if (address === '*') address = family === 'IPv6' ? '::' : family === 'IPv4' ? '0.0.0.0' : '*';
  const port = Number(match[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { address, port };
}

/**
 * Every listening socket in lsof `-F` output, optionally only those of `port`. Lines starting with `#` are
 * ignored (fixture headers).
 *
 * @example
 * parseLsofListeners('p42\ncnode\nu501\nLme\ntIPv4\nn127.0.0.1:3000\nTST=LISTEN\n');
 * // [{ pid: 42, command: 'node', uid: 501, login: 'me', address: '127.0.0.1', port: 3000 }]
 */
export function parseLsofListeners(text: string, port?: number): LsofListenSocket[] {
  const sockets: LsofListenSocket[] = [];
  let proc: { pid: number; command: string; uid?: number; login?: string } | undefined;
  let file: PendingFile = {};

  const flush = (): void => {
    if (proc && file.name !== undefined && (file.state === undefined || file.state === 'LISTEN')) {
      const parsed = parseLsofAddress(file.name, file.family);
      if (parsed && (port === undefined || parsed.port === port)) sockets.push({ ...proc, ...parsed });
    }
    file = {};
  };

  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const tag = line[0];
    const value = line.slice(1);
    switch (tag) {
      case 'p': {
        flush();
        const pid = Number(value);
        proc = Number.isInteger(pid) && pid > 0 ? { pid, command: '' } : undefined;
        break;
      }
      case 'c':
        if (proc) proc.command = value;
        break;
      case 'u':
        if (proc && /^\d+$/.test(value)) proc.uid = Number(value);
        break;
      case 'L':
        if (proc) proc.login = value;
        break;
      case 'f':
        // A new file set starts (when `f` was requested).
        flush();
        break;
      case 't':
        // `t` is the first field of a file set when `f` was not requested.
        if (file.name !== undefined) flush();
        file.family = value;
        break;
      case 'n':
        if (file.name !== undefined) flush();
        file.name = value;
        break;
      case 'T':
        if (value.startsWith('ST=')) file.state = value.slice(3);
        break;
      default:
        break;
    }
  }
  flush();
  return sockets;
}

/**
 * Working directories from `lsof -a -d cwd -p <pids> -Fpn` (`p42` then `n/home/me/app`), by PID.
 *
 * @example
 * parseLsofCwd('p42\nfcwd\nn/home/me/app\n').get(42); // '/home/me/app'
 */
export function parseLsofCwd(text: string): Map<number, string> {
  const cwds = new Map<number, string>();
  let pid: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('p')) pid = Number(line.slice(1));
    else if (line.startsWith('n') && pid !== undefined && !cwds.has(pid)) cwds.set(pid, line.slice(1));
  }
  return cwds;
}
