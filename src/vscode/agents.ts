/**
 * The agent integrations' bodies, built as their own bundle (dist/agents.js) and loaded by
 * src/vscode/agentIntegrations.ts on the first tool invoke, `devPorts.port` or provideTasks. Everything stateful
 * (allocator, OS layer, process trees) comes in through `deps`: nothing here imports src/os.
 */
import type * as vscode from 'vscode';
import { AgentContext } from './agentContext';
import type { AgentIntegrationDeps } from './agentIntegrations';
import { lmTools } from './lmTools';
import { portCommand } from './portCommand';
import { taskProvider } from './taskProvider';

export interface AgentParts {
  /** The four language model tools by name. */
  tools: Record<string, vscode.LanguageModelTool<unknown>>;
  /** `devPorts.port`. */
  port(arg?: unknown): Promise<string | undefined>;
  /** The `devPorts` task type. */
  tasks: Required<Pick<vscode.TaskProvider, 'provideTasks' | 'resolveTask'>>;
}

export function createAgents(deps: AgentIntegrationDeps): AgentParts {
  const ctx = new AgentContext(deps);
  return { tools: lmTools(ctx), port: portCommand(ctx), tasks: taskProvider(ctx) };
}
