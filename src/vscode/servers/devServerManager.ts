/**
 * Start, stop and restart orchestration of the dev servers Dev Ports runs in integrated terminals. What a record
 * follows lives next door: terminalJob.ts (which processes are the server), health.ts (its states),
 * portFollower.ts (drift), outputWatcher.ts (its output), conflictFlow.ts (a taken port at start), leftovers.ts
 * (what a script daemonised), debugTerminal.ts (Start with Debugger).
 *
 * Beware: closing a terminal only SIGHUPs its shell about 260 ms later, and a server that ignores SIGHUP (or was
 * started with nohup/setsid) keeps its port. So every way a server ends kills the shell's jobs as process trees
 * here, starting while the shell still exists so the tree can be walked before its members are re-parented.
 */
import * as vscode from 'vscode';
import type { PortAllocator } from '../../core/allocator';
import { PortInUseError } from '../../core/errors';
import type { PortTrouble } from '../../core/portAnnouncements';
import type { devServerCommand, Project } from '../../core/projects';
import { discovery } from '../lazy';
import type { Logger } from '../../core/types';
import { descendants, lazyProcessTable, snapshotProcessTable, type ProcessTable } from '../../os/index';
import type { Listener, PortOs } from '../../os/types';
import type { Config } from '../config';
import type { Conflicts } from '../conflicts';
import { errorMessage } from '../log';
import { quoteCommandLine, shellKindOf } from '../shellQuote';
import { ConflictFlow } from './conflictFlow';
import { createDebugTerminal } from './debugTerminal';
import {
  toServerInfo,
  type DevServer,
  type MetricsSink,
  type ServerInfo,
  type StartOptions,
  type StartResult,
  type StopResult,
} from './devServer';
import { CancelledError, UntrustedWorkspaceError } from './errors';
import { answersHttp, codeText, exitReportText, NOT_LISTENING_AFTER_MS, notListeningNote } from './health';
import { LastPorts } from './lastPorts';
import { findDaemonised, stopLeftovers } from './leftovers';
import { watchOutput } from './outputWatcher';
import { servedPort } from './portFollower';
import { programOf, TerminalJob } from './terminalJob';

export { CancelledError, OtherWindowError, UntrustedWorkspaceError } from './errors';
export type { DevServer, DevServerInfo, MetricsSink, ServerInfo, ServerState, StartOptions, StartResult, StopResult } from './devServer';

/**
 * How long a start waits for shell integration before typing the command instead. VS Code's samples use 3 s; a
 * loaded machine was seen taking longer, and a typed command loses the execution's exit code until it is adopted.
 */
const SHELL_INTEGRATION_TIMEOUT_MS = 10_000;
/** Poll cadence: fast while a server starts (health transitions, drift), slower once it serves. */
const POLL_STARTING_MS = 250;
const POLL_RUNNING_MS = 1000;
/** A full listener scan (which process holds which port) at most this often unless the listening set changed. */
const FULL_SCAN_MS = 3000;

export interface DevServerManagerDeps {
  allocator: PortAllocator;
  os: PortOs;
  config: Config;
  conflicts: Conflicts;
  state: vscode.Memento;
  logger: Logger;
  /** The editor's own PIDs, never to be signalled. */
  protectedPids: () => Promise<number[]>;
  metrics?: MetricsSink;
}


/**
 * Runs dev servers in integrated terminals with the port the allocator gave them, follows each one's health and
 * port, and gives the port back when they stop, crash or their terminal is closed.
 *
 * @example
 * const result = await manager.start(project, { onConflict: 'ask' }); // { projectId, port: 3000, terminalName: 'web :3000' }
 * await manager.stop(project); // { projectId, port: 3000, released: true }
 */
export class DevServerManager implements vscode.Disposable {
  private readonly servers = new Map<string, DevServer>();
  private readonly pendingStarts = new Map<string, Promise<StartResult>>();
  private readonly pendingStops = new Map<string, Promise<StopResult>>();
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private readonly lastPorts: LastPorts;
  private readonly conflictFlow: ConflictFlow;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private polling: Promise<void> | undefined;
  private lastScan: { at: number; key: string; listeners: Listener[] } | undefined;
  private disposed = false;
  /** Fires when a server's record changes (state, port, phase) or a start begins or ends. */
  readonly onDidChange = this.emitter.event;

  constructor(private readonly deps: DevServerManagerDeps) {
    this.lastPorts = new LastPorts(deps.state);
    this.conflictFlow = new ConflictFlow({ ...deps, lastPorts: this.lastPorts, changed: () => this.fire() });
    this.disposables.push(
      vscode.window.onDidCloseTerminal((t) => void this.onTerminalClosed(t)),
      vscode.window.onDidStartTerminalShellExecution((e) => this.onExecutionStarted(e)),
      vscode.window.onDidEndTerminalShellExecution((e) => this.onExecutionEnded(e)),
    );
  }

  get(projectId: string): DevServer | undefined {
    return this.servers.get(projectId);
  }

  /** Every record, running or exited (an exited one keeps its terminal open for its output). */
  list(): DevServer[] {
    return [...this.servers.values()];
  }

  /** The records as the view reads them, plus a row for each project whose conflict question is open. */
  infos(): ServerInfo[] {
    const infos = this.list().map(toServerInfo);
    for (const [projectId, { port, since }] of this.conflictFlow.waiting) {
      if (this.servers.has(projectId)) continue;
      infos.push({ projectId, port, state: 'starting', phase: 'waiting', startedAt: since, commandLine: '', terminalName: '', note: 'waiting for your answer' });
    }
    return infos;
  }

  /** The projects whose start is under way (before their terminal exists). */
  startingIds(): string[] {
    return [...this.pendingStarts.keys()];
  }


  /**
   * Starts the project's dev server, or reveals its terminal when it already runs. Concurrent calls for the same
   * project share one start: one terminal, one allocation.
   */
  start(project: Project, options: StartOptions = {}): Promise<StartResult> {
    const running = this.servers.get(project.id);
    if (running && running.state !== 'exited' && !running.phase) {
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
    })().finally(() => {
      this.pendingStarts.delete(project.id);
      this.fire();
    });
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

  /** Stop, then start on the same port. */
  async restart(project: Project, options: StartOptions = {}): Promise<StartResult> {
    const server = this.servers.get(project.id);
    const port = server?.port ?? this.deps.allocator.getAllocation(project.id)?.port;
    await this.stop(project);
    return this.start(project, { ...options, port: options.port ?? port, debug: options.debug ?? server?.debug });
  }

  /** Resolves once no start, stop or clean-up is under way (for tests, and for an orderly shutdown). */
  async idle(): Promise<void> {
    while (this.pendingStarts.size || this.pendingStops.size) {
      await Promise.allSettled([...this.pendingStarts.values(), ...this.pendingStops.values()]);
    }
  }

  /** The server whose job (or daemonised server) has `pid` among its processes, from one process-table snapshot. */
  ownerOf(pid: number, table: ProcessTable): DevServer | undefined {
    for (const server of this.servers.values()) if (this.treeOf(server, table).has(pid)) return server;
    return undefined;
  }

  /** Every process of the server: the shell's descendants and what its script daemonised, with their children. */
  private treeOf(server: DevServer, table: ProcessTable): Set<number> {
    const tree = new Set<number>(server.job.pids(table));
    if (server.shellPid !== undefined) for (const pid of descendants(table, server.shellPid)) tree.add(pid);
    for (const pid of server.daemonPids ?? []) {
      if (!table.has(pid)) continue;
      tree.add(pid);
      for (const d of descendants(table, pid)) tree.add(d);
    }
    return tree;
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

  /** Releases the server's allocation unless a newer start of the project owns it now. */
  private async releaseFor(server: DevServer): Promise<boolean> {
    const current = this.servers.get(server.project.id);
    if (current && current !== server) return false;
    return this.deps.allocator.releasePortForProject(server.project.id);
  }

  private async doStart(project: Project, options: StartOptions): Promise<StartResult> {
    const { logger } = this.deps;
    if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError(project);
    const previous = this.servers.get(project.id);
    if (previous?.state === 'exited') {
      this.servers.delete(project.id);
      previous.terminal.dispose();
    }
    const allocation = await this.conflictFlow.allocate(project, options);
    const port = allocation.port;
    let command: ReturnType<typeof devServerCommand>;
    try {
      command = discovery().devServerCommand(project, port);
    } catch (error) {
      await this.deps.allocator.releasePortForProject(project.id);
      throw error;
    }
    const commandLine = command.shell ? command.command : quoteCommandLine(command.command, command.args, shellKindOf(vscode.env.shell));
    const env = { PORT: String(port), ...command.env };
    const terminalName = `${project.label} :${port}`;
    let terminal: vscode.Terminal;
    try {
      terminal = options.debug
        ? await createDebugTerminal({ commandLine, cwd: project.folder, env, workspaceFolder: project.workspaceFolder })
        : vscode.window.createTerminal({
            name: terminalName,
            cwd: project.folder,
            env,
            iconPath: new vscode.ThemeIcon('plug'),
            // A restored terminal would have lost its server: do not bring it back after a reload.
            isTransient: true,
          });
    } catch (error) {
      await this.deps.allocator.releasePortForProject(project.id).catch(() => undefined);
      throw error;
    }
    const shellPid = await terminal.processId;
    const server: DevServer = {
      project,
      terminal,
      terminalName: options.debug ? terminal.name : terminalName,
      port,
      state: 'starting',
      shellPid,
      startedAt: Date.now(),
      commandLine,
      job: new TerminalJob(shellPid, commandLine, programOf(command.command)),
      extraPorts: [],
      announced: [],
      seenListening: false,
      debug: options.debug === true,
    };
    this.servers.set(project.id, server);
    this.fire();
    try {
      if (shellPid !== undefined) await this.deps.allocator.setPid(project.id, shellPid);
      if (options.debug) {
        // js-debug types the command itself; the job is found by its program in the shell's tree.
        server.job.started = true;
        logger.info(`started ${project.name} on :${port} in the JavaScript Debug Terminal "${terminal.name}" (shell PID ${shellPid ?? '?'}): ${commandLine}`);
      } else {
        const integration = await this.waitForShellIntegration(terminal);
        // The terminal may have been closed while the shell was starting.
        if (this.servers.get(project.id) !== server || server.phase === 'stopping') throw new CancelledError();
        if (integration) {
          const execution = command.shell ? integration.executeCommand(command.command) : integration.executeCommand(command.command, command.args);
          server.job.execution = execution;
          this.readOutput(server, execution);
          logger.info(`started ${project.name} on :${port} in "${terminalName}" (shell PID ${shellPid ?? '?'}): ${commandLine}`);
        } else {
          terminal.sendText(commandLine, true);
          server.job.started = true;
          logger.info(`started ${project.name} on :${port} in "${terminalName}" (shell PID ${shellPid ?? '?'}, no shell integration, typed): ${commandLine}`);
        }
      }
      terminal.show(true);
      this.schedulePoll(POLL_STARTING_MS);
      return { projectId: project.id, port, terminalName: server.terminalName };
    } catch (error) {
      if (this.servers.get(project.id) === server) {
        this.servers.delete(project.id);
        server.phase = 'stopping';
        terminal.dispose();
        await this.deps.allocator.releasePortForProject(project.id).catch(() => undefined);
        this.fire();
      }
      throw error;
    }
  }

  private async doStop(project: Project): Promise<StopResult> {
    const { allocator, os, logger, config } = this.deps;
    const server = this.servers.get(project.id);
    const grace = config.get().killGracePeriodMs;
    const protectedPids = await this.deps.protectedPids();
    const started = Date.now();
    if (!server || (server.state === 'exited' && !server.daemonPids)) {
      if (server) {
        this.servers.delete(project.id);
        server.terminal.dispose();
      }
      // No running terminal of ours (it exited, or this window started after it): what the project started from
      // its folder and still holds the port is stopped too, then the allocation is released.
      const allocation = allocator.getAllocation(project.id);
      const killedPids = allocation ? await stopLeftovers(os, project, allocation.port, { gracePeriodMs: grace, protectedPids, log: (m) => logger.info(m) }) : [];
      if (killedPids.length) this.deps.metrics?.count('kill', killedPids.length);
      const released = await allocator.releasePortForProject(project.id);
      if (allocation) this.deps.metrics?.timeToFree(Date.now() - started);
      this.fire();
      return { projectId: project.id, port: allocation?.port ?? server?.port, released, killedPids };
    }
    server.phase = 'stopping';
    this.fire();
    const killed = await this.killServer(server, grace, protectedPids);
    server.terminal.dispose();
    const free = await this.waitForOwnPortFree(server.port, killed, grace);
    if (free) this.deps.metrics?.timeToFree(Date.now() - started);
    else logger.warn(`${project.name}: port ${server.port} is still in use after stopping its dev server (by a process that did not start from it); releasing the allocation`);
    if (this.servers.get(project.id) === server) this.servers.delete(project.id);
    const released = await this.releaseFor(server);
    logger.info(`stopped ${project.name} (:${server.port}) in ${Date.now() - started} ms; stopped PID(s) ${killed.join(', ') || 'none'}; port ${free ? 'free' : 'still in use'}`);
    this.fire();
    return { projectId: project.id, port: server.port, released, killedPids: killed };
  }

  /**
   * Waits until the port is free after the server's processes were stopped; at once false when what holds it now is
   * not one of them (an intruder took the port the server had moved away from): there is nothing of ours to wait for.
   */
  private async waitForOwnPortFree(port: number, killed: readonly number[], gracePeriodMs: number): Promise<boolean> {
    const { os } = this.deps;
    if (await os.isPortAvailable(port)) return true;
    const holders = await os.findProcessesOnPort(port);
    if (holders.length > 0 && !holders.some((pid) => killed.includes(pid))) return false;
    return os.waitForPortAvailable(port, { timeoutMs: gracePeriodMs + 2000 });
  }

  /** Stops the server's job tree, what it daemonised, and what the project started that still holds its port. */
  private async killServer(server: DevServer, gracePeriodMs: number, protectedPids: number[]): Promise<number[]> {
    const { os, logger } = this.deps;
    const table = await lazyProcessTable();
    const { killed, failed } = await server.job.kill(os, table, { gracePeriodMs, protectedPids });
    for (const f of failed) logger.error(`${server.project.name}: could not stop PID ${f.pid}: ${errorMessage(f.error)}`);
    for (const pid of server.daemonPids ?? []) {
      if (!os.isProcessAlive(pid)) continue;
      killed.push(...(await os.killProcessTree(pid, { gracePeriodMs, protectedPids }).catch(() => [])));
    }
    killed.push(...(await stopLeftovers(os, server.project, server.port, { gracePeriodMs, protectedPids, log: (m) => logger.info(m) })));
    const all = [...new Set(killed)].sort((a, b) => a - b);
    if (all.length) this.deps.metrics?.count('kill', all.length);
    return all;
  }

  /**
   * The terminal was closed by hand: always release and log, or keep the port only for a verified daemonised
   * server (alive, outside the terminal, started from the project with its PORT).
   */
  private async onTerminalClosed(terminal: vscode.Terminal): Promise<void> {
    const server = [...this.servers.values()].find((s) => s.terminal === terminal);
    if (!server || server.phase === 'stopping') return;
    const { os, logger, config } = this.deps;
    const started = Date.now();
    const wasExited = server.state === 'exited';
    server.phase = 'stopping';
    this.fire();
    await this.trackStop(server.project.id, async () => {
      let released = false;
      let killed: number[] = [];
      try {
        const daemons = (server.daemonPids ?? []).filter((pid) => os.isProcessAlive(pid));
        if (daemons.length > 0) {
          if (this.servers.get(server.project.id) === server) this.servers.delete(server.project.id);
          await this.deps.allocator.setPid(server.project.id, daemons[0]).catch(() => undefined);
          logger.info(`terminal of ${server.project.name} was closed; keeping :${server.port} for its daemonised server (PID ${daemons.join(', ')}); Stop frees it`);
          this.fire();
          return { projectId: server.project.id, port: server.port, released: false };
        }
        if (wasExited) {
          if (this.servers.get(server.project.id) === server) this.servers.delete(server.project.id);
          released = await this.releaseFor(server);
          logger.info(`terminal of ${server.project.name} (exited) was closed${released ? `; released :${server.port}` : ''}`);
          this.fire();
          return { projectId: server.project.id, port: server.port, released };
        }
        logger.info(`terminal of ${server.project.name} was closed; stopping its dev server (:${server.port})`);
        const grace = config.get().killGracePeriodMs;
        // The shell is SIGHUPed ~260 ms after the close and its jobs then leave its tree: walk it now.
        killed = await this.killServer(server, grace, await this.deps.protectedPids());
        const free = await this.waitForOwnPortFree(server.port, killed, grace);
        if (free) this.deps.metrics?.timeToFree(Date.now() - started);
        else logger.warn(`${server.project.name}: port ${server.port} is still in use after its terminal was closed`);
        if (this.servers.get(server.project.id) === server) this.servers.delete(server.project.id);
        released = await this.releaseFor(server);
        logger.info(`released :${server.port} of ${server.project.name} ${Date.now() - started} ms after its terminal closed; stopped PID(s) ${killed.join(', ') || 'none'}`);
      } catch (error) {
        logger.error(`${server.project.name}: cleaning up after its terminal closed failed: ${errorMessage(error)}`);
        if (this.servers.get(server.project.id) === server) this.servers.delete(server.project.id);
        released = await this.releaseFor(server).catch(() => false);
      }
      this.fire();
      return { projectId: server.project.id, port: server.port, released, killedPids: killed };
    });
  }

  private serverOfTerminal(terminal: vscode.Terminal): DevServer | undefined {
    return [...this.servers.values()].find((s) => s.terminal === terminal && s.state !== 'exited');
  }

  private onExecutionStarted(e: vscode.TerminalShellExecutionStartEvent): void {
    const server = this.serverOfTerminal(e.terminal);
    if (!server) return;
    const before = server.job.execution;
    if (!server.job.isOurs(e.execution)) return;
    server.job.started = true;
    // VS Code handed out another object for our command line (or shell integration came after the command was
    // typed, or js-debug typed it): its output is read from that one.
    if (e.execution !== before) this.readOutput(server, e.execution);
  }

  private onExecutionEnded(e: vscode.TerminalShellExecutionEndEvent): void {
    const server = [...this.servers.values()].find((s) => s.terminal === e.terminal);
    if (!server || server.phase === 'stopping') return;
    if (server.state === 'exited') {
      // The process tree saw the end first; the code arrives now.
      if (e.execution === server.job.execution && e.exitCode !== undefined && server.exitCode === undefined) {
        server.exitCode = e.exitCode;
        server.note = exitNote(server);
        this.deps.logger.info(`${server.project.name}: its exit code came after its end was seen: ${e.exitCode}`);
        this.fire();
        // A crash seen first from its processes being gone had nothing to say without the code: it is said now.
        if (this.servers.get(server.project.id) === server) this.reportExit(server);
      }
      return;
    }
    if (!server.job.isOurs(e.execution)) return;
    server.job.markEnded(e.exitCode);
    void this.handleJobEnd(server);
  }

  private readOutput(server: DevServer, execution: vscode.TerminalShellExecution): void {
    const announced = server.announced;
    void watchOutput(execution, {
      isCurrent: () => this.servers.get(server.project.id) === server && !server.phase,
      onAnnouncedPort: (port) => {
        announced.push(port);
        if (port !== server.port) this.schedulePoll(0);
      },
      onTrouble: (trouble) => void this.raiseFromOutput(server, trouble),
      onEnd: () => {
        // The stream ends with the execution: the job is over even if its end event never comes.
        if (server.state === 'exited' || server.phase) return;
        server.job.markEnded(undefined);
        void this.handleJobEnd(server);
      },
      onError: (error) => this.deps.logger.debug?.(`${server.project.name}: stopped reading output: ${errorMessage(error)}`),
    });
  }

  /**
   * "Already in use" or a prompt for another port in the server's output: the same conflict message as a failed
   * start, at once. The port's holder is named when it is not the server's own tree.
   */
  private async raiseFromOutput(server: DevServer, trouble: PortTrouble): Promise<void> {
    const { os, conflicts, logger, allocator } = this.deps;
    const port = trouble.port ?? server.port;
    const t0 = Date.now();
    try {
      // The poll's last scan usually knows the holder already (the port's take-over changed the listening set):
      // naming it from there keeps the message within the second; otherwise the port is asked about now.
      // A holder seen there that has died since (the previous holder of a reused port) is never named.
      const recent = this.lastScan && Date.now() - this.lastScan.at < FULL_SCAN_MS ? this.lastScan.listeners : [];
      const cached = recent.filter((l) => l.port === port);
      const usable = cached.length > 0 && cached.every((l) => l.pids.length > 0 && l.pids.every((pid) => os.isProcessAlive(pid)));
      const [listeners, table] = await Promise.all([usable ? cached : os.listListeners(port), lazyProcessTable()]);
      const tree = this.treeOf(server, table);
      if (listeners.some((l) => l.pids.some((pid) => tree.has(pid)))) return;
      if (this.servers.get(server.project.id) !== server || server.phase) return;
      server.conflictRaised = true;
      server.note = trouble.kind === 'prompt' ? 'asks in its terminal for another port' : `port ${port} in use`;
      this.fire();
      const range = server.project.portRange ?? this.deps.config.get().portRange;
      const suggested = await os.findAvailablePort(range.start, range.end, { exclude: [...allocator.getAllocations().map((a) => a.port), port] });
      const error = new PortInUseError(port, listeners, suggested);
      this.deps.metrics?.count('conflict');
      logger.warn(`${server.project.name}'s output says its port is taken (${trouble.kind}: "${trouble.line.slice(0, 160)}"); raised the conflict message in ${Date.now() - t0} ms`);
      void conflicts.resolve(server.project, error, 'notify', (choice) => {
        // Free Port: stop the server, free the port, start there again. Use Port N: start again on N.
        void this.stop(server.project).then(() =>
          vscode.commands.executeCommand('devPorts.startDevServer', {
            projectId: server.project.id,
            onConflict: choice,
            port: choice === 'free' ? port : suggested,
          }),
        ).then(undefined, () => undefined);
      });
    } catch (e) {
      logger.error(`${server.project.name}: could not raise the conflict from its output: ${errorMessage(e)}`);
    }
  }

  /**
   * The server's job ended (its execution ended, or every process of it is gone). A process the script daemonised
   * (verified: alive, outside the terminal, started from the project folder with its PORT) keeps the record
   * running; otherwise the record is exited and the port released.
   */
  private async handleJobEnd(server: DevServer): Promise<void> {
    if (this.servers.get(server.project.id) !== server || server.phase || server.state === 'exited' || server.jobEndHandled) return;
    // The end is seen up to three ways (end event, output stream, process tree): it is handled once.
    server.jobEndHandled = true;
    const { os, logger } = this.deps;
    let exited = false;
    await this.trackStop(server.project.id, async () => {
      let released = false;
      try {
        const table = await snapshotProcessTable();
        const exclude = new Set<number>();
        for (const s of this.servers.values()) {
          if (s.shellPid === undefined) continue;
          exclude.add(s.shellPid);
          for (const pid of descendants(table, s.shellPid)) exclude.add(pid);
        }
        const daemons = await findDaemonised(os, server.project, server.port, table, exclude);
        if (daemons.length > 0) {
          server.daemonPids = daemons;
          server.note = `daemonised, PID ${daemons.join(', ')}`;
          await this.deps.allocator.setPid(server.project.id, daemons[0]).catch(() => undefined);
          logger.info(`${server.project.name}: its command ended${codeText(server.job.exitCode)}, and its server runs on outside the terminal (PID ${daemons.join(', ')}, started from its folder with PORT=${server.port}); keeping the port`);
          this.schedulePoll(0);
          this.fire();
          return { projectId: server.project.id, port: server.port, released: false };
        }
        this.markExited(server, server.job.exitCode);
        exited = true;
        released = await this.releaseFor(server);
        logger.info(`${server.project.name} exited${codeText(server.exitCode)}${server.seenListening ? '' : ` without listening on :${server.port}`}; released :${server.port}`);
      } catch (error) {
        logger.error(`${server.project.name}: releasing :${server.port} failed: ${errorMessage(error)}`);
      }
      this.fire();
      return { projectId: server.project.id, port: server.port, released };
    });
    if (exited) this.reportExit(server);
  }

  private markExited(server: DevServer, exitCode: number | undefined): void {
    server.state = 'exited';
    server.listenerPid = undefined;
    server.extraPorts = [];
    if (exitCode !== undefined) server.exitCode = exitCode;
    server.note = exitNote(server);
  }

  /** Tells the user about an exit nobody asked for; Ctrl+C and a TERM from outside are not failures. */
  private reportExit(server: DevServer): void {
    if (server.conflictRaised || server.exitReported) return;
    const { project, port } = server;
    const text = exitReportText({ name: project.name, port, code: server.exitCode, seenListening: server.seenListening });
    if (!text) return;
    server.exitReported = true;
    void vscode.window.showWarningMessage(text, 'Show Terminal', 'Restart').then((choice) => {
      if (choice === 'Show Terminal') server.terminal.show();
      if (choice === 'Restart') void vscode.commands.executeCommand('devPorts.startDevServer', project.id).then(undefined, () => undefined);
    });
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

  private schedulePoll(delay: number): void {
    if (this.disposed) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      if (this.polling) {
        void this.polling.then(() => this.schedulePoll(0));
        return;
      }
      this.polling = this.poll().finally(() => (this.polling = undefined));
    }, delay);
  }

  /**
   * The listeners of the poll's last full scan while a server is polled (at most a second behind the listening set,
   * {@link FULL_SCAN_MS} behind the processes): the view's own poll takes it instead of scanning again.
   */
  recentListeners(): Listener[] | undefined {
    if (!this.pollTimer && !this.polling) return undefined;
    const recent = this.lastScan && Date.now() - this.lastScan.at < FULL_SCAN_MS ? this.lastScan.listeners : undefined;
    // A scan from before a stop still names the stopped server (the view would list it under Other listeners): one
    // naming a process that is gone is not handed out (a signal-0 check per PID, microseconds).
    if (recent?.some((l) => l.pids.some((pid) => !this.deps.os.isProcessAlive(pid)))) return undefined;
    return recent;
  }

  /** Which ports each listening process holds: one full scan, repeated only when the listening set changed. */
  private async scanListeners(): Promise<Listener[]> {
    const listening = await this.deps.os.listeningPorts();
    const key = [...listening].sort((a, b) => a - b).join(',');
    if (this.lastScan && this.lastScan.key === key && Date.now() - this.lastScan.at < FULL_SCAN_MS) return this.lastScan.listeners;
    const listeners = await this.deps.os.listListeners();
    this.lastScan = { at: Date.now(), key, listeners };
    return listeners;
  }

  /** One look at the OS for every live record: its job, the ports its tree listens on, its health. */
  private async poll(): Promise<void> {
    const live = this.list().filter((s) => s.state !== 'exited' && !s.phase);
    if (live.length === 0) return;
    let changed = false;
    try {
      // Only the servers' own trees are read (children files), not the whole process table: this runs every second.
      const [table, listeners] = await Promise.all([lazyProcessTable(), this.scanListeners()]);
      for (const server of live) {
        if (server.job.observe(table)) {
          void this.handleJobEnd(server);
          continue;
        }
        if (server.daemonPids && server.daemonPids.every((pid) => !this.deps.os.isProcessAlive(pid))) {
          server.daemonPids = undefined;
          this.markExited(server, server.job.exitCode);
          void this.trackStop(server.project.id, async () => ({ projectId: server.project.id, port: server.port, released: await this.releaseFor(server) }));
          this.deps.logger.info(`${server.project.name}: its daemonised server is gone; released :${server.port}`);
          changed = true;
          continue;
        }
        const tree = this.treeOf(server, table);
        const own = listeners.filter((l) => l.pids.some((pid) => tree.has(pid)));
        const ownPorts = [...new Set(own.map((l) => l.port))];
        const port = servedPort({ current: server.port, ownPorts, announced: server.announced, range: server.project.portRange ?? this.deps.config.get().portRange });
        if (port !== undefined && port !== server.port) {
          await this.followDrift(server, port, listeners);
          changed = true;
        }
        const extra = ownPorts.filter((p) => p !== server.port).sort((a, b) => a - b);
        if (extra.join() !== server.extraPorts.join()) {
          server.extraPorts = extra;
          changed = true;
        }
        const main = own.find((l) => l.port === server.port);
        if (main) {
          server.listenerPid = main.pids.find((pid) => tree.has(pid));
          if (server.state === 'starting' || server.state === 'unhealthy') {
            const first = !server.seenListening;
            server.state = 'listening';
            server.seenListening = true;
            server.listeningSince = Date.now();
            if (server.note?.startsWith('not listening') || server.note?.startsWith('stopped listening')) server.note = undefined;
            changed = true;
            this.deps.logger.info(`${server.project.name} is listening on :${server.port}${first ? ` (${Date.now() - server.startedAt} ms after start)` : ' again'}`);
          }
          if (server.state === 'listening') void this.probe(server, main.address);
        } else if (server.seenListening && (server.state === 'listening' || server.state === 'ready')) {
          server.state = 'unhealthy';
          server.listenerPid = undefined;
          server.note = `stopped listening on :${server.port}`;
          changed = true;
          this.deps.logger.warn(`${server.project.name}: still running, but it stopped listening on :${server.port}`);
        } else if (!server.seenListening && server.state === 'starting' && Date.now() - server.startedAt >= NOT_LISTENING_AFTER_MS) {
          server.state = 'unhealthy';
          server.note = notListeningNote(Date.now() - server.startedAt);
          changed = true;
          this.deps.logger.warn(`${server.project.name}: running, but ${server.note} (:${server.port})`);
        }
      }
    } catch (error) {
      this.deps.logger.error(`polling dev servers failed: ${errorMessage(error)}`);
    }
    if (changed) this.fire();
    const remaining = this.list().filter((s) => s.state !== 'exited' && !s.phase);
    if (remaining.length > 0) this.schedulePoll(remaining.some((s) => s.state === 'starting' || s.state === 'listening') ? POLL_STARTING_MS : POLL_RUNNING_MS);
  }

  /** One HTTP probe at a time per server, off the poll (a warming-up server holds the request). */
  private async probe(server: DevServer, address: string): Promise<void> {
    if (server.probing) return;
    server.probing = true;
    const answered = await answersHttp(server.port, address).finally(() => (server.probing = false));
    if (!answered) return;
    if (server.state !== 'listening' || this.servers.get(server.project.id) !== server) return;
    server.state = 'ready';
    this.deps.logger.info(`${server.project.name} answers HTTP on :${server.port} (${Date.now() - server.startedAt} ms after start)`);
    this.fire();
  }

  /** The server's own tree serves on `port`, not on its allocated one: move the allocation, and say it once. */
  private async followDrift(server: DevServer, port: number, listeners: readonly Listener[]): Promise<void> {
    const { allocator, logger } = this.deps;
    const previous = server.port;
    const intruder = listeners.find((l) => l.port === previous)?.processes[0];
    // Set before the await: a stop that starts meanwhile must wait for the port the server really holds.
    server.port = port;
    try {
      await allocator.movePort(server.project.id, port);
    } catch (error) {
      logger.error(`${server.project.name} listens on :${port}, but the allocation could not follow: ${errorMessage(error)}`);
    }
    this.lastPorts.remember(server.project.id, port);
    server.note = `moved from ${previous}`;
    this.deps.metrics?.count('drift');
    const why = intruder ? ` (:${previous} is held by ${intruder.name}, PID ${intruder.pid})` : '';
    const text = `${server.project.name} listens on port ${port} instead of ${previous}${why}; Dev Ports follows it there.`;
    logger.warn(`${text} (${Date.now() - server.startedAt} ms after start)`);
    void vscode.window.showInformationMessage(text);
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

/** 'exited with code 1', or 'exited with code 0 without listening' for a server that never listened. */
function exitNote(server: DevServer): string {
  const code = server.exitCode;
  return `exited${codeText(code)}${!server.seenListening && (code === 0 || code === undefined) ? ' without listening' : ''}`;
}

