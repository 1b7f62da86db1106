/**
 * `dev-ports mcp`: a Model Context Protocol server on stdio with the four agent tools (src/core/agentTools.ts).
 * This file is what every CLI run loads; the MCP SDK and the server (src/cli/mcpServer.ts) are bundled into a file
 * of their own, dist/mcpServer.js, loaded only when `mcp` runs, so `dev-ports list` does not even compile them.
 */
import type { Logger } from '../core/types';
import type { PortOs } from '../os/types';
import { UsageError } from './args';
import type { CliIo } from './commands';

export interface McpRequest {
  verbose: boolean;
}

export const MCP_HELP = `Usage: dev-ports mcp

A Model Context Protocol server on stdio (JSON-RPC, one message a line) for coding agents outside VS Code, with
the tools devPorts_listPorts, devPorts_startDevServer, devPorts_stopDevServer and devPorts_freePort. Projects
are found in the client's roots (its open folders) when it has them, else in the current folder (the client's
working directory). A started dev server runs in the background,
detached, its output in a log file under the ledger folder; stop it with devPorts_stopDevServer. freePort stops
a process Dev Ports did not start only when the call says force: true (the agent must ask the user first).
Register it with a client, e.g.:
  claude mcp add dev-ports -- npx dev-ports mcp
  { "mcpServers": { "dev-ports": { "command": "npx", "args": ["dev-ports", "mcp"] } } }
Diagnostics (--verbose) go to stderr; stdout carries only protocol messages.

Exit: 0 when the client closes stdin.`;

/**
 * Parses the arguments after `mcp`: only `--verbose`.
 *
 * @example
 * parseMcpArgs([]); // { verbose: false }
 */
export function parseMcpArgs(args: readonly string[]): McpRequest {
  const req: McpRequest = { verbose: false };
  for (const arg of args) {
    if (arg === '--verbose' && !req.verbose) req.verbose = true;
    else if (arg.startsWith('-')) throw new UsageError(`Unknown flag ${arg.split('=')[0]} for "dev-ports mcp" (see dev-ports mcp --help).`);
    else throw new UsageError(`Unexpected argument ${JSON.stringify(arg)} for "dev-ports mcp" (see dev-ports mcp --help).`);
  }
  return req;
}

/** Serves MCP on stdin/stdout until the client closes stdin; resolves to the exit code. */
export async function mcpCommand(ctx: { io: CliIo; os: PortOs; logger: Logger }, _req: McpRequest): Promise<number> {
  // A dynamic import of a file of its own (dist/mcpServer.js, see esbuild.js): only `mcp` loads the SDK.
  // A require, not import(): Node resolves it to dist/mcpServer.js next to dist/cli.js (import() needs the extension).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { serveMcp } = require('./mcpServer') as typeof import('./mcpServer');
  return serveMcp(ctx);
}
