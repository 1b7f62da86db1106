/**
 * Errors of the core. Each one says what happened, who is involved and what to do, in a sentence a user can act
 * on; adapters show `message` and may turn `remedy` into a button. Nothing here imports `vscode`.
 */
import type { Listener, ProcessInfo } from '../os/types';
import type { PortRange } from './types';

/** Stable machine-readable codes; the CLI maps `INVALID_INPUT` to exit code 2. */
export type DevPortsErrorCode =
  | 'INVALID_INPUT'
  | 'PORT_IN_USE'
  | 'PORT_RESERVED'
  | 'NO_FREE_PORT'
  | 'PERMISSION_DENIED'
  | 'LEDGER';

/**
 * Base class of every error the core throws on purpose.
 *
 * @example
 * try { await allocator.allocate(id); } catch (e) { if (e instanceof DevPortsError) console.error(e.message, e.remedy ?? ''); }
 */
export class DevPortsError extends Error {
  constructor(
    message: string,
    readonly code: DevPortsErrorCode,
    /** What the user can do about it, when there is something. */
    readonly remedy?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A bad port, range or project id. The CLI exits with code 2 on it.
 *
 * @example
 * throw new InvalidInputError('Port must be an integer from 1 to 65535, got "abc".');
 */
export class InvalidInputError extends DevPortsError {
  constructor(message: string) {
    super(message, 'INVALID_INPUT');
  }
}

const MAX_COMMAND_LENGTH = 120;

function shorten(command: string): string {
  const oneLine = command.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_COMMAND_LENGTH ? `${oneLine.slice(0, MAX_COMMAND_LENGTH - 1)}…` : oneLine;
}

function describeProcess(p: ProcessInfo): string {
  const command = p.command ? `: ${shorten(p.command)}` : '';
  return `${p.name || 'a process'} (PID ${p.pid}${command})`;
}

function joinWords(parts: string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/**
 * Every distinct process holding any of the listeners, first seen first.
 *
 * @example
 * holdersOf(await listListeners(3000)).map((p) => p.pid); // [1234]
 */
export function holdersOf(listeners: readonly Listener[]): ProcessInfo[] {
  const byPid = new Map<number, ProcessInfo>();
  for (const listener of listeners) {
    for (const p of listener.processes) if (!byPid.has(p.pid)) byPid.set(p.pid, p);
    // A PID without process details (it exited between the socket scan and the process read) still gets named.
    for (const pid of listener.pids) if (!byPid.has(pid)) byPid.set(pid, { pid, name: 'a process', command: '' });
  }
  return [...byPid.values()];
}

/** Who holds a socket that no process in sight has open, when that is not another user's doing. */
export const OUT_OF_SIGHT = 'a process Dev Ports cannot see from here (another PID namespace, a container or a VM)';

/**
 * True when a listening socket that no visible process holds is out of sight rather than another user's: it is
 * your own uid's, so nothing kept you from reading its process; that process runs in another PID namespace, a
 * container or a VM, and nothing here can stop it.
 *
 * @example
 * isOutOfSight(0, 0); // true: root's socket that root cannot attribute to a process here
 * isOutOfSight(1001, 1000); // false: another user's process, which only that user or root can inspect
 */
export function isOutOfSight(ownerUid: number | undefined, ownUid: number | undefined): boolean {
  return ownerUid !== undefined && ownUid !== undefined && ownerUid === ownUid;
}

/**
 * Human text for who holds a port: `node (PID 1234: node server.js)`, several joined with "and", or the owner uid
 * when the processes belong to another user and cannot be read.
 *
 * @example
 * describeHolders(await listListeners(3000)); // 'node (PID 1234: node server.js)'
 */
export function describeHolders(listeners: readonly Listener[]): string {
  const holders = holdersOf(listeners);
  if (holders.length > 0) return joinWords(holders.map(describeProcess));
  const uid = listeners.find((l) => l.ownerUid !== undefined)?.ownerUid;
  if (uid !== undefined && isOutOfSight(uid, process.getuid?.())) return OUT_OF_SIGHT;
  if (uid !== undefined) return `a process of another user (uid ${uid}) that Dev Ports cannot inspect`;
  return 'a process Dev Ports cannot see';
}

/**
 * The port is taken at the OS level.
 *
 * @example
 * new PortInUseError(3000, await listListeners(3000), 3001).message
 * // 'Port 3000 is in use by node (PID 1234: node server.js). Free it with "dev-ports free 3000" or use port 3001.'
 */
export class PortInUseError extends DevPortsError {
  readonly holders: ProcessInfo[];
  /** Owner of the socket when its processes could not be read (another user's). */
  readonly ownerUid?: number;

  constructor(
    readonly port: number,
    listeners: readonly Listener[],
    readonly suggestedPort?: number,
  ) {
    const remedy =
      suggestedPort !== undefined
        ? `Free it with "dev-ports free ${port}" or use port ${suggestedPort}.`
        : `Free it with "dev-ports free ${port}".`;
    super(`Port ${port} is in use by ${describeHolders(listeners)}. ${remedy}`, 'PORT_IN_USE', remedy);
    this.holders = holdersOf(listeners);
    this.ownerUid = this.holders.length === 0 ? listeners.find((l) => l.ownerUid !== undefined)?.ownerUid : undefined;
  }
}

/**
 * The port is reserved in the machine-wide ledger by another project.
 *
 * @example
 * new PortReservedError(3000, '/home/me/shop/apps/web', 1718000000000).message
 * // 'Port 3000 is reserved for /home/me/shop/apps/web since 2024-06-10T06:13:20.000Z. Release it with ...'
 */
export class PortReservedError extends DevPortsError {
  constructor(
    readonly port: number,
    readonly projectId: string,
    readonly since: number,
    readonly suggestedPort?: number,
  ) {
    const release = `Release it with "dev-ports release ${projectId}"`;
    const remedy = suggestedPort !== undefined ? `${release} or use port ${suggestedPort}.` : `${release}.`;
    super(
      `Port ${port} is reserved for ${projectId} since ${new Date(since).toISOString()}. ${remedy}`,
      'PORT_RESERVED',
      remedy,
    );
  }
}

/**
 * Every port of the range is in use or reserved.
 *
 * @example
 * throw new NoFreePortError({ start: 3000, end: 3999 });
 */
export class NoFreePortError extends DevPortsError {
  constructor(readonly range: PortRange) {
    const remedy =
      'Free one with "dev-ports free <port>", release old reservations with "dev-ports cleanup", or widen the range (devPorts.portRange).';
    super(`No free port in ${range.start}-${range.end}: every port is in use or reserved. ${remedy}`, 'NO_FREE_PORT', remedy);
  }
}

/**
 * A process belongs to another user, so it cannot be stopped from here.
 *
 * @example
 * throw new PermissionDeniedError(3000, { pid: 42, name: 'postgres', command: 'postgres -D /data', user: 'postgres' });
 */
export class PermissionDeniedError extends DevPortsError {
  constructor(
    readonly port: number | undefined,
    readonly process: ProcessInfo | { pid?: number; uid?: number; user?: string; name?: string; command?: string },
    options?: { cause?: unknown },
  ) {
    const who = process.pid !== undefined ? `${process.name || 'Process'} (PID ${process.pid})` : 'The process';
    const owner = process.user ?? (process.uid !== undefined ? `uid ${process.uid}` : 'another user');
    const on = port !== undefined ? ` listening on port ${port}` : '';
    const remedy = 'Stop it as that user (or with sudo), or pick another port.';
    super(`${who}${on} belongs to ${owner}; Dev Ports cannot stop it. ${remedy}`, 'PERMISSION_DENIED', remedy, options);
  }
}

/**
 * The machine-wide ledger could not be read or written (permissions, a full disk, a lock that never frees).
 *
 * @example
 * throw new LedgerError('Cannot write /home/me/.local/state/dev-ports/ports: EACCES.', { cause });
 */
export class LedgerError extends DevPortsError {
  constructor(message: string, options?: { cause?: unknown; remedy?: string }) {
    super(message, 'LEDGER', options?.remedy, { cause: options?.cause });
  }
}
