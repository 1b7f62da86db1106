/**
 * macOS (and other BSDs): who listens on a port, via `lsof` for the sockets and `ps` for the command lines.
 * Processes are started with argument arrays only. `-sTCP:LISTEN` matters: without it lsof also lists clients
 * connected to the port (a browser tab), the classic "killed the wrong process" bug.
 */
import { parseLsofCwd, parseLsofListeners, type LsofListenSocket } from './lsofParser';
import { parsePsTable } from './processTable';
import { runTool, type ToolResult } from './tools';
import type { Listener, ProcessInfo } from './types';

const PURPOSE = 'find which process holds a port';

/** Runs a tool; a non-zero exit is not an error here (lsof exits 1 when nothing matched). A missing tool names its package. */
function run(file: string, args: string[], platform: NodeJS.Platform): Promise<ToolResult> {
  return runTool(file, args, file === 'ps' ? 'read the command lines of the processes that hold a port' : PURPOSE, platform);
}

/** Listening sockets from lsof, of one port or all. */
export async function lsofListenSockets(port?: number, platform: NodeJS.Platform = process.platform): Promise<LsofListenSocket[]> {
  const args = ['-nP', port === undefined ? '-iTCP' : `-iTCP:${port}`, '-sTCP:LISTEN', '-FpcuLtnT'];
  const { stdout, status } = await run('lsof', args, platform);
  // Exit 1 with no output is "nothing matched"; with output it is a partial answer (e.g. one unreadable process).
  if (status !== 0 && stdout.trim() === '') return [];
  return parseLsofListeners(stdout, port);
}

/**
 * Listeners of one port or every port, with command lines (from `ps`) and working directories (from lsof).
 *
 * @example
 * await darwinListeners(3000); // [{ port: 3000, address: '::1', pids: [4321], processes: [{ pid: 4321, name: 'node', ... }] }]
 */
export async function darwinListeners(port?: number, platform: NodeJS.Platform = process.platform): Promise<Listener[]> {
  const sockets = await lsofListenSockets(port, platform);
  const pids = [...new Set(sockets.map((s) => s.pid))].sort((a, b) => a - b);
  const infos = new Map<number, ProcessInfo>();
  if (pids.length > 0) {
    const [ps, cwd] = await Promise.all([
      run('ps', ['-o', 'pid=,ppid=,pgid=,uid=,command=', '-p', pids.join(',')], platform),
      run('lsof', ['-a', '-d', 'cwd', '-p', pids.join(','), '-Fpn'], platform),
    ]);
    const cwds = parseLsofCwd(cwd.stdout);
    const rows = new Map(parsePsTable(ps.stdout).map((row) => [row.pid, row]));
    for (const socket of sockets) {
      if (infos.has(socket.pid)) continue;
      const row = rows.get(socket.pid);
      const info: ProcessInfo = { pid: socket.pid, name: socket.command, command: row?.command ?? socket.command };
      if (row) info.ppid = row.ppid;
      const dir = cwds.get(socket.pid);
      if (dir !== undefined) info.cwd = dir;
      if (socket.uid !== undefined) info.uid = socket.uid;
      if (socket.login !== undefined) info.user = socket.login;
      infos.set(socket.pid, info);
    }
  }
  return groupSockets(sockets, infos);
}

/** Groups sockets by (port, address), PIDs sorted and unique. */
export function groupSockets(sockets: readonly { pid: number; port: number; address: string; uid?: number }[], infos: ReadonlyMap<number, ProcessInfo>): Listener[] {
  const byKey = new Map<string, Listener>();
  for (const socket of sockets) {
    const key = `${socket.port} ${socket.address}`;
    let listener = byKey.get(key);
    if (!listener) {
      listener = { port: socket.port, address: socket.address, pids: [], processes: [] };
      if (socket.uid !== undefined) listener.ownerUid = socket.uid;
      byKey.set(key, listener);
    }
    if (listener.pids.includes(socket.pid)) continue;
    listener.pids.push(socket.pid);
    const info = infos.get(socket.pid);
    if (info) listener.processes.push(info);
  }
  for (const listener of byKey.values()) {
    listener.pids.sort((a, b) => a - b);
    listener.processes.sort((a, b) => a.pid - b.pid);
  }
  return [...byKey.values()];
}

/** Every listening TCP port, from one lsof call. */
export async function darwinListeningPorts(): Promise<Set<number>> {
  return new Set((await lsofListenSockets()).map((s) => s.port));
}
