/**
 * Processes a project started that left its terminal's process tree: a script that daemonises its server
 * (`nohup … &`, `setsid`, a process manager) and returns. They are recognised by facts, never by waiting: a live
 * process outside the terminal whose working directory is inside the project folder and whose environment carries
 * the `PORT` the terminal was given (Linux), or that listens on the project's port from inside the project folder.
 * Foreign holders are never in these lists.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Project } from '../../core/projects';
import { readLinuxProcessInfo, type ProcessTable } from '../../os/index';
import type { PortOs } from '../../os/types';

function inFolder(cwd: string | undefined, folder: string): boolean {
  if (cwd === undefined) return false;
  const withSep = folder.endsWith(path.sep) ? folder : folder + path.sep;
  return cwd === folder || cwd.startsWith(withSep);
}

/** `PORT=<port>` in the process's environment (Linux; elsewhere the environment cannot be read: false). */
function hasPortEnv(pid: number, port: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`PORT=${port}`);
  } catch {
    return false;
  }
}

/**
 * Listeners on `port` that the project started outside its terminal: their working directory is inside the project
 * folder. All or nothing: a port shared with a process from elsewhere is not ours to free.
 */
export async function projectHolders(os: PortOs, project: Project, port: number): Promise<number[]> {
  const listeners = await os.listListeners(port);
  const processes = listeners.flatMap((l) => l.processes);
  const tied = processes.filter((p) => inFolder(p.cwd, project.folder));
  return tied.length > 0 && tied.length === processes.length ? tied.map((p) => p.pid) : [];
}

/**
 * Live processes outside `exclude` (the terminal's shell and its tree) that the project's dev script handed its
 * server to: started from the project folder with the terminal's `PORT`. On Linux this finds a daemon before it
 * binds; elsewhere only a listener from the project folder counts.
 */
export async function findDaemonised(os: PortOs, project: Project, port: number, table: ProcessTable, exclude: ReadonlySet<number>): Promise<number[]> {
  const found = new Set<number>();
  if (process.platform === 'linux') {
    for (const entry of table.values()) {
      if (exclude.has(entry.pid) || entry.pid === process.pid || entry.state === 'Z') continue;
      if (!hasPortEnv(entry.pid, port)) continue;
      if (inFolder(readLinuxProcessInfo(entry.pid)?.cwd, project.folder)) found.add(entry.pid);
    }
  }
  if (found.size === 0) for (const pid of await projectHolders(os, project, port)) if (!exclude.has(pid)) found.add(pid);
  return [...found].sort((a, b) => a - b);
}

/** After the terminal's jobs were stopped: stops what the project started that still holds its port. */
export async function stopLeftovers(
  os: PortOs,
  project: Project,
  port: number,
  options: { gracePeriodMs: number; protectedPids: number[]; log: (message: string) => void },
): Promise<number[]> {
  if (await os.isPortAvailable(port)) return [];
  const holders = await projectHolders(os, project, port);
  if (holders.length === 0) return [];
  options.log(`${project.name}: :${port} is still held by PID ${holders.join(', ')}, started from its folder outside the terminal; stopping it`);
  const result = await os.killProcessesOnPort(port, { gracePeriodMs: options.gracePeriodMs, protectedPids: options.protectedPids });
  return result.killedPids;
}
