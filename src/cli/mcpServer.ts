/**
 * The `dev-ports mcp` server itself, on the official MCP SDK (`@modelcontextprotocol/sdk`): its low-level `Server`
 * so the tools keep the plain JSON schemas both hosts share (src/core/agentTools.ts), over the SDK's stdio
 * transport. Loaded only by `dev-ports mcp` (see src/cli/mcp.ts).
 */
import type { Readable, Writable } from 'stream';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, RootsListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { fileURLToPath } from 'url';
import { AGENT_TOOLS, freePortInput, projectInput, resultText, type AgentToolName } from '../core/agentTools';
import { DevPortsError } from '../core/errors';
import type { Logger } from '../core/types';
import type { PortOs } from '../os/types';
import type { CliIo } from './commands';
import { VERSION } from './help';
import { CliAgentHost } from './mcpTools';

/**
 * Runs the MCP server on `io.stdin`/`io.stdout` until stdin ends. Tool failures are tool results with
 * `isError: true` (the model reads the sentence); protocol errors are the SDK's.
 *
 * @example
 * await serveMcp({ io, os: nodeOs, logger }); // 0 once the client closed stdin
 */
export async function serveMcp(ctx: { io: CliIo; os: PortOs; logger: Logger }): Promise<number> {
  const host = new CliAgentHost({ os: ctx.os, logger: ctx.logger, env: ctx.io.env, roots: [ctx.io.cwd] });
  const server = new Server(
    { name: 'dev-ports', version: VERSION },
    {
      capabilities: { tools: {} },
      instructions:
        'Dev Ports knows the port of every dev-server project here. Call devPorts_listPorts before guessing a port, start servers with devPorts_startDevServer and use the url it returns.',
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: AGENT_TOOLS.map((t) => ({ name: t.name, title: t.displayName, description: t.modelDescription, inputSchema: t.inputSchema })),
  }));
  // The SDK handles requests concurrently; tool calls run one at a time, so a start and a stop of one project
  // sent together happen in the order they were sent.
  let queue: Promise<unknown> = Promise.resolve();
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const run = queue.then(() => callTool(request));
    queue = run.catch(() => undefined);
    return run;
  });
  // A client that has roots (its open folders) says which projects the agent works on: they replace the working
  // directory, which for a client started from elsewhere is not the workspace. Read once initialized and again on
  // every change, in the tool queue, so a call sent after either sees the new roots.
  const readRoots = async () => {
    if (!server.getClientCapabilities()?.roots) return;
    try {
      const { roots } = await server.listRoots(undefined, { timeout: 5000 });
      const folders = roots.filter((r) => r.uri.startsWith('file:')).map((r) => fileURLToPath(r.uri));
      if (folders.length === 0) {
        ctx.logger.info(`[mcp] the client has no folder roots (${roots.length} root(s)); projects come from ${host.roots.join(', ')}`);
        return;
      }
      host.setRoots(folders);
      ctx.logger.info(`[mcp] projects come from the client's roots: ${folders.join(', ')}`);
    } catch (e) {
      ctx.logger.warn(`[mcp] could not read the client's roots (${e instanceof Error ? e.message : String(e)}); projects come from ${host.roots.join(', ')}`);
    }
  };
  const rereadRoots = () => {
    queue = queue.then(readRoots);
  };
  server.oninitialized = rereadRoots;
  server.setNotificationHandler(RootsListChangedNotificationSchema, async () => rereadRoots());
  const callTool = async (request: { params: { name: string; arguments?: Record<string, unknown> } }) => {
    const name = request.params.name as AgentToolName;
    const input = request.params.arguments ?? {};
    try {
      let result: object;
      switch (name) {
        case 'devPorts_listPorts':
          result = await host.listPorts();
          break;
        case 'devPorts_startDevServer':
          result = await host.start(projectInput(input));
          break;
        case 'devPorts_stopDevServer': {
          const { projectId, port, released } = await host.stop(projectInput(input));
          result = { projectId, port, released };
          break;
        }
        case 'devPorts_freePort': {
          const { port, force } = freePortInput(input);
          result = await host.freePort(port, force);
          break;
        }
        default:
          return { content: [{ type: 'text' as const, text: `Unknown tool ${JSON.stringify(request.params.name)}; the tools are ${AGENT_TOOLS.map((t) => t.name).join(', ')}.` }], isError: true };
      }
      ctx.logger.info(`[mcp] ${name} ${JSON.stringify(input)} → ${JSON.stringify(result)}`);
      return { content: [{ type: 'text' as const, text: resultText(result) }], structuredContent: result as Record<string, unknown> };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      ctx.logger.warn(`[mcp] ${name} failed: ${message}`);
      if (!(e instanceof DevPortsError) && ctx.io.env.DEV_PORTS_DEBUG === '1' && e instanceof Error && e.stack) ctx.io.stderr.write(`${e.stack}\n`);
      return { content: [{ type: 'text' as const, text: message }], isError: true };
    }
  };

  const stdin = ctx.io.stdin as Readable;
  const ended = new Promise<void>((resolve) => {
    stdin.once('end', resolve);
    stdin.once('close', resolve);
  });
  const transport = new StdioServerTransport(stdin, ctx.io.stdout as unknown as Writable);
  const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
  await server.connect(transport);
  ctx.logger.info(`[mcp] serving on stdio; projects in ${ctx.io.cwd} until the client names its roots`);
  await Promise.race([ended, closed]);
  await server.close().catch(() => undefined);
  return 0;
}
