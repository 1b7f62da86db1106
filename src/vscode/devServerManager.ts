import * as path from 'path';
import * as vscode from 'vscode';
import type { PortAllocator } from '../core/allocator';
import { DevPortsError, PortInUseError, PortReservedError } from '../core/errors';
import { announcedPorts } from '../core/portAnnouncements';
import { devServerCommand, type Project } from '../core/projects';
import type { Allocation, Logger } from '../core/types';
import { descendants, snapshotProcessTable, type ProcessTable } from '../os/index';
import type { PortOs } from '../os/types';
import type { Config } from './config';
import type { ConflictMode, Conflicts } from './conflicts';
import { errorMessage } from './log';
import type { ServerInfo } from './portsModel';
import { quoteCommandLine, shellKindOf } from './shellQuote';

export type ServerState = 'starting' | 'running' | 'stopping';

/** A dev server Dev Ports runs in an integrated terminal. */
export interface DevServer {
  readonly project: Project;
  readonly terminal: vscode.Terminal;
  readonly terminalName: string;
  port: number;
  state: ServerState;
  /** PID of the terminal's shell; the dev server is the job it runs. */
  shellPid?: number;
  readonly startedAt: number;
  /** The command line that was sent, for the tree's tooltip. */
  readonly commandLine: string;
  execution?: vscode.TerminalShellExecution;
  /** The port was seen listening at least once. */
  seenListening: boolean;
  /** The shell was seen running a job (the command) at least once. */
  sawJob?: boolean;
}

/** The project already runs from another VS Code window (its extension host holds the reservation). */
export class OtherWindowError extends DevPortsError {
  constructor(project: Project, port: number, hostPid: number) {
    super(
      `${project.name} already runs on port ${port} from another VS Code window (extension host PID ${hostPid}). Stop it there, or free port ${port} first.`,
      'PORT_RESERVED',
    );
  }
}

export interface StartOptions {
  /** What to do when the port is held by a process Dev Ports did not start; default `ask`. */
  onConflict?: ConflictMode;
  /** Port to ask for (a restart keeps its port); a conflict on it goes through `onConflict`. */
  port?: number;
}

export interface StartResult {
  projectId: string;
  port: number;
  terminalName: string;
}

export interface StopResult {
  projectId: string;
  port: number | undefined;
  released: boolean;
  /** Processes that were stopped (beyond the contract's shape, for Free Port on a port of our own server). */
  killedPids?: number[];
}

/** The user chose not to go on (dismissed a question); commands resolve to `undefined`, nothing is shown. */
export class CancelledError extends Error {
  constructor() {
    super('Cancelled.');
    this.name = 'CancelledError';
  }
}

/** Starting is refused in an untrusted workspace: scripts come from the workspace. */
export class UntrustedWorkspaceError extends Error {
  constructor(project: Project) {
    super(
      `Dev Ports does not start ${project.name}: this workspace is not trusted, and its dev script comes from the workspace. Trust the workspace to start dev servers; listing and freeing ports still work.`,
    );
    this.name = 'UntrustedWorkspaceError';
  }
}

/** How long a dev script that exited 0 before its port was seen may take to show a daemonised server listening. */
const DAEMON_SETTLE_MS = 1500;
/** A shell that never showed a job this long after the start is taken as done (its command ended at once). */
const NO_JOB_EXIT_MS = 30_000;
const SHELL_INTEGRATION_TIMEOUT_MS = 3000;
const POLL_STARTING_MS = 500;
const POLL_RUNNING_MS = 2000;
const LAST_PORTS_KEY = 'devPorts.lastPorts';

export interface DevServerManagerDeps {
  allocator: PortAllocator;
  os: PortOs;
  config: Config;
  conflicts: Conflicts;
  state: vscode.Memento;
  logger: Logger;
  /** The editor's own PIDs, never to be signalled. */
  protectedPids: () => Promise<number[]>;
}

/**
 * Runs dev servers in integrated terminals with the port the allocator gave them, and gives the port back when
 * they stop, crash or their terminal is closed.
 *
 * Beware: closing a terminal only SIGHUPs its shell about 260 ms later, and a server that ignores SIGHUP (or was
 * started with nohup/setsid) keeps its port. So every way a server ends kills the shell's jobs as process trees
 * here, starting while the shell still exists so the tree can be walked before its members are re-parented.
 *
 * @example
 * const result = await manager.start(project, { onConflict: 'ask' }); // { projectId, port: 3000, terminalName: 'web :3000' }
 * await manager.stop(project); // { projectId, port: 3000, released: true }
 */
export class DevServerManager implements vscode.Disposable {
  private readonly servers = new Map<string, DevServer>();
  private readonly pendingStarts = new Map<string, Promise<StartResult>>();
  private readonly pendingStops = new Map<string, Promise<StopResult>>();
  /** Terminals of servers that exited by themselves, kept open so their output can be read. */
  private readonly exitedTerminals = new Map<string, vscode.Terminal>();
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  readonly onDidChange = this.emitter.event;

  constructor(private readonly deps: DevServerManagerDeps) {
    this.disposables.push(
      vscode.window.onDidCloseTerminal((t) => void this.onTerminalClosed(t)),
      vscode.window.onDidEndTerminalShellExecution((e) => this.onExecutionEnded(e)),
      vscode.window.onDidStartTerminalShellExecution((e) => {
        // The command runs: from now on a shell without a job means it ended (see poll()).
        for (const server of this.servers.values()) if (server.terminal === e.terminal) server.sawJob = true;
      }),
    );
  }

  get(projectId: string): DevServer | undefined {
    return this.servers.get(projectId);
  }

  list(): DevServer[] {
    return [...this.servers.values()];
  }

  /** The servers as the Servers view, the status bar and the API read them (INTERFACES.md `ServerInfo`). */
  infos(): ServerInfo[] {
    return this.list().map((s) => {
      const info: ServerInfo = {
        projectId: s.project.id,
        port: s.port,
        state: s.seenListening || s.state === 'running' ? 'listening' : 'starting',
        startedAt: s.startedAt,
        commandLine: s.commandLine,
        terminalName: s.terminalName,
      };
      if (s.state === 'stopping') info.phase = 'stopping';
      if (s.shellPid !== undefined) info.shellPid = s.shellPid;
      return info;
    });
  }

  /** Projects whose start is under way (before their terminal exists). */
  startingIds(): string[] {
    return [...this.pendingStarts.keys()];
  }

  /**
   * Starts the project's dev server, or reveals its terminal when it already runs. Concurrent calls for the same
   * project share one start: one terminal, one allocation.
   */
  start(project: Project, options: StartOptions = {}): Promise<StartResult> {
    const running = this.servers.get(project.id);
    if (running && running.state !== 'stopping') {
      try {
        running.terminal.show(true);
        return Promise.resolve({ projectId: project.id, port: running.port, terminalName: running.terminalName });
      } catch {
        // Disposed a moment ago, its close event still on the way: clean up now (as a pending stop the start
        // below waits for), then start afresh.
        void this.onTerminalClosed(running.terminal);
      }
    }
    const pending = this.pendingStarts.get(project.id);
    if (pending) return pending;
    const start = (async () => {
      const stopping = this.pendingStops.get(project.id);
      if (stopping) await stopping.catch(() => undefined);
      return this.doStart(project, options);
    })().finally(() => this.pendingStarts.delete(project.id));
    this.pendingStarts.set(project.id, start);
    this.fire();
    return start;
  }

  /** Stops the project's dev server (its whole process tree), closes its terminal and releases its port. */
  stop(project: Project): Promise<StopResult> {
    const pending = this.pendingStops.get(project.id);
    if (pending) return pending;
    const stop = (async () => {
      const starting = this.pendingStarts.get(project.id);
      if (starting) await starting.catch(() => undefined);
      return this.doStop(project);
    })().finally(() => this.pendingStops.delete(project.id));
    this.pendingStops.set(project.id, stop);
    return stop;
  }

  /**
   * Runs a clean-up (terminal closed by hand, server exited) as the project's pending stop, so a start that comes
   * meanwhile waits for it instead of racing it for the same project and port.
   */
  private trackStop(projectId: string, cleanup: () => Promise<StopResult>): Promise<StopResult> {
    const previous = this.pendingStops.get(projectId);
    const run = (previous ? previous.catch(() => undefined) : Promise.resolve()).then(cleanup);
    const tracked = run.finally(() => {
      if (this.pendingStops.get(projectId) === tracked) this.pendingStops.delete(projectId);
    });
    this.pendingStops.set(projectId, tracked);
    return tracked;
  }

  /** Resolves once no start, stop or clean-up is under way (for tests, and for an orderly shutdown). */
  async idle(): Promise<void> {
    while (this.pendingStarts.size || this.pendingStops.size) {
      await Promise.allSettled([...this.pendingStarts.values(), ...this.pendingStops.values()]);
    }
  }

  /** Releases the server's allocation unless a newer start of the project owns it now. */
  private async releaseFor(server: DevServer): Promise<boolean> {
    const current = this.servers.get(server.project.id);
    if (current && current !== server) return false;
    return this.deps.allocator.releasePortForProject(server.project.id);
  }

  /**
   * Listeners on `port` that this project started but that left its terminal's process tree (a script that
   * daemonises, `setsid`, `nohup … &`): their working directory is inside the project folder. Foreign holders
   * are never in this list.
   */
  private async projectHolders(project: Project, port: number): Promise<number[]> {
    const listeners = await this.deps.os.listListeners(port);
    const folder = project.folder.endsWith(path.sep) ? project.folder : project.folder + path.sep;
    const processes = listeners.flatMap((l) => l.processes);
    const tied = processes.filter((p) => p.cwd !== undefined && (p.cwd === project.folder || p.cwd.startsWith(folder)));
    // All or nothing: a port shared with a process from elsewhere is not ours to free.
    return tied.length > 0 && tied.length === processes.length ? tied.map((p) => p.pid) : [];
  }

  /** Polls for up to `ms` until a process the project started listens on the server's port; its PIDs, or []. */
  private async awaitProjectHolder(server: DevServer, ms: number): Promise<number[]> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      if ((await this.deps.os.listeningPorts()).has(server.port)) return this.projectHolders(server.project, server.port);
    }
    return [];
  }

  /** After the terminal's jobs were stopped: stops what the project started that still holds its port. */
  private async stopLeftovers(project: Project, port: number, gracePeriodMs: number): Promise<number[]> {
    const { os, logger } = this.deps;
    if (await os.isPortAvailable(port)) return [];
    const holders = await this.projectHolders(project, port);
    if (holders.length === 0) return [];
    logger.info(`${project.name}: :${port} is still held by PID ${holders.join(', ')}, started from its folder outside the terminal; stopping it`);
    const result = await os.killProcessesOnPort(port, { gracePeriodMs, protectedPids: await this.deps.protectedPids() });
    return result.killedPids;
  }

  /** Stop, then start on the same port. */
  async restart(project: Project, options: StartOptions = {}): Promise<StartResult> {
    const port = this.servers.get(project.id)?.port ?? this.deps.allocator.getAllocation(project.id)?.port;
    await this.stop(project);
    return this.start(project, { ...options, port: options.port ?? port });
  }

  /** The server whose shell has `pid` among its descendants (or is it), from one process-table snapshot. */
  ownerOf(pid: number, table: ProcessTable): DevServer | undefined {
    for (const server of this.servers.values()) {
      if (server.shellPid === undefined) continue;
      if (server.shellPid === pid || descendants(table, server.shellPid).includes(pid)) return server;
    }
    return undefined;
  }

  private async doStart(project: Project, options: StartOptions): Promise<StartResult> {
    const { logger } = this.deps;
    if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError(project);
    const allocation = await this.allocateFor(project, options);
    const port = allocation.port;
    let command: ReturnType<typeof devServerCommand>;
    try {
      command = devServerCommand(project, port);
    } catch (error) {
      await this.deps.allocator.releasePortForProject(project.id);
      throw error;
    }
    const commandLine = command.shell ? command.command : quoteCommandLine(command.command, command.args, shellKindOf(vscode.env.shell));

    this.exitedTerminals.get(project.id)?.dispose();
    this.exitedTerminals.delete(project.id);

    const terminalName = `${project.name} :${port}`;
    const terminal = vscode.window.createTerminal({
      name: terminalName,
      cwd: project.folder,
      env: { PORT: String(port), ...command.env },
      iconPath: new vscode.ThemeIcon('plug'),
      // A restored terminal would have lost its server: do not bring it back after a reload.
      isTransient: true,
    });
    const server: DevServer = {
      project,
      terminal,
      terminalName,
      port,
      state: 'starting',
      startedAt: Date.now(),
      commandLine,
      seenListening: false,
    };
    this.servers.set(project.id, server);
    this.fire();
    try {
      server.shellPid = await terminal.processId;
      if (server.shellPid !== undefined) await this.deps.allocator.setPid(project.id, server.shellPid);
      const integration = await this.waitForShellIntegration(terminal);
      // The terminal may have been closed while the shell was starting.
      if (this.servers.get(project.id) !== server || server.state === 'stopping') throw new CancelledError();
      if (integration) {
        server.execution = command.shell ? integration.executeCommand(command.command) : integration.executeCommand(command.command, command.args);
        void this.watchOutput(server, server.execution);
        logger.info(`started ${project.name} on :${port} in "${terminalName}" (shell PID ${server.shellPid ?? '?'}): ${commandLine}`);
      } else {
        terminal.sendText(commandLine, true);
        logger.info(
          `started ${project.name} on :${port} in "${terminalName}" (shell PID ${server.shellPid ?? '?'}, no shell integration, typed): ${commandLine}`,
        );
      }
      terminal.show(true);
      this.schedulePoll(POLL_STARTING_MS);
      return { projectId: project.id, port, terminalName };
    } catch (error) {
      if (this.servers.get(project.id) === server) {
        this.servers.delete(project.id);
        server.state = 'stopping';
        terminal.dispose();
        await this.deps.allocator.releasePortForProject(project.id).catch(() => undefined);
        this.fire();
      }
      throw error;
    }
  }

  /**
   * The allocation for a start: an explicit port (argument, `devPorts.projects[..].port`) is strict and a conflict
   * on it goes through the conflicts flow; the project's last port is only a wish that quietly falls back to the
   * range, so ports stay the same between runs without bothering anyone.
   */
  private async allocateFor(project: Project, options: StartOptions): Promise<Allocation> {
    const { allocator, os, conflicts, config } = this.deps;
    const settings = config.get(vscode.Uri.file(project.workspaceFolder));
    const range = project.portRange;
    // The same project running from another VS Code window: say so, rather than take over its reservation and
    // then offer to kill its server as a stranger.
    const reservation = allocator.reservation(project.id);
    const owner = reservation?.owner;
    if (reservation && owner?.kind === 'vscode' && owner.pid !== process.pid && os.isProcessAlive(owner.pid)) {
      if (!(await os.isPortAvailable(reservation.port))) throw new OtherWindowError(project, reservation.port, owner.pid);
    }
    let strict = options.port ?? project.port;
    // An existing allocation wins over the wish: asking for another port would silently move it.
    const wish = strict === undefined && !allocator.getAllocation(project.id) ? this.lastPorts()[project.id] : undefined;
    let forceKill = settings.forceKillIfOccupied;

    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        let allocation: Allocation;
        if (strict !== undefined) {
          allocation = await allocator.allocate(project.id, { preferredPort: strict, range, forceKillIfOccupied: forceKill });
        } else if (wish !== undefined && attempt === 0) {
          try {
            allocation = await allocator.allocate(project.id, { preferredPort: wish, range });
          } catch (error) {
            if (!(error instanceof PortInUseError || error instanceof PortReservedError)) throw error;
            this.deps.logger.info(`${project.name}: its last port ${wish} is taken (${error.message}); taking another from the range`);
            allocation = await allocator.allocate(project.id, { range });
          }
        } else {
          allocation = await allocator.allocate(project.id, { range });
        }
        // An existing allocation comes back without an OS check: something may have taken the port since.
        if (!(await os.isPortAvailable(allocation.port))) {
          const listeners = await os.listListeners(allocation.port);
          const suggested = await os.findAvailablePort(range?.start ?? settings.portRange.start, range?.end ?? settings.portRange.end, {
            exclude: [...allocator.getAllocations().map((a) => a.port)],
          });
          throw new PortInUseError(allocation.port, listeners, suggested);
        }
        this.rememberPort(project.id, allocation.port);
        return allocation;
      } catch (error) {
        if (!(error instanceof PortInUseError)) throw error;
        const retry = (mode: 'free' | 'useNext') =>
          void vscode.commands
            .executeCommand('devPorts.startDevServer', { projectId: project.id, onConflict: mode })
            .then(undefined, () => undefined);
        const decision = forceKill ? 'free' : await conflicts.resolve(project, error, options.onConflict ?? 'ask', retry);
        if (decision === 'cancel') throw new CancelledError();
        if (decision === 'fail') throw error;
        if (decision === 'free') {
          const result = await os.killProcessesOnPort(error.port, {
            gracePeriodMs: settings.killGracePeriodMs,
            protectedPids: await this.deps.protectedPids(),
          });
          this.deps.logger.info(`freed :${error.port} for ${project.name}: stopped PID(s) ${result.killedPids.join(', ') || 'none'}`);
          if (!result.free) throw error;
          strict = error.port;
          forceKill = false;
        } else {
          // useNext: the held port is given up, the suggested one (or the range) is taken.
          if (allocator.getAllocation(project.id)?.port === error.port) await allocator.releasePortForProject(project.id);
          strict = error.suggestedPort;
        }
      }
    }
    throw new Error(`Could not find a port for ${project.name} after several tries; see the log (Dev Ports: Show Log).`);
  }

  private async doStop(project: Project): Promise<StopResult> {
    const { allocator, os, logger, config } = this.deps;
    const server = this.servers.get(project.id);
    const exited = this.exitedTerminals.get(project.id);
    if (exited) {
      this.exitedTerminals.delete(project.id);
      exited.dispose();
    }
    const grace = config.get().killGracePeriodMs;
    if (!server) {
      // No terminal of ours (it exited, or this window started after it): what the project started from its
      // folder and still holds the port is stopped too, then the allocation is released.
      const allocation = allocator.getAllocation(project.id);
      const killedPids = allocation ? await this.stopLeftovers(project, allocation.port, grace) : [];
      const released = await allocator.releasePortForProject(project.id);
      this.fire();
      return { projectId: project.id, port: allocation?.port, released, killedPids };
    }
    server.state = 'stopping';
    this.fire();
    const started = Date.now();
    const killed = await this.killJobs(server, grace);
    server.terminal.dispose();
    killed.push(...(await this.stopLeftovers(project, server.port, grace)));
    const free = await os.waitForPortAvailable(server.port, { timeoutMs: grace + 2000 });
    if (!free) logger.warn(`${project.name}: port ${server.port} is still in use after stopping its dev server (by a process that did not start from it); releasing the allocation`);
    if (this.servers.get(project.id) === server) this.servers.delete(project.id);
    const released = await this.releaseFor(server);
    logger.info(
      `stopped ${project.name} (:${server.port}) in ${Date.now() - started} ms; stopped PID(s) ${killed.join(', ') || 'none'}; port ${free ? 'free' : 'still in use'}`,
    );
    this.fire();
    return { projectId: project.id, port: server.port, released, killedPids: killed };
  }

  /**
   * Stops every job of the server's shell as a process tree (TERM, grace, KILL; the OS layer also finds members
   * re-parented away but still in the job's process group). The shell itself is left to `terminal.dispose()`: an
   * interactive bash ignores SIGTERM, so killing it would always cost the whole grace period.
   */
  private async killJobs(server: DevServer, gracePeriodMs: number): Promise<number[]> {
    const { os, logger } = this.deps;
    if (server.shellPid === undefined) return [];
    const table = await snapshotProcessTable();
    const jobs = [...table.values()].filter((e) => e.ppid === server.shellPid).map((e) => e.pid);
    if (jobs.length === 0) return [];
    const protectedPids = await this.deps.protectedPids();
    const results = await Promise.allSettled(jobs.map((pid) => os.killProcessTree(pid, { gracePeriodMs, protectedPids })));
    const killed: number[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') killed.push(...r.value);
      else logger.error(`${server.project.name}: could not stop PID ${jobs[i]}: ${errorMessage(r.reason)}`);
    });
    return killed.sort((a, b) => a - b);
  }

  private async onTerminalClosed(terminal: vscode.Terminal): Promise<void> {
    for (const [id, t] of this.exitedTerminals) if (t === terminal) this.exitedTerminals.delete(id);
    const server = [...this.servers.values()].find((s) => s.terminal === terminal);
    if (!server || server.state === 'stopping') return;
    const { os, logger, config } = this.deps;
    const started = Date.now();
    server.state = 'stopping';
    this.fire();
    logger.info(`terminal of ${server.project.name} was closed; stopping its dev server (:${server.port})`);
    await this.trackStop(server.project.id, async () => {
      let released = false;
      let killed: number[] = [];
      try {
        const grace = config.get().killGracePeriodMs;
        // The shell is SIGHUPed ~260 ms after the close and its jobs then leave its tree: walk it now.
        killed = await this.killJobs(server, grace);
        killed.push(...(await this.stopLeftovers(server.project, server.port, grace)));
        const free = await os.waitForPortAvailable(server.port, { timeoutMs: grace + 2000 });
        if (!free) logger.warn(`${server.project.name}: port ${server.port} is still in use after its terminal was closed`);
        if (this.servers.get(server.project.id) === server) this.servers.delete(server.project.id);
        released = await this.releaseFor(server);
        logger.info(
          `released :${server.port} of ${server.project.name} ${Date.now() - started} ms after its terminal closed; stopped PID(s) ${killed.join(', ') || 'none'}`,
        );
      } catch (error) {
        logger.error(`${server.project.name}: cleaning up after its terminal closed failed: ${errorMessage(error)}`);
        if (this.servers.get(server.project.id) === server) this.servers.delete(server.project.id);
      }
      this.fire();
      return { projectId: server.project.id, port: server.port, released, killedPids: killed };
    });
  }

  private onExecutionEnded(e: vscode.TerminalShellExecutionEndEvent): void {
    const server = [...this.servers.values()].find((s) => s.terminal === e.terminal);
    if (!server || server.state === 'stopping' || !server.execution) return;
    if (e.execution !== server.execution && !e.execution.commandLine.value.includes(server.commandLine.split(' ')[0])) return;
    void this.handleExit(server, e.exitCode);
  }

  /**
   * The server's command ended (crash, Ctrl+C, port clash): release its port, keep the terminal for its output.
   * When a process the project started still serves the port (the script daemonised it and returned), the port
   * stays allocated: Stop, or the stale sweep once it is gone, frees it.
   */
  private async handleExit(server: DevServer, exitCode: number | undefined): Promise<void> {
    if (this.servers.get(server.project.id) !== server || server.state === 'stopping') return;
    const { os, logger } = this.deps;
    this.servers.delete(server.project.id);
    this.exitedTerminals.set(server.project.id, server.terminal);
    const code = exitCode === undefined ? '' : ` with code ${exitCode}`;
    let kept = false;
    await this.trackStop(server.project.id, async () => {
      let released = false;
      try {
        const free = await os.waitForPortAvailable(server.port, { timeoutMs: 2000 });
        let holders = free ? [] : await this.projectHolders(server.project, server.port);
        // A script that daemonises its server exits 0 before that server has bound: give it a moment to show up.
        if (free && (exitCode === 0 || exitCode === undefined) && !server.seenListening) holders = await this.awaitProjectHolder(server, DAEMON_SETTLE_MS);
        if (holders.length > 0) {
          kept = true;
          logger.info(
            `${server.project.name}: its command ended${code}, but PID ${holders.join(', ')} (started from its folder) still serves :${server.port}; keeping the port`,
          );
        } else {
          if (!free) logger.warn(`${server.project.name}: port ${server.port} is still in use after its dev server exited, by a process from elsewhere`);
          logger.info(`${server.project.name} exited${code}; releasing :${server.port}`);
          released = await this.releaseFor(server);
        }
      } catch (error) {
        logger.error(`${server.project.name}: releasing :${server.port} failed: ${errorMessage(error)}`);
      }
      this.fire();
      return { projectId: server.project.id, port: server.port, released };
    });
    if (kept) return;
    // 130/143: Ctrl+C or a TERM from outside, which someone meant.
    if (exitCode !== undefined && exitCode !== 0 && exitCode !== 130 && exitCode !== 143) {
      void vscode.window
        .showWarningMessage(`${server.project.name} stopped (exit code ${exitCode}); port ${server.port} was released.`, 'Show Terminal', 'Restart')
        .then((choice) => {
          if (choice === 'Show Terminal') server.terminal.show();
          if (choice === 'Restart') void vscode.commands.executeCommand('devPorts.startDevServer', server.project.id);
        });
    }
  }

  private waitForShellIntegration(terminal: vscode.Terminal): Promise<vscode.TerminalShellIntegration | undefined> {
    if (terminal.shellIntegration) return Promise.resolve(terminal.shellIntegration);
    return new Promise((resolve) => {
      const done = (value: vscode.TerminalShellIntegration | undefined) => {
        clearTimeout(timer);
        listener.dispose();
        closed.dispose();
        resolve(value);
      };
      const timer = setTimeout(() => done(terminal.shellIntegration), SHELL_INTEGRATION_TIMEOUT_MS);
      const listener = vscode.window.onDidChangeTerminalShellIntegration((e) => {
        if (e.terminal === terminal) done(e.shellIntegration);
      });
      const closed = vscode.window.onDidCloseTerminal((t) => {
        if (t === terminal) done(undefined);
      });
    });
  }

  /** Follows the server's output for a port it moved to (a framework that picked another port by itself). */
  private async watchOutput(server: DevServer, execution: vscode.TerminalShellExecution): Promise<void> {
    const checked = new Set<number>();
    // Output arrives in arbitrary chunks: a URL split across two (`http://localhost:51` + `74/`) must be read
    // whole, so the unfinished last line waits for the next chunk.
    let pending = '';
    try {
      for await (const chunk of execution.read()) {
        if (this.servers.get(server.project.id) !== server) return;
        const text = pending + chunk;
        const lastBreak = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
        pending = text.slice(lastBreak + 1).slice(-4096);
        for (const port of announcedPorts(text.slice(0, lastBreak + 1))) {
          if (port === server.port || checked.has(port)) continue;
          checked.add(port);
          void this.confirmMove(server, port);
        }
      }
    } catch (error) {
      this.deps.logger.debug?.(`${server.project.name}: stopped reading output: ${errorMessage(error)}`);
    }
  }

  /**
   * A URL in the output is not proof (a dev server may print its API's URL): the move is made only when the
   * announced port listens and the allocated one does not.
   */
  private async confirmMove(server: DevServer, port: number): Promise<void> {
    const { os, allocator, logger } = this.deps;
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 500));
      if (this.servers.get(server.project.id) !== server || server.state === 'stopping') return;
      const listening = await os.listeningPorts();
      if (listening.has(server.port)) return;
      if (!listening.has(port)) continue;
      // Only a port this server's own processes hold: a URL in the output may name a proxy target or another app.
      const holders = await os.findProcessesOnPort(port);
      const table = await snapshotProcessTable();
      if (!holders.some((pid) => this.ownerOf(pid, table) === server)) return;
      const previous = server.port;
      // Set before the await: a stop that starts meanwhile must wait for the port the server really holds.
      server.port = port;
      try {
        await allocator.movePort(server.project.id, port);
        server.seenListening = true;
        server.state = 'running';
        this.rememberPort(server.project.id, port);
        logger.warn(`${server.project.name} announced and listens on :${port} instead of :${previous}; the allocation moved there`);
        this.fire();
      } catch (error) {
        server.port = previous;
        logger.error(`${server.project.name} moved to :${port}, but the allocation could not follow: ${errorMessage(error)}`);
      }
      return;
    }
  }

  private schedulePoll(delay: number): void {
    if (this.disposed) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), delay);
  }

  /** Starting → running once the port listens; without shell integration, a server whose job is gone exited. */
  private async poll(): Promise<void> {
    this.pollTimer = undefined;
    if (this.servers.size === 0) return;
    let changed = false;
    try {
      const listening = await this.deps.os.listeningPorts();
      let table: ProcessTable | undefined;
      for (const server of [...this.servers.values()]) {
        if (server.state === 'stopping') continue;
        const up = listening.has(server.port);
        if (up && server.state === 'starting') {
          server.state = 'running';
          server.seenListening = true;
          changed = true;
          this.deps.logger.info(`${server.project.name} is listening on :${server.port} (${Date.now() - server.startedAt} ms after start)`);
        }
        // On Windows a process-table snapshot is a PowerShell query (hundreds of ms): only when it is the only sign.
        if (server.shellPid !== undefined && (!server.execution || process.platform !== 'win32')) {
          table ??= await snapshotProcessTable();
          const jobs = [...table.values()].filter((e) => e.ppid === server.shellPid && e.state !== 'Z');
          if (jobs.length > 0) server.sawJob = true;
          // A shell with no job left means the command ended. Without shell integration it is the only sign; with
          // it, the end event does not always come (seen for a script that daemonises its server and returns).
          // A shell whose start-up files are slow has not run the command yet: wait for a job first.
          if (jobs.length === 0 && (server.sawJob || Date.now() - server.startedAt > NO_JOB_EXIT_MS)) {
            void this.handleExit(server, undefined);
          }
        }
      }
    } catch (error) {
      this.deps.logger.error(`polling dev servers failed: ${errorMessage(error)}`);
    }
    if (changed) this.fire();
    const starting = [...this.servers.values()].some((s) => s.state === 'starting');
    if (this.servers.size > 0) this.schedulePoll(starting ? POLL_STARTING_MS : POLL_RUNNING_MS);
  }

  private lastPorts(): Record<string, number> {
    return this.deps.state.get<Record<string, number>>(LAST_PORTS_KEY, {});
  }

  private rememberPort(projectId: string, port: number): void {
    const ports = this.lastPorts();
    if (ports[projectId] === port) return;
    void this.deps.state.update(LAST_PORTS_KEY, { ...ports, [projectId]: port });
  }

  private fire(): void {
    if (!this.disposed) this.emitter.fire();
  }

  dispose(): void {
    this.disposed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    for (const d of this.disposables) d.dispose();
  }
}
