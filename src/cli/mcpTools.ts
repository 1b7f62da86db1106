/**
 * The agent tools outside VS Code (`dev-ports mcp`): projects from the current folder, reservations from the
 * machine-wide ledger, and dev servers run as detached background processes whose output goes to a log file.
 * Which servers Dev Ports started is kept in `<ledger home>/servers/` (one JSON file per project), so a restarted
 * MCP server (clients restart them freely) still knows what it may stop without asking.
 *
 * Policy for freeing a port: a server started here is stopped (and its port released); any other process only
 * when the call says `force: true`. Agents must not kill foreign processes silently; the tool's description tells
 * the model to ask the user first, and without `force` the result names the holders and stops nothing.
 */
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  buildListPorts,
  findProject,
  localUrl,
  type AgentProcess,
  type AgentServerFact,
  type FreeToolResult,
  type ListPortsResult,
  type StartToolResult,
  type StopToolResult,
} from '../core/agentTools';
import { PortAllocator } from '../core/allocator';
import { DevPortsError } from '../core/errors';
import { Ledger } from '../core/ledger';
import { createMemoryStore } from '../core/memoryStore';
import { devServerCommand, discoverProjects, type Project } from '../core/projects';
import type { Logger, PortRange } from '../core/types';
import { descendants, snapshotProcessTable } from '../os/index';
import type { PortOs } from '../os/types';
import { DEFAULT_RANGE } from './args';

/** A dev server this host started, as recorded on disk. */
export interface StartedServer {
  projectId: string;
  port: number;
  pid: number;
  startedAt: number;
  log: string;
  command: string;
}

export interface CliAgentHostOptions {
  os: PortOs;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** Folders whose projects the tools see (the MCP client's roots, else its working directory). */
  roots: string[];
  range?: PortRange;
  /** How long start waits for the server to listen before answering "starting". */
  startTimeoutMs?: number;
  gracePeriodMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CliAgentHost {
  private readonly ledger: Ledger;
  private readonly allocator: PortAllocator;
  private readonly serversDir: string;
  private readonly logsDir: string;
  private readonly range: PortRange;

  constructor(private readonly options: CliAgentHostOptions) {
    this.ledger = new Ledger({ home: Ledger.defaultHome(options.env), logger: options.logger });
    this.range = options.range ?? { ...DEFAULT_RANGE };
    // Owned by this process; the ledger also records each server's PID, so the reservation holds while the server
    // runs even after this MCP server is gone.
    this.allocator = new PortAllocator({
      store: createMemoryStore(),
      ledger: this.ledger,
      os: options.os,
      logger: options.logger,
      range: () => this.range,
      owner: { pid: process.pid, kind: 'cli' },
    });
    this.serversDir = path.join(this.ledger.home, 'servers');
    this.logsDir = path.join(this.ledger.home, 'logs');
  }

  projects(): Project[] {
    return discoverProjects(this.options.roots, { logger: this.options.logger });
  }

  /** The folders whose projects the tools see from now on (the MCP client's roots, when it has them). */
  setRoots(roots: readonly string[]): void {
    if (roots.length > 0) this.options.roots = [...roots];
  }

  get roots(): readonly string[] {
    return this.options.roots;
  }

  private recordFile(projectId: string): string {
    return path.join(this.serversDir, `${crypto.createHash('sha1').update(projectId).digest('hex').slice(0, 16)}.json`);
  }

  /** Servers this host (or an earlier `dev-ports mcp`) started, including those that have exited since. */
  started(): StartedServer[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.serversDir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: StartedServer[] = [];
    for (const name of names) {
      try {
        const s = JSON.parse(fs.readFileSync(path.join(this.serversDir, name), 'utf8')) as StartedServer;
        if (typeof s.projectId === 'string' && Number.isInteger(s.pid) && Number.isInteger(s.port)) out.push(s);
      } catch {
        // A record being written or a foreign file: skipped.
      }
    }
    return out;
  }

  private record(server: StartedServer): void {
    fs.mkdirSync(this.serversDir, { recursive: true });
    const file = this.recordFile(server.projectId);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(server, null, 2));
    fs.renameSync(`${file}.tmp`, file);
  }

  private forget(projectId: string): void {
    fs.rmSync(this.recordFile(projectId), { force: true });
  }

  private resolve(query: string): Project {
    return findProject(this.projects(), query, this.options.roots);
  }

  /** PIDs of every live tree of a started server (its group and its descendants), by project id. */
  private async ownedPids(servers: readonly StartedServer[]): Promise<Map<number, string>> {
    const owned = new Map<number, string>();
    if (servers.length === 0) return owned;
    const table = await snapshotProcessTable();
    for (const s of servers) {
      if (!table.has(s.pid) && ![...table.values()].some((e) => e.pgid === s.pid)) continue;
      owned.set(s.pid, s.projectId);
      for (const pid of descendants(table, s.pid)) owned.set(pid, s.projectId);
      // The server is its group's leader (spawned detached): a member re-parented away still belongs to it.
      for (const e of table.values()) if (e.pgid === s.pid) owned.set(e.pid, s.projectId);
    }
    return owned;
  }

  async listPorts(): Promise<ListPortsResult> {
    const { os } = this.options;
    const projects = this.projects();
    const started = this.started();
    const [listeners, owned] = await Promise.all([os.listListeners(), this.ownedPids(started)]);
    const reservations = new Map(this.ledger.entries().map((e) => [e.projectId, e.port] as [string, number]));
    const listeningPorts = new Set(listeners.map((l) => l.port));
    const servers: AgentServerFact[] = [];
    for (const s of started) {
      const alive = [...owned.values()].includes(s.projectId);
      if (!alive) {
        // It ended by itself: say so once, give its port back, and forget it.
        servers.push({ projectId: s.projectId, port: s.port, state: 'exited', note: `exited; its output is in ${s.log}` });
        await this.allocator.releasePortForProject(s.projectId).catch(() => undefined);
        this.forget(s.projectId);
        reservations.delete(s.projectId);
        continue;
      }
      servers.push({ projectId: s.projectId, port: s.port, state: listeningPorts.has(s.port) ? 'listening' : 'starting', pid: s.pid });
    }
    return buildListPorts({ projects, reservations, servers, listeners, range: this.range, ownedPids: owned, url: localUrl });
  }

  async start(query: string): Promise<StartToolResult> {
    const { os, logger } = this.options;
    const project = this.resolve(query);
    const mine = this.started().find((s) => s.projectId === project.id);
    if (mine && os.isProcessAlive(mine.pid)) {
      return { projectId: project.id, port: mine.port, url: localUrl(mine.port), started: false, output: mine.log };
    }
    if (mine) this.forget(project.id);
    const reserved = this.ledger.findByProject(project.id);
    if (reserved?.owner && reserved.owner.pid !== process.pid && os.isProcessAlive(reserved.owner.pid) && !(await os.isPortAvailable(reserved.port))) {
      // It already runs from a VS Code window or a `dev-ports run`: its port is the answer, not a second server.
      return { projectId: project.id, port: reserved.port, url: localUrl(reserved.port), started: false };
    }
    const allocation = await this.allocator.allocate(project.id, project.port !== undefined ? { preferredPort: project.port } : {});
    const port = allocation.port;
    let cmd;
    try {
      cmd = devServerCommand(project, port);
    } catch (e) {
      await this.allocator.releasePortForProject(project.id);
      throw e;
    }
    fs.mkdirSync(this.logsDir, { recursive: true });
    const log = path.join(this.logsDir, `${path.basename(project.folder) || 'project'}-${port}.log`);
    const fd = fs.openSync(log, 'a');
    const commandLine = [cmd.command, ...cmd.args].join(' ');
    fs.writeSync(fd, `\n[dev-ports] ${new Date().toISOString()} PORT=${port} ${commandLine} (in ${project.folder})\n`);
    const child = spawn(cmd.command, cmd.args, {
      cwd: project.folder,
      env: { ...this.options.env, ...cmd.env },
      // Its own session and process group: it outlives this MCP server, and a stop signals the whole group.
      detached: process.platform !== 'win32',
      stdio: ['ignore', fd, fd],
      shell: cmd.shell === true,
      windowsHide: true,
    });
    fs.closeSync(fd);
    const spawnError = await new Promise<Error | undefined>((resolve) => {
      child.once('error', resolve);
      child.once('spawn', () => resolve(undefined));
    });
    if (spawnError || child.pid === undefined) {
      await this.allocator.releasePortForProject(project.id);
      throw new DevPortsError(`Cannot start ${project.name}: ${spawnError?.message ?? 'no process'} (${commandLine}).`, 'INVALID_INPUT');
    }
    let exited: number | string | undefined;
    child.once('exit', (code, signal) => (exited = code ?? signal ?? 'unknown'));
    child.unref();
    const pid = child.pid;
    await this.allocator.setPid(project.id, pid);
    this.record({ projectId: project.id, port, pid, startedAt: Date.now(), log, command: commandLine });
    logger.info(`[mcp] started ${project.name} on ${port} (PID ${pid}): ${commandLine}`);

    const deadline = Date.now() + (this.options.startTimeoutMs ?? 30_000);
    while (Date.now() < deadline && exited === undefined) {
      if (!(await os.isPortAvailable(port))) {
        return { projectId: project.id, port, url: localUrl(port), started: true, output: log };
      }
      await sleep(100);
    }
    if (exited !== undefined) {
      await this.allocator.releasePortForProject(project.id).catch(() => undefined);
      this.forget(project.id);
      const tail = readTail(log, 1500);
      throw new DevPortsError(`${project.name} exited (${exited}) before listening on port ${port}. Its output (${log}):\n${tail}`, 'INVALID_INPUT');
    }
    return { projectId: project.id, port, url: localUrl(port), started: true, output: `${log} (not listening yet: still starting)` };
  }

  /** Stops a started server's whole group and tree; resolves to the PIDs that were stopped. */
  private async stopTree(server: StartedServer): Promise<number[]> {
    const { os } = this.options;
    const grace = this.options.gracePeriodMs ?? 3000;
    const owned = [...(await this.ownedPids([server]))].map(([pid]) => pid);
    if (process.platform !== 'win32') {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // The group is gone or was never one (Windows).
      }
    }
    const killed = new Set<number>();
    const protectedPids = [process.pid, process.ppid];
    for (const pid of [server.pid, ...owned]) {
      if (!os.isProcessAlive(pid)) {
        killed.add(pid);
        continue;
      }
      for (const k of await os.killProcessTree(pid, { gracePeriodMs: grace, protectedPids }).catch(() => [] as number[])) killed.add(k);
    }
    await os.waitForPortAvailable(server.port, { timeoutMs: grace + 2000 });
    return [...killed].filter((pid) => owned.includes(pid) || pid === server.pid).sort((a, b) => a - b);
  }

  async stop(query: string): Promise<StopToolResult & { killedPids: number[] }> {
    const started = this.started();
    let project: Project | undefined;
    try {
      project = this.resolve(query);
    } catch (e) {
      // A server started here whose folder no longer is a project can still be stopped by its id.
      if (!started.some((s) => s.projectId === query)) throw e;
    }
    const projectId = project?.id ?? query;
    const server = started.find((s) => s.projectId === projectId);
    if (server) {
      const killedPids = await this.stopTree(server);
      const released = await this.allocator.releasePortForProject(projectId);
      this.forget(projectId);
      return { projectId, port: server.port, released, killedPids };
    }
    const reserved = this.ledger.findByProject(projectId);
    if (!reserved) return { projectId, port: null, released: false, killedPids: [] };
    if (reserved.owner && reserved.owner.pid !== process.pid && this.options.os.isProcessAlive(reserved.owner.pid)) {
      const where = reserved.owner.kind === 'vscode' ? `a VS Code window (PID ${reserved.owner.pid})` : `"dev-ports run" (PID ${reserved.owner.pid})`;
      throw new DevPortsError(
        `${project?.name ?? projectId} runs on port ${reserved.port} from ${where}, not from this MCP server; stop it there (Dev Ports leaves what it did not start here alone).`,
        'PORT_RESERVED',
      );
    }
    // Only a reservation (dev-ports reserve, or a crashed owner): release it; whatever listens is not ours to kill.
    const released = await this.allocator.releasePortForProject(projectId);
    return { projectId, port: reserved.port, released, killedPids: [] };
  }

  async freePort(port: number, force: boolean): Promise<FreeToolResult> {
    const { os } = this.options;
    const listeners = await os.listListeners(port);
    if (listeners.length === 0) return { port, killedPids: [], free: await os.isPortAvailable(port) };
    const holders: AgentProcess[] = listeners.flatMap((l) =>
      l.pids.map((pid) => {
        const p = l.processes.find((x) => x.pid === pid);
        return { pid, name: p?.name ?? '?', command: p?.command ?? '' };
      }),
    );
    const started = this.started();
    const owned = await this.ownedPids(started);
    const owners = new Set(holders.map((h) => owned.get(h.pid)));
    const [owner] = owners;
    if (owners.size === 1 && owner !== undefined) {
      const server = started.find((s) => s.projectId === owner)!;
      const killedPids = await this.stopTree(server);
      await this.allocator.releasePortForProject(owner);
      this.forget(owner);
      return { port, killedPids, free: await os.isPortAvailable(port), note: `stopped the dev server of ${owner}, which Dev Ports started, and released its port` };
    }
    if (!force) {
      const who = holders.map((h) => `${h.name} (PID ${h.pid}${h.command ? `: ${h.command}` : ''})`).join(', ');
      return {
        port,
        killedPids: [],
        free: false,
        holders,
        note: `Port ${port} is held by ${who}, which Dev Ports did not start. Nothing was stopped: ask the user, and call again with force: true only if they agree.`,
      };
    }
    if (listeners.some((l) => l.pids.length === 0)) {
      throw new DevPortsError(`Port ${port} is held by a process Dev Ports cannot see (another user or namespace); it cannot be stopped from here.`, 'PERMISSION_DENIED');
    }
    const result = await os.killProcessesOnPort(port, { gracePeriodMs: this.options.gracePeriodMs ?? 3000, protectedPids: [process.pid, process.ppid] });
    const out: FreeToolResult = { port, killedPids: [...result.killedPids].sort((a, b) => a - b), free: result.free };
    if (!result.free) out.holders = (await os.listListeners(port)).flatMap((l) => l.processes.map((p) => ({ pid: p.pid, name: p.name, command: p.command })));
    return out;
  }
}

function readTail(file: string, bytes: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-bytes).trim();
  } catch {
    return '(no output)';
  }
}
