/**
 * Windows: who listens on a port, via `netstat -ano` for the sockets and PowerShell CIM for the processes.
 * Processes are started with argument arrays only; the PowerShell filter only ever contains validated integers.
 */
import { parseCimProcesses, CIM_PROCESS_COMMAND } from './cimParser';
import { groupSockets } from './darwinListeners';
import { parseNetstatListeners, type NetstatListenSocket } from './netstatParser';
import { runPowerShell } from './processTable';
import { firstAvailable, runTool } from './tools';
import type { Listener, ProcessInfo } from './types';

/** Listening TCP sockets from `netstat -ano` (IPv4 and IPv6), of one port or all. */
export async function netstatListenSockets(port?: number): Promise<NetstatListenSocket[]> {
  const purpose = 'find which process holds a port';
  return firstAvailable<NetstatListenSocket[]>(
    [
      { tool: 'netstat', run: async () => parseNetstatListeners((await runTool('netstat', ['-ano'], purpose, 'win32')).stdout, port) },
      // Without netstat.exe: the same rows from PowerShell's Get-NetTCPConnection.
      { tool: 'Get-NetTCPConnection', run: async () => parseNetTcpConnectionJson(await runPowerShell(NET_TCP_COMMAND, purpose), port) },
    ],
    purpose,
    'win32',
  );
}

/** PowerShell: every listening TCP socket as JSON (address, port, owning PID). */
export const NET_TCP_COMMAND =
  'Get-NetTCPConnection -State Listen | Select-Object LocalAddress,LocalPort,OwningProcess | ConvertTo-Json -Compress';

/**
 * Parses {@link NET_TCP_COMMAND}'s output: one object, or an array of them:
 * `[{"LocalAddress":"::","LocalPort":3000,"OwningProcess":4321},{"LocalAddress":"127.0.0.1","LocalPort":5173,"OwningProcess":77}]`.
 *
 * @example
 * parseNetTcpConnectionJson('{"LocalAddress":"0.0.0.0","LocalPort":3000,"OwningProcess":42}'); // [{ pid: 42, port: 3000, address: '0.0.0.0', family: 4 }]
 */
export function parseNetTcpConnectionJson(text: string, port?: number): NetstatListenSocket[] {
  if (text.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const rows = Array.isArray(parsed) ? parsed : [parsed];
  const sockets: NetstatListenSocket[] = [];
  for (const row of rows) {
    if (typeof row !== 'object' || row === null) continue;
    const { LocalAddress: address, LocalPort: p, OwningProcess: pid } = row as Record<string, unknown>;
    if (typeof address !== 'string' || !Number.isInteger(p) || !Number.isInteger(pid)) continue;
    if (port !== undefined && p !== port) continue;
    sockets.push({ pid: pid as number, port: p as number, address, family: address.includes(':') ? 6 : 4 });
  }
  return sockets;
}

/** ProcessInfo for the given PIDs from one CIM query (command line may be missing for other users' processes when not elevated). */
export async function cimProcessInfos(pids: readonly number[]): Promise<Map<number, ProcessInfo>> {
  const infos = new Map<number, ProcessInfo>();
  const wanted = pids.filter((pid) => Number.isInteger(pid) && pid > 0);
  if (wanted.length === 0) return infos;
  const filter = wanted.map((pid) => `ProcessId=${pid}`).join(' OR ');
  const command = CIM_PROCESS_COMMAND.replace('Win32_Process', `Win32_Process -Filter "${filter}"`);
  const stdout = await runPowerShell(command, 'read the command lines of the processes that hold a port');
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
