import * as vscode from 'vscode';
import type { Allocation, Logger, PortRange } from '../core/types';
import type { Project } from '../core/projects';
import { descendants, lazyProcessTable, type ProcessTable } from '../os/index';
import type { PortOs } from '../os/types';
import type * as AgentsPart from './agents';
import { LM_TOOL_NAMES, TASK_TYPE } from './agentNames';
import { lazyPart } from './lazy';

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
  /**
   * The servers' process trees, read through this bundle's OS layer (dist/agents.js imports no src/os: it would
   * get its own copy of the OS layer's state). Filled in by `registerAgentIntegrations`.
   */
  trees: { table(): Promise<ProcessTable>; descendants(table: ProcessTable, pid: number): number[] };
}

/**
 * Registers the language model tools, the `devPorts.port` command and the `devPorts` task provider at activation;
 * their bodies (src/vscode/agents.ts, built as dist/agents.js) load on the first invoke, `devPorts.port` or
 * provideTasks. The composition root adds the returned disposables to `context.subscriptions`.
 *
 * @example
 * context.subscriptions.push(...registerAgentIntegrations({ allocator, os: nodeOs, config, projects, servers, logger }));
 */
export function registerAgentIntegrations(deps: Omit<AgentIntegrationDeps, 'trees'>): vscode.Disposable[] {
  const load = lazyPart<typeof AgentsPart>('agents.js', 'the agent tools', deps.logger);
  let parts: AgentsPart.AgentParts | undefined;
  const agents = (): AgentsPart.AgentParts => (parts ??= load().createAgents({ ...deps, trees: { table: lazyProcessTable, descendants } }));
  const tools = LM_TOOL_NAMES.map((name) =>
    vscode.lm.registerTool<unknown>(name, {
      prepareInvocation: (options, token) => agents().tools[name].prepareInvocation!(options, token),
      invoke: (options, token) => agents().tools[name].invoke(options, token),
    }),
  );
  const port = vscode.commands.registerCommand('devPorts.port', (arg?: unknown) => agents().port(arg));
  const tasks = vscode.tasks.registerTaskProvider(TASK_TYPE, {
    provideTasks: (token) => agents().tasks.provideTasks(token),
    resolveTask: (task, token) => agents().tasks.resolveTask(task, token),
  });
  return [...tools, port, tasks];
}
