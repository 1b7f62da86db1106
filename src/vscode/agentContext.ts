import * as vscode from 'vscode';
import type { AgentProjectState, AgentServerFact } from '../core/agentTools';
import { findProject, localUrl } from '../core/agentTools';
import type { Project } from '../core/projects';
import type { AgentIntegrationDeps } from './agentIntegrations';

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
    const table = await this.deps.trees.table();
    for (const s of roots) {
      owned.set(s.root!, s.projectId);
      for (const pid of this.deps.trees.descendants(table, s.root!)) owned.set(pid, s.projectId);
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
