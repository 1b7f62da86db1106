/**
 * The OS layer: sockets, /proc, lsof, netstat/PowerShell and signals, behind one set of functions that pick the
 * platform's way. Nothing here imports `vscode`.
 */
import { isProcessAlive, killProcessesOnPort, killProcessTree } from './killer';
import { findProcessesOnPort, listeningPorts, listListeners } from './listeners';
import { findAvailablePort, isPortAvailable, waitForPortAvailable } from './portCheck';
import type { PortOs } from './types';

export { isPortAvailable, findAvailablePort, waitForPortAvailable } from './portCheck';
export { findProcessesOnPort, listListeners, listeningPorts } from './listeners';
export { isProcessAlive, killProcessesOnPort, killProcessTree, treeRoot } from './killer';
export { assertPort, assertRange, assertPid } from './validate';
export { snapshotProcessTable, lazyProcessTable, childEntries, descendants, ancestors } from './processTable';
export type { ProcessEntry, ProcessTable } from './processTable';
export { readLinuxProcessInfo } from './linuxListeners';
export { OsAccessError, ProtectedProcessError } from './errors';
export { MissingToolError, onToolNotice, toolNotices } from './tools';
export type { OsAccessDetails } from './errors';
export type { KillOptions, KillResult, Listener, PortOs, ProcessInfo, StoppedProcess, WaitOptions } from './types';

/**
 * The real OS for the core's allocator and the adapters.
 *
 * @example
 * const allocator = new PortAllocator({ store, ledger, os: nodeOs });
 */
export const nodeOs: PortOs = {
  isPortAvailable,
  findProcessesOnPort,
  listListeners: (port?: number) => listListeners(port),
  listeningPorts,
  killProcessesOnPort,
  waitForPortAvailable,
  findAvailablePort,
  isProcessAlive,
  killProcessTree,
};
