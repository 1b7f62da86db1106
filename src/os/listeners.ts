/**
 * Platform dispatch for "who listens": /proc on Linux, lsof on macOS and the BSDs, netstat + CIM on Windows.
 */
import { darwinListeners, darwinListeningPorts } from './darwinListeners';
import { linuxListenersAsync, linuxListeningPorts, linuxPortPidsAsync } from './linuxListeners';
import { linuxToolListeners, procNetReadable } from './linuxToolListeners';
import { familiesBound } from './portCheck';
import { assertPort } from './validate';
import { win32Listeners, win32ListeningPorts } from './win32Listeners';
import type { Listener } from './types';

function compareAddresses(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Listening TCP sockets of one port, or of every port, grouped by (port, address), sorted by port then address.
 * A listener whose processes cannot be read (another user's) has empty `pids` and, on Linux, its `ownerUid`.
 * On Linux the /proc walk runs in slices of a few milliseconds, so a caller's event loop is never held for long.
 *
 * @example
 * for (const l of await listListeners(3000)) console.log(l.address, l.pids, l.processes.map((p) => p.command));
 */
export async function listListeners(port?: number, options: { hintPids?: readonly number[] } = {}): Promise<Listener[]> {
  if (port !== undefined) assertPort(port);
  let listeners: Listener[];
  if (process.platform === 'linux') listeners = procNetReadable() ? await linuxListenersAsync(port, options) : await linuxToolListeners(port);
  else if (process.platform === 'win32') listeners = await win32Listeners(port);
  else listeners = await darwinListeners(port);
  return listeners.sort((a, b) => a.port - b.port || compareAddresses(a.address, b.address));
}

let probeReady = false;

/**
 * PIDs listening on `port` (any local address), sorted and unique. Clients connected to the port are not included.
 *
 * @example
 * await findProcessesOnPort(3000); // [4321]
 */
export async function findProcessesOnPort(port: number): Promise<number[]> {
  assertPort(port);
  // Only the tables of the address families that have a socket bound on the port are read. Not on a process's
  // first look-up: its first bind sets up libuv's TCP handles (10–30 ms measured on a loaded machine), more than
  // the walk of /proc/net/tcp6 the probe would save (~2 ms), which is what the CLI's one call pays.
  if (process.platform === 'linux' && procNetReadable()) {
    // The same first call reads the /proc/net heads on this thread too (the threadpool's start costs ~2 ms);
    // later calls read them off the event loop.
    const first = !probeReady;
    const families = first ? undefined : await familiesBound(port);
    probeReady = true;
    return linuxPortPidsAsync(port, families, first);
  }
  const pids = new Set<number>();
  for (const listener of await listListeners(port)) for (const pid of listener.pids) pids.add(pid);
  return [...pids].sort((a, b) => a - b);
}

/**
 * Every listening TCP port, from one snapshot (Linux: one read of /proc/net/tcp{,6}; elsewhere one lsof/netstat).
 *
 * @example
 * const busy = await listeningPorts(); if (busy.has(3000)) ...
 */
export async function listeningPorts(): Promise<Set<number>> {
  if (process.platform === 'linux') return procNetReadable() ? linuxListeningPorts() : new Set((await linuxToolListeners()).map((l) => l.port));
  if (process.platform === 'win32') return win32ListeningPorts();
  return darwinListeningPorts();
}
