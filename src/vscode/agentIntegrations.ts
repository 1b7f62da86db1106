import * as vscode from 'vscode';
import type { AgentProjectState, AgentServerFact } from '../core/agentTools';
import { findProject, localUrl } from '../core/agentTools';
import type { Allocation, Logger, PortRange } from '../core/types';
import type { Project } from '../core/projects';
import { descendants } from '../os/index';
import type { PortOs } from '../os/types';
import { registerLmTools } from './lmTools';
import { registerPortCommand } from './portCommand';
import { treeTable } from './procTree';
import { registerTaskProvider } from './taskProvider';

/**
 * What the agent integrations (language model tools, `devPorts.port`, the `devPorts` task type) need from the
 * rest of the extension, declared here as narrow structural types so they survive the dev-server manager's and
 * the projects service's restructuring: any manager with `start`/`stop` and `list()` or `infos()` fits.
 */
export interface AgentServerManager {
  start(project: Project, options?: { onConflict?: 'ask' | 'notify' | 'free' | 'useNext' | 'fail'; port?: number }): Promise<{ projectId: string; port: number; terminalName?: string }>;
  stop(project: Project): Promise<{ projectId: string; port: number | undefined; released: boolean; killedPids?: number[] }>;
  /** Servers as the manager keeps them (current shape). */
  list?(): readonly { project: { id: string }; port: number; state: string; shellPid?: number; pid?: number }[];
  /** Servers as the Ports model reads them (INTERFACES.md `ServerInfo`). */
  infos?(): readonly { projectId: string; port: number; state: string; pid?: number; shellPid?: number; note?: string; phase?: string }[];
}

/** The projects service: `projects()` (INTERFACES.md) or `all()` (its current name). */
export type AgentProjects = ({ projects(): readonly Project[] } | { all(): readonly Project[] }) & {
  readonly ready?: Promise<void>;
  refresh?(): Promise<void>;
};

export interface AgentAllocator {
  getAllocation(projectId: string): Allocation | undefined;
  allocate(projectId: string, options?: { preferredPort?: number; range?: PortRange }): Promise<Allocation>;
  releasePortForProject(projectId: string): Promise<boolean>;
  setPid(projectId: string, pid: number | undefined): Promise<void>;
  /** The machine-wide reservation of a project, whoever made it. */
  reservation?(projectId: string): { port: number; owner?: { pid: number; kind: string } } | undefined;
}

export interface AgentIntegrationDeps {
  allocator: AgentAllocator;
  os: PortOs;
  config: { get(scope?: vscode.Uri): { portRange: PortRange; killGracePeriodMs: number } };
  projects: AgentProjects;
  servers: AgentServerManager;
  logger: Logger;
  /** The editor's own PIDs, never to be signalled. */
  protectedPids?: () => Promise<number[]>;
}

/** A dev server the manager runs, normalised to the tools' words. */
export interface ManagedServer extends AgentServerFact {
  /** PID whose tree is the server (the listener, else the job's root or the terminal's shell). */
  root?: number;
}

const STATES: Record<string, AgentProjectState> = {
  starting: 'starting',
  running: 'listening',
  listening: 'listening',
  ready: 'ready',
  unhealthy: 'unhealthy',
  stopping: 'stopping',
  exited: 'exited',
};

/** Helpers the three integrations share. */
export class AgentContext {
  constructor(readonly deps: AgentIntegrationDeps) {}

  async projects(): Promise<Project[]> {
    const p = this.deps.projects;
    await p.ready;
    // A class may keep its list in a private field named `projects`: only a method counts.
    const list = 'projects' in p && typeof p.projects === 'function' ? p.projects() : 'all' in p && typeof p.all === 'function' ? p.all() : [];
    return [...list];
  }

  roots(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  }

  /** The project named by an id, a path relative to a workspace folder, or a name; refreshes once if unknown. */
  async findProject(query: string): Promise<Project> {
    try {
      return findProject(await this.projects(), query, this.roots());
    } catch (e) {
      if (!this.deps.projects.refresh) throw e;
      await this.deps.projects.refresh();
      return findProject(await this.projects(), query, this.roots());
    }
  }

  servers(): ManagedServer[] {
    const { servers } = this.deps;
    if (servers.infos) {
      return servers.infos().map((s) => ({
        projectId: s.projectId,
        port: s.port,
        state: s.phase === 'stopping' ? 'stopping' : (STATES[s.state] ?? 'starting'),
        pid: s.pid,
        root: s.pid ?? s.shellPid,
        note: s.note,
      }));
    }
    return (servers.list?.() ?? []).map((s) => ({
      projectId: s.project.id,
      port: s.port,
      state: STATES[s.state] ?? 'starting',
      pid: s.pid,
      root: s.pid ?? s.shellPid,
    }));
  }

  /** PID → project id for every process in the trees of the servers Dev Ports runs in this window. */
  async ownedPids(servers = this.servers()): Promise<Map<number, string>> {
    const owned = new Map<number, string>();
    const roots = servers.filter((s) => s.root !== undefined);
    if (roots.length === 0) return owned;
    // Only the servers' own trees (children files), not the whole process table.
    const table = await treeTable();
    for (const s of roots) {
      owned.set(s.root!, s.projectId);
      for (const pid of descendants(table, s.root!)) owned.set(pid, s.projectId);
    }
    return owned;
  }

  /** The address a person or an agent opens for a port: through `asExternalUri` (forwarded in remote windows). */
  async url(port: number): Promise<string> {
    const local = localUrl(port);
    try {
      const external = await Promise.race([
        vscode.env.asExternalUri(vscode.Uri.parse(local)),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000)),
      ]);
      return external ? external.toString(true) : local;
    } catch {
      return local;
    }
  }
}

/**
 * Registers the language model tools, the `devPorts.port` command and the `devPorts` task provider. The
 * composition root adds the returned disposables to `context.subscriptions`.
 *
 * @example
 * context.subscriptions.push(...registerAgentIntegrations({ allocator, os: nodeOs, config, projects, servers, logger }));
 */
export function registerAgentIntegrations(deps: AgentIntegrationDeps): vscode.Disposable[] {
  const ctx = new AgentContext(deps);
  return [...registerLmTools(ctx), ...registerPortCommand(ctx), ...registerTaskProvider(ctx)];
}
