import * as vscode from 'vscode';
import {
  AGENT_TOOLS,
  buildListPorts,
  freePortInput,
  projectInput,
  resultText,
  type AgentProcess,
  type FreeToolResult,
  type ListPortsResult,
  type StartToolResult,
  type StopToolResult,
} from '../core/agentTools';
import type { AgentContext } from './agentContext';

/** How long a start waits for the server to listen before answering (state "starting" after that). */
const LISTEN_WAIT_MS = 20_000;
/** A confirmation answered longer ago than this no longer covers the invocation. */
const CONFIRMATION_VALID_MS = 10 * 60_000;

function textResult(value: unknown): vscode.LanguageModelToolResult {
  return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(resultText(value))]);
}

function describe(holders: readonly AgentProcess[]): string {
  return holders.map((h) => `${h.name} (PID ${h.pid}${h.command ? `: ${h.command}` : ''})`).join(', ');
}

/**
 * The four tools of CONTRACT.md as VS Code language model tools (package.json `contributes.languageModelTools`
 * declares the same names and schemas, from src/core/agentTools.ts). Results are JSON text a model can act on.
 * Stopping anything Dev Ports did not start in this window goes through a confirmation (`prepareInvocation`);
 * starting obeys Workspace Trust like the Start command.
 */
export class LmTools {
  /** What a confirmation was shown for (`port:3000`, `project:/src/web`), and when: invoke stops foreign processes only then. */
  private readonly asked = new Map<string, number>();

  constructor(private readonly ctx: AgentContext) {}

  private wasAsked(key: string): boolean {
    const at = this.asked.get(key);
    this.asked.delete(key);
    return at !== undefined && Date.now() - at < CONFIRMATION_VALID_MS;
  }

  async listPorts(): Promise<ListPortsResult> {
    const { deps } = this.ctx;
    const [projects, listeners] = await Promise.all([this.ctx.projects(), deps.os.listListeners()]);
    const servers = this.ctx.servers();
    const owned = await this.ctx.ownedPids(servers);
    const reservations = new Map<string, number>();
    for (const p of projects) {
      const port = deps.allocator.getAllocation(p.id)?.port ?? deps.allocator.reservation?.(p.id)?.port;
      if (port !== undefined) reservations.set(p.id, port);
    }
    const range = deps.config.get().portRange;
    const urls = new Map<number, string>();
    const ports = new Set([...listeners.map((l) => l.port)].filter((p) => (p >= range.start && p <= range.end) || [...reservations.values()].includes(p) || servers.some((s) => s.port === p)));
    await Promise.all([...ports].map(async (p) => urls.set(p, await this.ctx.url(p))));
    return buildListPorts({ projects, reservations, servers, listeners, range, ownedPids: owned, url: (p) => urls.get(p) ?? `http://localhost:${p}/` });
  }

  async start(query: string): Promise<StartToolResult & { state: string }> {
    const project = await this.ctx.findProject(query);
    if (!vscode.workspace.isTrusted) {
      throw new Error(`Dev Ports does not start ${project.name}: this workspace is not trusted, and its dev script comes from the workspace. Ask the user to trust the workspace.`);
    }
    const wasRunning = this.ctx.servers().some((s) => s.projectId === project.id && s.state !== 'stopping' && s.state !== 'exited');
    // 'fail': an agent gets the holder named in the error at once; no question is left open behind its back.
    const started = await this.ctx.deps.servers.start(project, { onConflict: 'fail' });
    const deadline = Date.now() + LISTEN_WAIT_MS;
    let listening = false;
    while (Date.now() < deadline) {
      if (!(await this.ctx.deps.os.isPortAvailable(started.port))) {
        listening = true;
        break;
      }
      if (!this.ctx.servers().some((s) => s.projectId === project.id)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const state = listening ? 'listening' : this.ctx.servers().some((s) => s.projectId === project.id) ? 'starting' : 'exited';
    return {
      projectId: started.projectId,
      port: started.port,
      url: await this.ctx.url(started.port),
      started: !wasRunning,
      state,
      ...(started.terminalName ? { output: `terminal "${started.terminalName}"` } : {}),
    };
  }

  async stop(query: string): Promise<StopToolResult> {
    const project = await this.ctx.findProject(query);
    if ((await this.confirmation('stop', { project: query }, false)) && !this.wasAsked(`project:${project.id}`)) {
      throw new Error(`${project.name}'s port is held by a process Dev Ports did not start, and the user was not asked; nothing was stopped.`);
    }
    const { projectId, port, released } = await this.ctx.deps.servers.stop(project);
    return { projectId, port: port ?? null, released };
  }

  /** Who holds the port, and whether they all belong to servers Dev Ports runs here. */
  async holders(port: number): Promise<{ holders: AgentProcess[]; ours: boolean }> {
    const listeners = await this.ctx.deps.os.listListeners(port);
    const holders = listeners.flatMap((l) =>
      l.pids.map((pid) => {
        const p = l.processes.find((x) => x.pid === pid);
        return { pid, name: p?.name ?? '?', command: p?.command ?? '' };
      }),
    );
    if (holders.length === 0) return { holders, ours: true };
    const owned = await this.ctx.ownedPids();
    return { holders, ours: holders.every((h) => owned.has(h.pid)) };
  }

  async freePort(port: number): Promise<FreeToolResult> {
    const { holders, ours } = await this.holders(port);
    // Between the question and now someone else may have taken the port: only what the user saw is stopped.
    if (!ours && !this.wasAsked(`port:${port}`)) {
      return { port, killedPids: [], free: false, holders, note: `Port ${port} is held by ${describe(holders)}, which Dev Ports did not start, and the user was not asked; nothing was stopped.` };
    }
    // The command does the guarded work (editor processes, other users, a port of our own server stops that
    // server). `force`: the user confirmed in prepareInvocation when the holder is not ours.
    const result = (await vscode.commands.executeCommand('devPorts.freePort', { port, force: true })) as FreeToolResult | undefined;
    if (!result) return { port, killedPids: [], free: false, note: 'Not freed.' };
    const out: FreeToolResult = { port: result.port, killedPids: result.killedPids, free: result.free };
    if (!result.free) {
      const { holders } = await this.holders(port);
      if (holders.length > 0) out.holders = holders;
    }
    return out;
  }

  /** The confirmation for a stop or a free that would end processes Dev Ports did not start, else undefined. */
  async confirmation(tool: 'stop' | 'free', input: unknown, record = true): Promise<vscode.LanguageModelToolConfirmationMessages | undefined> {
    if (tool === 'free') {
      const { port } = freePortInput(input);
      const { holders, ours } = await this.holders(port);
      if (ours) return undefined;
      if (record) this.asked.set(`port:${port}`, Date.now());
      const message = new vscode.MarkdownString(
        `Port **${port}** is held by ${describe(holders)}, which Dev Ports did not start. Stop ${holders.length === 1 ? 'it' : 'them'} with ${holders.length === 1 ? 'its' : 'their'} whole process tree?`,
      );
      return { title: `Stop the process on port ${port}?`, message };
    }
    const project = await this.ctx.findProject(projectInput(input));
    if (this.ctx.servers().some((s) => s.projectId === project.id)) return undefined;
    const port = this.ctx.deps.allocator.getAllocation(project.id)?.port ?? this.ctx.deps.allocator.reservation?.(project.id)?.port;
    if (port === undefined) return undefined;
    const { holders, ours } = await this.holders(port);
    if (ours) return undefined;
    if (record) this.asked.set(`project:${project.id}`, Date.now());
    return {
      title: `Stop ${project.name}?`,
      message: new vscode.MarkdownString(
        `${project.name}'s port **${port}** is held by ${describe(holders)}, which Dev Ports did not start in this window. Stop ${holders.length === 1 ? 'it' : 'them'} and release the port?`,
      ),
    };
  }
}

/** When the holders cannot be looked up, the user decides: never stop an unknown process unasked. */
function uncheckedConfirmation(e: unknown): vscode.LanguageModelToolConfirmationMessages {
  return {
    title: 'Stop processes Dev Ports may not have started?',
    message: `Dev Ports could not tell who holds the port (${e instanceof Error ? e.message : String(e)}). Go on and stop whatever holds it?`,
  };
}

/**
 * The four tools by name, for `vscode.lm.registerTool` (src/vscode/agentIntegrations.ts registers them at
 * activation and calls these on first use).
 *
 * @example
 * const tools = lmTools(ctx); await tools.devPorts_listPorts.invoke({ input: {} }, token);
 */
export function lmTools(ctx: AgentContext): Record<string, vscode.LanguageModelTool<unknown>> {
  const tools = new LmTools(ctx);
  const logger = ctx.deps.logger;
  const wrap = async (name: string, input: unknown, fn: () => Promise<unknown>): Promise<vscode.LanguageModelToolResult> => {
    try {
      const result = await fn();
      logger.info(`${name} ${JSON.stringify(input)} → ${JSON.stringify(result)}`);
      return textResult(result);
    } catch (e) {
      logger.warn(`${name} ${JSON.stringify(input)} failed: ${e instanceof Error ? e.message : String(e)}`);
      // Thrown errors reach the model as the tool's failure; the message says what to do.
      throw e;
    }
  };
  const [list, start, stop, free] = AGENT_TOOLS.map((t) => t.name);
  const byName: Record<string, vscode.LanguageModelTool<Record<string, never>> | vscode.LanguageModelTool<{ project: string }> | vscode.LanguageModelTool<{ port: number }>> = {
    [list]: {
      prepareInvocation: () => ({ invocationMessage: 'Listing dev servers and ports' }),
      invoke: (o) => wrap(list, o.input, () => tools.listPorts()),
    } satisfies vscode.LanguageModelTool<Record<string, never>>,
    [start]: {
      prepareInvocation: (o) => ({ invocationMessage: `Starting the dev server of ${String(o.input?.project)}` }),
      invoke: (o) => wrap(start, o.input, () => tools.start(projectInput(o.input))),
    } satisfies vscode.LanguageModelTool<{ project: string }>,
    [stop]: {
      prepareInvocation: async (o) => ({
        invocationMessage: `Stopping the dev server of ${String(o.input?.project)}`,
        confirmationMessages: await tools.confirmation('stop', o.input).catch(uncheckedConfirmation),
      }),
      invoke: (o) => wrap(stop, o.input, () => tools.stop(projectInput(o.input))),
    } satisfies vscode.LanguageModelTool<{ project: string }>,
    [free]: {
      prepareInvocation: async (o) => ({
        invocationMessage: `Freeing port ${String(o.input?.port)}`,
        confirmationMessages: await tools.confirmation('free', o.input).catch(uncheckedConfirmation),
      }),
      invoke: (o) => wrap(free, o.input, () => tools.freePort(freePortInput(o.input).port)),
    } satisfies vscode.LanguageModelTool<{ port: number }>,
  };
  return byName as Record<string, vscode.LanguageModelTool<unknown>>;
}
