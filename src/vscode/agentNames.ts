/**
 * Names the main bundle registers at activation for parts that live in dist/agents.js. No `vscode` import, so a
 * unit test compares them with `AGENT_TOOLS` (src/core/agentTools.ts) and package.json.
 */

/** The four language model tools (package.json `contributes.languageModelTools`, `AGENT_TOOLS`). */
export const LM_TOOL_NAMES = ['devPorts_listPorts', 'devPorts_startDevServer', 'devPorts_stopDevServer', 'devPorts_freePort'] as const;

/** The `devPorts` task type (package.json `contributes.taskDefinitions`). */
export const TASK_TYPE = 'devPorts';
