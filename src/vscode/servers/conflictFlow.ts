/**
 * The start-time conflict flow: which port a start asks for, and what happens when a process Dev Ports did not
 * start holds it. Conflicts are never silent: an explicit port (argument, `devPorts.projects[..].port`) and the
 * project's last port alike go through one message naming the holder, with Free Port / Use Port N. While that
 * message waits for the user, the project's phase is 'waiting'.
 */
import * as vscode from 'vscode';
import type { PortAllocator } from '../../core/allocator';
import { PortInUseError, PortReservedError } from '../../core/errors';
import type { Project } from '../../core/projects';
import type { Allocation, Logger } from '../../core/types';
import type { PortOs } from '../../os/types';
import type { Config } from '../config';
import type { ConflictMode, Conflicts } from '../conflicts';
import type { MetricsSink, StartOptions } from './devServer';
import { CancelledError, OtherWindowError } from './errors';
import type { LastPorts } from './lastPorts';

export interface ConflictFlowDeps {
  allocator: PortAllocator;
  os: PortOs;
  config: Config;
  conflicts: Conflicts;
  lastPorts: LastPorts;
  logger: Logger;
  protectedPids: () => Promise<number[]>;
  metrics?: MetricsSink;
  /** Called when a project starts or stops waiting for the user's answer. */
  changed: () => void;
}

export class ConflictFlow {
  /** Projects whose conflict question is open: the port in question and since when. */
  readonly waiting = new Map<string, { port: number; since: number }>();

  constructor(private readonly deps: ConflictFlowDeps) {}

  /**
   * The allocation for a start. Order: an explicit port (strict); the project's reservation in the ledger, whoever
   * made it (one project, one port: a CLI reservation is reused, never dropped); its allocation in this window;
   * its last port; the range. A foreign holder of any of these goes through the conflict message.
   */
  async allocate(project: Project, options: StartOptions): Promise<Allocation> {
    const { allocator, os, config, logger } = this.deps;
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
    const held = allocator.getAllocation(project.id)?.port ?? reservation?.port;
    // Not strict: a taken last port asks once, and "Use Port N" then becomes the project's port.
    const wish = strict === undefined && held === undefined ? this.deps.lastPorts.get(project.id) : undefined;
    if (reservation && !allocator.getAllocation(project.id) && strict === undefined) {
      logger.info(`${project.name}: reusing its reservation :${reservation.port}${owner ? ` (${owner.kind} PID ${owner.pid})` : ' (made by the CLI)'}`);
    }
    let forceKill = settings.forceKillIfOccupied;
    let useWish = wish !== undefined;

    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        let allocation: Allocation;
        if (strict !== undefined) {
          allocation = await allocator.allocate(project.id, { preferredPort: strict, range, forceKillIfOccupied: forceKill });
        } else if (useWish) {
          try {
            allocation = await allocator.allocate(project.id, { preferredPort: wish, range });
          } catch (error) {
            // Another project's reservation is Dev Ports' own business: move on quietly (and say it in the log).
            if (!(error instanceof PortReservedError)) throw error;
            logger.info(`${project.name}: its last port ${wish} is reserved for ${error.projectId}; taking another from the range`);
            useWish = false;
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
        this.deps.lastPorts.remember(project.id, allocation.port);
        return allocation;
      } catch (error) {
        if (!(error instanceof PortInUseError)) throw error;
        const decision = forceKill ? 'free' : await this.ask(project, error, options.onConflict ?? 'ask');
        if (decision === 'cancel') throw new CancelledError();
        if (decision === 'fail') throw error;
        if (decision === 'free') {
          const result = await os.killProcessesOnPort(error.port, {
            gracePeriodMs: settings.killGracePeriodMs,
            protectedPids: await this.deps.protectedPids(),
          });
          if (result.killedPids.length) this.deps.metrics?.count('kill', result.killedPids.length);
          logger.info(`freed :${error.port} for ${project.name}: stopped PID(s) ${result.killedPids.join(', ') || 'none'}`);
          if (!result.free) throw error;
          strict = error.port;
          forceKill = false;
        } else {
          // useNext: the held port is given up, the suggested one (or the range) is taken.
          if (allocator.getAllocation(project.id)?.port === error.port) await allocator.releasePortForProject(project.id);
          strict = error.suggestedPort;
          useWish = false;
        }
      }
    }
    throw new Error(`Could not find a port for ${project.name} after several tries; see the log (Dev Ports: Show Log).`);
  }

  /** The conflict message; the project's phase is 'waiting' while it is open. */
  private async ask(project: Project, error: PortInUseError, mode: ConflictMode): Promise<'free' | 'useNext' | 'fail' | 'cancel'> {
    // Not counted here: the allocator counted this conflict when it refused the port.
    const retry = (choice: 'free' | 'useNext') =>
      void vscode.commands
        .executeCommand('devPorts.startDevServer', { projectId: project.id, onConflict: choice, ...(choice === 'free' ? { port: error.port } : {}) })
        .then(undefined, () => undefined);
    if (mode !== 'ask') return this.deps.conflicts.resolve(project, error, mode, retry);
    this.waiting.set(project.id, { port: error.port, since: Date.now() });
    this.deps.changed();
    try {
      return await this.deps.conflicts.resolve(project, error, mode, retry);
    } finally {
      this.waiting.delete(project.id);
      this.deps.changed();
    }
  }
}
