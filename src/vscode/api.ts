import * as path from 'path';
import * as vscode from 'vscode';
import type { PortAllocator } from '../core/allocator';
import type { Metrics } from '../core/metrics';
import { normalizeProjectId } from '../core/projects';
import type { Allocation } from '../core/types';
import type { Config } from './config';
import type { Conflicts } from './conflicts';
import type { DevServerManager } from './servers/devServerManager';
import type { PortsNode, ServerInfo } from './portsModel';
import type { DevServerInfo } from './servers/devServer';
import type { PortsTreeProvider } from './portsTreeProvider';
import type { ProjectsService } from './projectsService';
import type { StatusBar, StatusBarState } from './statusBar';

export type { DevServerInfo } from './servers/devServer';
import { toDevServerInfo } from './servers/devServer';

/** The API other extensions (and the integration tests) get from `activate()` (CONTRACT.md). */
export interface DevPortsApi {
  readonly onDidChangeAllocations: vscode.Event<void>;
  readonly onDidChangeServers: vscode.Event<void>;
  getServers(): DevServerInfo[];
  getMetrics(): Metrics;
  getAllocations(): Allocation[];
  allocate(projectId: string, options?: { preferredPort?: number; forceKillIfOccupied?: boolean }): Promise<Allocation>;
  releasePortForProject(projectId: string): Promise<boolean>;
  cleanupStalePortAllocations(options?: { olderThanMs?: number }): Promise<Allocation[]>;
  releaseAllPortAllocations(): Promise<number>;
  /** For the integration tests only; not part of the contract and may change. */
  readonly _test: TestHooks;
}

export interface TestHooks {
  /** Root nodes (or children of a node) of the Servers view, as plain objects, from a fresh OS snapshot. */
  tree(element?: PortsNode): Promise<PortsNode[]>;
  /** How often the view redrew everything, and how many single rows it redrew. */
  redraws(): { whole: number; rows: number };
  /** Refreshes the status bar now and returns what it shows. */
  statusBar(): Promise<StatusBarState>;
  lastConflictMessage(): string | undefined;
  servers(): ServerInfo[];
  /** Warnings about settings shown so far. */
  settingsWarnings(): string[];
  /** Resolves once no start, stop or terminal clean-up is under way. */
  idle(): Promise<void>;
  /** Resolves when the first project discovery has finished. */
  projectsReady(): Promise<void>;
  /** The startup reconcile (what activation runs), run again now. */
  reconcile(): Promise<{ kept: Allocation[]; released: Allocation[] }>;
  /** The startup reconcile that activation started. */
  startup: Promise<unknown>;
  activationMs: number;
}

export interface ApiDeps {
  allocator: PortAllocator;
  config: Config;
  servers: DevServerManager;
  projects: ProjectsService;
  tree: PortsTreeProvider;
  statusBar: StatusBar;
  conflicts: Conflicts;
  metrics: () => Metrics;
  startup: Promise<unknown>;
  activationMs: number;
}

/**
 * The API's project ids: an absolute path is normalised (so `/a/web/` and `/a/web` are one project, as for the
 * commands and the CLI); any other id is kept exactly as given, so a caller always finds its allocation under the
 * id it used.
 */
function apiProjectId(projectId: string): string {
  return typeof projectId === 'string' && path.isAbsolute(projectId) ? normalizeProjectId(projectId) : projectId;
}

/**
 * Builds the object `activate()` returns; its event emitters go into `subscriptions`.
 *
 * @example
 * return createApi({ allocator, config, servers, ... }, context.subscriptions);
 */
export function createApi(deps: ApiDeps, subscriptions: { dispose(): unknown }[]): DevPortsApi {
  const { allocator, config, servers, tree, statusBar } = deps;
  const allocationsChanged = new vscode.EventEmitter<void>();
  const sub = allocator.onDidChange(() => allocationsChanged.fire());
  subscriptions.push(allocationsChanged, sub);
  return {
    onDidChangeAllocations: allocationsChanged.event,
    onDidChangeServers: servers.onDidChange,
    getServers: () => deps.servers.infos().filter((s) => s.phase !== 'waiting').map(toDevServerInfo),
    getMetrics: deps.metrics,
    getAllocations: () => allocator.getAllocations(),
    allocate: (projectId, options) => allocator.allocate(apiProjectId(projectId), options ?? {}),
    releasePortForProject: (projectId) => allocator.releasePortForProject(apiProjectId(projectId)),
    cleanupStalePortAllocations: (options) =>
      allocator.cleanupStalePortAllocations({ olderThanMs: options?.olderThanMs ?? config.get().staleAfterMinutes * 60_000 }),
    releaseAllPortAllocations: () => allocator.releaseAllPortAllocations({ projectIds: deps.projects.all().map((p) => p.id) }),
    _test: {
      tree: async (element) => (element ? tree.getChildren(element) : tree.update()),
      redraws: () => ({ ...tree.redraws }),
      statusBar: async () => {
        await statusBar.update();
        return { ...statusBar.state };
      },
      lastConflictMessage: () => deps.conflicts.lastMessage,
      servers: () => servers.infos().filter((s) => s.phase !== 'waiting'),
      settingsWarnings: () => [...config.warnings],
      idle: () => servers.idle(),
      projectsReady: () => deps.projects.ready,
      reconcile: () => allocator.reconcile(),
      startup: deps.startup,
      activationMs: deps.activationMs,
    },
  };
}
