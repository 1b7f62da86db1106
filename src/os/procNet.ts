/**
 * Pure parser of Linux `/proc/net/tcp` and `/proc/net/tcp6`. A line looks like:
 *
 * ```
 *   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
 *    0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 48213 1 ...
 * ```
 *
 * The address is hex in the kernel's byte order per 32-bit word (little-endian on x86/arm64): `0100007F` is
 * 127.0.0.1; in tcp6 each of the four words is swapped the same way. The port is plain big-endian hex. State `0A`
 * is TCP_LISTEN.
 */

/** One listening socket as /proc/net/tcp{,6} shows it. */
export interface ProcNetListenRow {
  /** Local address: `127.0.0.1`, `0.0.0.0`, `::`, `::1`, `::ffff:127.0.0.1`, ... */
  address: string;
  port: number;
  family: 4 | 6;
  /** uid of the socket's owner. */
  uid: number;
  /** Socket inode: `/proc/<pid>/fd/*` links read `socket:[<inode>]`. */
  inode: number;
}

const TCP_LISTEN = '0A';

function wordBytes(hex8: string, littleEndian: boolean): number[] {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex8.slice(i, i + 2), 16));
  return littleEndian ? bytes.reverse() : bytes;
}

/** Formats 16 bytes as an RFC 5952 IPv6 address (longest run of two or more zero groups becomes `::`). */
export function formatIpv6(bytes: readonly number[]): string {
  const isV4Mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (isV4Mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * Decodes the hex local address of /proc/net/tcp (8 hex digits) or tcp6 (32 hex digits); undefined when malformed.
 *
 * @example
 * decodeProcNetAddress('0100007F');                         // '127.0.0.1'
 * decodeProcNetAddress('00000000000000000000000001000000'); // '::1'
 */
export function decodeProcNetAddress(hex: string, littleEndian = true): string | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  if (hex.length === 8) return wordBytes(hex, littleEndian).join('.');
  if (hex.length === 32) {
    const bytes: number[] = [];
    for (let i = 0; i < 32; i += 8) bytes.push(...wordBytes(hex.slice(i, i + 8), littleEndian));
    return formatIpv6(bytes);
  }
  return undefined;
}

/** Any row of /proc/net/tcp{,6}, whatever its state. */
export interface ProcNetSocketRow extends ProcNetListenRow {
  /** Two hex digits as the kernel prints them: `0A` LISTEN, `01` ESTABLISHED, `06` TIME_WAIT, ... */
  state: string;
  remoteAddress: string;
  remotePort: number;
}

function splitHexAddress(field: string, littleEndian: boolean): { address: string; port: number; hexLength: number } | undefined {
  const [addressHex, portHex] = field.split(':');
  if (addressHex === undefined || portHex === undefined || !/^[0-9A-Fa-f]{4}$/.test(portHex)) return undefined;
  const address = decodeProcNetAddress(addressHex, littleEndian);
  return address === undefined ? undefined : { address, port: parseInt(portHex, 16), hexLength: addressHex.length };
}

/**
 * Every socket row of the text of `/proc/net/tcp` or `/proc/net/tcp6`, whatever its state; the header, comment
 * lines and malformed lines are skipped.
 *
 * @example
 * parseProcNetSockets(text).filter((row) => row.state === '06'); // sockets in TIME_WAIT
 */
export function parseProcNetSockets(text: string, littleEndian = true): ProcNetSocketRow[] {
  const rows: ProcNetSocketRow[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || !/^\d+:$/.test(fields[0]) || !/^[0-9A-Fa-f]{2}$/.test(fields[3])) continue;
    const local = splitHexAddress(fields[1], littleEndian);
    const remote = splitHexAddress(fields[2], littleEndian);
    const uid = Number(fields[7]);
    const inode = Number(fields[9]);
    if (!local || !remote || !Number.isInteger(uid) || !Number.isInteger(inode)) continue;
    rows.push({
      address: local.address,
      port: local.port,
      family: local.hexLength === 8 ? 4 : 6,
      uid,
      inode,
      state: fields[3].toUpperCase(),
      remoteAddress: remote.address,
      remotePort: remote.port,
    });
  }
  return rows;
}

/**
 * The LISTEN rows (state `0A`) of the text of `/proc/net/tcp` or `/proc/net/tcp6`. `littleEndian` is the kernel's
 * byte order (`os.endianness() === 'LE'`), true on every common platform.
 *
 * @example
 * parseProcNetTcp(fs.readFileSync('/proc/net/tcp', 'utf8'));
 * // [{ address: '127.0.0.1', port: 3000, family: 4, uid: 1000, inode: 48213 }]
 */
export function parseProcNetTcp(text: string, littleEndian = true): ProcNetListenRow[] {
  return parseProcNetSockets(text, littleEndian)
    .filter((row) => row.state === TCP_LISTEN)
    .map(({ address, port, family, uid, inode }) => ({ address, port, family, uid, inode }));
}
