import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import * as vscode from 'vscode';
import { devServerCommand, type Project } from '../core/projects';
import type { AgentContext } from './agentContext';
import { TASK_TYPE } from './agentNames';

export { TASK_TYPE };

interface DevPortsTaskDefinition extends vscode.TaskDefinition {
  /** Project id, path relative to the workspace folder, or name. */
  project: string;
}

/**
 * A pseudoterminal that runs one dev server through Dev Ports: reserves the project's port (the same one while it
 * holds it), spawns the dev script with `PORT` and the framework's flags, and releases the port when the server
 * ends or the task is terminated.
 *
 * Why a CustomExecution and not a ShellExecution of `dev-ports run`: the extension cannot count on `dev-ports`
 * being on PATH (the .vsix carries dist/cli.js, and the editor's executable is not Node), and here the extension
 * host itself sees the end and releases, even when the terminal is killed. The server gets its own process group
 * (never the extension host's, which is the editor's), so a stop reaches npm → sh → node.
 */
class DevServerTaskTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private child: ChildProcess | undefined;
  private port: number | undefined;
  private released = false;
  private closed = false;

  constructor(
    private readonly ctx: AgentContext,
    private readonly project: Project,
  ) {}

  private write(text: string): void {
    this.writeEmitter.fire(text.replace(/\r?\n/g, '\r\n'));
  }

  async open(): Promise<void> {
    const { deps } = this.ctx;
    try {
      if (!vscode.workspace.isTrusted) throw new Error('this workspace is not trusted, and the dev script comes from the workspace');
      const range = this.project.portRange ?? deps.config.get(vscode.Uri.file(this.project.workspaceFolder)).portRange;
      const allocation = await deps.allocator.allocate(
        this.project.id,
        this.project.port !== undefined ? { preferredPort: this.project.port, range } : { range },
      );
      this.port = allocation.port;
      const cmd = devServerCommand(this.project, allocation.port);
      const line = cmd.shell ? cmd.command : [cmd.command, ...cmd.args].join(' ');
      this.write(`\x1b[2m[Dev Ports] ${this.project.name} on port ${allocation.port}: PORT=${allocation.port} ${line}\x1b[0m\n`);
      if (this.closed) return void (await this.release());
      const child = spawn(cmd.command, cmd.args, {
        cwd: this.project.folder,
        env: { ...process.env, ...cmd.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '1' },
        shell: cmd.shell === true,
        detached: process.platform !== 'win32',
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
      this.child = child;
      child.stdout!.on('data', (d: Buffer) => this.write(d.toString()));
      child.stderr!.on('data', (d: Buffer) => this.write(d.toString()));
      child.once('error', (e) => {
        this.write(`[Dev Ports] Cannot run ${cmd.command}: ${e.message}\n`);
        void this.finish(127);
      });
      child.once('exit', (code, signal) => {
        this.write(`\n[Dev Ports] ${this.project.name} ended (${code ?? signal}); port ${allocation.port} released.\n`);
        void this.finish(code ?? 1);
      });
      if (child.pid !== undefined) await deps.allocator.setPid(this.project.id, child.pid).catch(() => undefined);
    } catch (e) {
      this.write(`[Dev Ports] Cannot start ${this.project.name}: ${e instanceof Error ? e.message : String(e)}\n`);
      await this.finish(1);
    }
  }

  handleInput(data: string): void {
    if (data === '\x03') return void this.stopChild();
    this.child?.stdin?.write(data === '\r' ? '\n' : data);
  }

  private async release(): Promise<void> {
    if (this.released || this.port === undefined) return;
    this.released = true;
    await this.ctx.deps.allocator.releasePortForProject(this.project.id).catch((e) => this.ctx.deps.logger.warn(`task ${this.project.name}: release failed: ${String(e)}`));
  }

  private async finish(code: number): Promise<void> {
    await this.release();
    if (!this.closed) {
      this.closed = true;
      this.closeEmitter.fire(code);
    }
  }

  /** TERM to the whole group, then the tree by PID after the grace period (what ignores TERM). */
  private stopChild(): void {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const pid = child.pid;
    try {
      if (process.platform !== 'win32') process.kill(-pid, 'SIGTERM');
      else child.kill('SIGTERM');
    } catch {
      // Already gone.
    }
    const grace = this.ctx.deps.config.get().killGracePeriodMs;
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) void this.ctx.deps.os.killProcessTree(pid, { gracePeriodMs: 0, force: true }).catch(() => undefined);
      try {
        if (process.platform !== 'win32') process.kill(-pid, 'SIGKILL');
      } catch {
        // The group is gone.
      }
    }, grace).unref?.();
  }

  close(): void {
    // Terminate Task, or the terminal was closed: stop the server; its exit releases the port.
    this.closed = true;
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.stopChild();
    else void this.release();
  }
}

/**
 * The `devPorts` task type: one task per dev-server project under Tasks: Run Task (`{ "type": "devPorts",
 * "project": "apps/web" }` in tasks.json too), run through Dev Ports (reserved, released at the end).
 *
 * src/vscode/agentIntegrations.ts registers the provider at activation and calls this one on first use.
 *
 * @example
 * vscode.tasks.registerTaskProvider(TASK_TYPE, taskProvider(ctx));
 */
export function taskProvider(ctx: AgentContext): Required<Pick<vscode.TaskProvider, 'provideTasks' | 'resolveTask'>> {
  const taskFor = (project: Project, definition: DevPortsTaskDefinition, scope?: vscode.WorkspaceFolder): vscode.Task => {
    const folder = scope ?? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(project.folder)) ?? vscode.TaskScope.Workspace;
    const rel = path.relative(project.workspaceFolder, project.folder).split(path.sep).join('/') || '.';
    const task = new vscode.Task(
      definition,
      folder,
      rel === '.' ? `${project.name}: dev server` : `${project.name} (${rel}): dev server`,
      'Dev Ports',
      new vscode.CustomExecution(async () => new DevServerTaskTerminal(ctx, project)),
      [],
    );
    task.isBackground = true;
    task.detail = `${project.script ? `${project.packageManager} run ${project.script}` : (project.command ?? '')} on a port Dev Ports reserves`;
    return task;
  };

  const provider: Required<Pick<vscode.TaskProvider, 'provideTasks' | 'resolveTask'>> = {
    async provideTasks() {
      if (!vscode.workspace.isTrusted) return [];
      const projects = await ctx.projects();
      return projects
        // Orchestrators (turbo dev, …) and watchers (tsc --watch) are no one-port dev server (branch frameworks adds `role`).
        .filter((p) => (p.script !== undefined || p.command !== undefined) && ((p as { role?: string }).role ?? 'server') === 'server')
        .map((p) => {
          const rel = path.relative(p.workspaceFolder, p.folder).split(path.sep).join('/') || '.';
          return taskFor(p, { type: TASK_TYPE, project: rel });
        });
    },
    async resolveTask(task) {
      const definition = task.definition as DevPortsTaskDefinition;
      if (typeof definition.project !== 'string' || definition.project.trim() === '') return undefined;
      let project: Project;
      try {
        project = await ctx.findProject(definition.project);
      } catch (e) {
        ctx.deps.logger.warn(`task ${JSON.stringify(definition.project)}: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
      const scope = typeof task.scope === 'object' ? (task.scope as vscode.WorkspaceFolder) : undefined;
      const resolved = taskFor(project, definition, scope);
      resolved.name = task.name || resolved.name;
      return resolved;
    },
  };
  return provider;
}
