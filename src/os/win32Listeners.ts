/**
 * Windows: who listens on a port, via `netstat -ano` for the sockets and PowerShell CIM for the processes.
 * Processes are started with argument arrays only; the PowerShell filter only ever contains validated integers.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseCimProcesses, CIM_PROCESS_COMMAND } from './cimParser';
import { groupSockets } from './darwinListeners';
import { parseNetstatListeners, type NetstatListenSocket } from './netstatParser';
import type { Listener, ProcessInfo } from './types';

const execFileAsync = promisify(execFile);

/** Listening TCP sockets from `netstat -ano` (IPv4 and IPv6), of one port or all. */
export async function netstatListenSockets(port?: number): Promise<NetstatListenSocket[]> {
  const { stdout } = await execFileAsync('netstat', ['-ano'], { maxBuffer: 64 * 1024 * 1024, windowsHide: true });
  return parseNetstatListeners(stdout, port);
}

/** ProcessInfo for the given PIDs from one CIM query (command line may be missing for other users' processes when not elevated). */
export async function cimProcessInfos(pids: readonly number[]): Promise<Map<number, ProcessInfo>> {
  const infos = new Map<number, ProcessInfo>();
  const wanted = pids.filter((pid) => Number.isInteger(pid) && pid > 0);
  if (wanted.length === 0) return infos;
  const filter = wanted.map((pid) => `ProcessId=${pid}`).join(' OR ');
  const command = CIM_PROCESS_COMMAND.replace('Win32_Process', `Win32_Process -Filter "${filter}"`);
  const { stdout } = await execFileAsync('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', command], {
    maxBuffer: 64 * 1024 * 1024,
    windowsHide: true,
  });
  for (const entry of parseCimProcesses(stdout)) {
    const name = entry.name ?? `PID ${entry.pid}`;
    infos.set(entry.pid, { pid: entry.pid, ppid: entry.ppid, name, command: entry.command ?? name });
  }
  return infos;
}

/**
 * Listeners of one port or every port, with names and command lines.
 *
 * @example
 * await win32Listeners(3000); // [{ port: 3000, address: '::', pids: [4321], processes: [{ pid: 4321, name: 'node.exe', ... }] }]
 */
export async function win32Listeners(port?: number): Promise<Listener[]> {
  const sockets = await netstatListenSockets(port);
  const infos = await cimProcessInfos([...new Set(sockets.map((s) => s.pid))]);
  return groupSockets(sockets, infos);
}

/** Every listening TCP port, from one netstat call. */
export async function win32ListeningPorts(): Promise<Set<number>> {
  return new Set((await netstatListenSockets()).map((s) => s.port));
}
