import * as vscode from 'vscode';
import type { Project } from '../core/projects';
import type { AgentContext } from './agentContext';

/**
 * `devPorts.port` (registered at activation by src/vscode/agentIntegrations.ts): a project's port as a string, for `${input:…}` in tasks.json and launch.json:
 * `"inputs": [{ "id": "webPort", "type": "command", "command": "devPorts.port", "args": "apps/web" }]`.
 * The argument is a project id, a path relative to a workspace folder, or a name; without one (the Command
 * Palette) a quick pick asks. Resolves to the project's running or reserved port, else a port reserved now for
 * it (so the task and the dev server agree), or `undefined` when there is no such project or no free port (an
 * `${input:…}` that resolves to undefined cancels the task instead of running it with an empty port).
 *
 * @example
 * await vscode.commands.executeCommand('devPorts.port', 'apps/web'); // '43100'
 */
export function portCommand(ctx: AgentContext): (arg?: unknown) => Promise<string | undefined> {
  const { deps } = ctx;

  async function pick(): Promise<Project | undefined> {
    const projects = await ctx.projects();
    const picked = await vscode.window.showQuickPick(
      projects.map((p) => ({ label: p.name, description: vscode.workspace.asRelativePath(p.folder), project: p })),
      { placeHolder: 'Port of which project?' },
    );
    return picked?.project;
  }

  async function port(arg: unknown): Promise<string | undefined> {
    const picked = arg === undefined || arg === null || arg === '';
    const value = await portOf(arg, picked);
    // From the Command Palette the answer would be invisible: show it briefly.
    if (picked && value !== undefined) vscode.window.setStatusBarMessage(`$(plug) Port ${value}`, 5000);
    return value;
  }

  async function portOf(arg: unknown, picked: boolean): Promise<string | undefined> {
    let project: Project | undefined;
    try {
      if (picked) project = await pick();
      else if (typeof arg === 'string') project = await ctx.findProject(arg);
      else if (typeof arg === 'object' && typeof (arg as { project?: unknown }).project === 'string') project = await ctx.findProject((arg as { project: string }).project);
      else throw new Error(`Expected a project id, a path relative to a workspace folder, or a name, got ${JSON.stringify(arg)}.`);
      if (!project) return undefined;
      const running = ctx.servers().find((s) => s.projectId === project!.id);
      if (running) return String(running.port);
      const held = deps.allocator.getAllocation(project.id) ?? deps.allocator.reservation?.(project.id);
      if (held) return String(held.port);
      const range = project.portRange ?? deps.config.get(vscode.Uri.file(project.workspaceFolder)).portRange;
      const allocation = await deps.allocator.allocate(project.id, project.port !== undefined ? { preferredPort: project.port, range } : { range });
      deps.logger.info(`devPorts.port ${project.name}: reserved ${allocation.port}`);
      return String(allocation.port);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      deps.logger.warn(`devPorts.port ${JSON.stringify(arg)}: ${message}`);
      void vscode.window.showErrorMessage(`Dev Ports: no port for ${project?.name ?? JSON.stringify(arg)}: ${message}`);
      return undefined;
    }
  }

  return port;
}
