/**
 * Composition root: builds the core over VS Code's storage and the real OS, wires the adapters, registers
 * everything in `context.subscriptions`, and returns the extension API of CONTRACT.md. Activation does no OS
 * scan and spawns nothing: the startup reconcile and project discovery run right after it.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { PortAllocator } from './core/allocator';
import { Ledger } from './core/ledger';
import { normalizeProjectId } from './core/projects';
import type { Allocation } from './core/types';
import { nodeOs } from './os/index';
import { ancestors, snapshotProcessTable } from './os/index';
import { registerCommands } from './vscode/commands';
import { Config } from './vscode/config';
import { Conflicts } from './vscode/conflicts';
import { DevServerManager, type DevServerInfo } from './vscode/servers/devServerManager';
import { registerStartWithDebugger } from './vscode/servers/debugTerminal';
import { errorMessage, Log } from './vscode/log';
import { mementoStore } from './vscode/mementoStore';
import type { PortsNode } from './vscode/portsModel';
import { PortsTreeProvider } from './vscode/portsTreeProvider';
import { ProjectsService } from './vscode/projectsService';
import { StaleSweeper } from './vscode/staleSweeper';
import { StatusBar, type StatusBarState } from './vscode/statusBar';

/** The API other extensions (and the integration tests) get from `activate()`. */
export interface DevPortsApi {
  readonly onDidChangeAllocations: vscode.Event<void>;
  readonly onDidChangeServers: vscode.Event<void>;
  getServers(): DevServerInfo[];
  getAllocations(): Allocation[];
  allocate(projectId: string, options?: { preferredPort?: number; forceKillIfOccupied?: boolean }): Promise<Allocation>;
  releasePortForProject(projectId: string): Promise<boolean>;
  cleanupStalePortAllocations(options?: { olderThanMs?: number }): Promise<Allocation[]>;
  releaseAllPortAllocations(): Promise<number>;
  /**
   * For the integration tests only; not part of the contract and may change: the view's data, the status bar's
   * state, the last conflict message, the running servers, and the startup steps.
   */
  readonly _test: {
    /** Root nodes (or children of a node) of the Ports view, as plain objects, from a fresh OS snapshot. */
    tree(element?: PortsNode): Promise<PortsNode[]>;
    /** Refreshes the status bar now and returns what it shows. */
    statusBar(): Promise<StatusBarState>;
    lastConflictMessage(): string | undefined;
    servers(): { projectId: string; port: number; state: string; phase?: string; pid?: number; shellPid?: number; terminalName: string; exitCode?: number; extraPorts?: number[]; note?: string }[];
    /** Resolves once no start, stop or terminal clean-up is under way. */
    idle(): Promise<void>;
    /** Resolves when the first project discovery has finished. */
    projectsReady(): Promise<void>;
    /** The startup reconcile (what activation runs), run again now. */
    reconcile(): Promise<{ kept: Allocation[]; released: Allocation[] }>;
    /** The startup reconcile that activation started. */
    startup: Promise<unknown>;
    activationMs: number;
  };
}

let protectedCache: number[] | undefined;

/**
 * The API's project ids: an absolute path is normalised (so `/a/web/` and `/a/web` are one project, as for the
 * commands and the CLI); any other id is kept exactly as given, so a caller always finds its allocation under the
 * id it used.
 */
function apiProjectId(projectId: string): string {
  return typeof projectId === 'string' && path.isAbsolute(projectId) ? normalizeProjectId(projectId) : projectId;
}

/** The editor's own processes: this extension host, its parent and every ancestor. Never signalled. */
async function editorPids(): Promise<number[]> {
  if (!protectedCache) {
    const base = [process.pid, process.ppid];
    try {
      protectedCache = [...new Set([...base, ...ancestors(await snapshotProcessTable(), process.pid)])];
    } catch {
      return base;
    }
  }
  return protectedCache;
}

export function activate(context: vscode.ExtensionContext): DevPortsApi {
  const t0 = performance.now();
  const log = new Log();
  const logger = log.for('extension');
  const config = new Config();
  context.subscriptions.push(log, config);

  const allocator = new PortAllocator({
    store: mementoStore(context.workspaceState),
    ledger: new Ledger({ logger: log.core }),
    os: nodeOs,
    logger: log.core,
    owner: { pid: process.pid, kind: 'vscode' },
    range: () => config.get().portRange,
    gracePeriodMs: () => config.get().killGracePeriodMs,
    staleAfterMs: () => config.get().staleAfterMinutes * 60_000,
    protectedPids: () => protectedCache ?? [process.pid, process.ppid],
  });
  const allocationsChanged = new vscode.EventEmitter<void>();
  const allocatorSub = allocator.onDidChange(() => allocationsChanged.fire());
  context.subscriptions.push(allocationsChanged, { dispose: () => allocatorSub.dispose() });

  const conflicts = new Conflicts(log.for('conflicts'), () => log.show(), () => config.get().killGracePeriodMs, editorPids);
  const projects = new ProjectsService(config, log.for('projects'), log.core);
  const servers = new DevServerManager({
    allocator,
    os: nodeOs,
    config,
    conflicts,
    state: context.workspaceState,
    logger: log.for('terminals'),
    protectedPids: editorPids,
  });
  const deps = { allocator, os: nodeOs, config, projects, servers };
  const tree = new PortsTreeProvider({ ...deps, logger: log.for('view') });
  const view = vscode.window.createTreeView('devPorts.ports', { treeDataProvider: tree, showCollapseAll: false });
  tree.attach(view);
  const statusBar = new StatusBar({ ...deps, logger: log.for('status') });
  const sweeper = new StaleSweeper(allocator, config, log.for('sweep'));
  context.subscriptions.push(projects, servers, tree, view, statusBar, sweeper);
  context.subscriptions.push(
    ...registerCommands({ ...deps, conflicts, tree, statusBar, log, logger: log.for('commands'), protectedPids: editorPids }),
    registerStartWithDebugger({ projects: () => projects.all() }),
  );

  // Off the activation path: an OS snapshot for the reconcile, a file walk for discovery.
  const startup = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(async () => {
    const started = performance.now();
    await Promise.all([
      allocator
        .reconcile()
        .then(({ kept, released }) => {
          if (released.length) logger.info(`startup: released ${released.length} allocation(s) whose server is gone`);
          return { kept, released };
        })
        .catch((error) => logger.error(`startup reconcile failed: ${errorMessage(error)}`)),
      projects.refresh(),
    ]);
    await statusBar.update();
    logger.info(`startup work done in ${(performance.now() - started).toFixed(0)} ms`);
  });

  const activationMs = performance.now() - t0;
  logger.info(`activated in ${activationMs.toFixed(1)} ms (VS Code ${vscode.version}, ${vscode.env.appName}, remote: ${vscode.env.remoteName ?? 'none'})`);

  return {
    onDidChangeAllocations: allocationsChanged.event,
    onDidChangeServers: servers.onDidChange,
    getServers: () => servers.getServers(),
    getAllocations: () => allocator.getAllocations(),
    allocate: (projectId, options) => allocator.allocate(apiProjectId(projectId), options ?? {}),
    releasePortForProject: (projectId) => allocator.releasePortForProject(apiProjectId(projectId)),
    cleanupStalePortAllocations: (options) =>
      allocator.cleanupStalePortAllocations({ olderThanMs: options?.olderThanMs ?? config.get().staleAfterMinutes * 60_000 }),
    releaseAllPortAllocations: () => allocator.releaseAllPortAllocations({ projectIds: projects.all().map((p) => p.id) }),
    _test: {
      tree: (element) => tree.getChildren(element),
      statusBar: async () => {
        await statusBar.update();
        return { ...statusBar.state };
      },
      lastConflictMessage: () => conflicts.lastMessage,
      servers: () => servers.infos().filter((s) => s.phase !== 'waiting'),
      idle: () => servers.idle(),
      projectsReady: () => projects.ready,
      reconcile: () => allocator.reconcile(),
      startup,
      activationMs,
    },
  };
}

export function deactivate(): void {
  // Everything is in context.subscriptions; terminals are transient and end with the window.
}
