/**
 * The four tools Dev Ports gives coding agents, shared by both hosts: VS Code's language model tools
 * (src/vscode/lmTools.ts) and the `dev-ports mcp` server (src/cli/mcpServer.ts). Here live what both must agree
 * on: names, descriptions, input schemas, input checks, how a project is named, and the shape of each result.
 * No `vscode`, no I/O: the hosts gather the facts and call these pure functions.
 */
import * as path from 'path';
import { InvalidInputError } from './errors';
import { normalizeProjectId, type Project } from './projects';
import type { Listener } from '../os/types';

export type AgentToolName = 'devPorts_listPorts' | 'devPorts_startDevServer' | 'devPorts_stopDevServer' | 'devPorts_freePort';

export interface AgentToolDefinition {
  name: AgentToolName;
  displayName: string;
  /** What the model reads to decide when and how to call the tool. */
  modelDescription: string;
  /** What a person reads in the tools picker. */
  userDescription: string;
  /** `#name` in a chat prompt. */
  toolReferenceName: string;
  inputSchema: {
    type: 'object';
    properties: Record<string, unknown>;
    required?: string[];
    additionalProperties?: boolean;
  };
}

const PROJECT_PROPERTY = {
  type: 'string',
  description:
    'The project: its folder path (absolute, or relative to the workspace folder, e.g. "apps/web"), or its package.json name, or its folder name. devPorts_listPorts lists the projects.',
};

/**
 * The tool definitions, in the order agents should meet them. package.json `contributes.languageModelTools` holds
 * the same names, descriptions and schemas (a unit test keeps them equal).
 */
export const AGENT_TOOLS: readonly AgentToolDefinition[] = [
  {
    name: 'devPorts_listPorts',
    displayName: 'List Dev Ports',
    toolReferenceName: 'devPorts',
    userDescription: 'Lists the dev-server projects with their port, state and URL, and what else listens in the port range.',
    modelDescription:
      'Lists the dev-server projects of the workspace with the port each one is reserved for or runs on, its state (stopped, reserved, starting, listening, ready, unhealthy, exited), the PID that listens, the URL to open, and whether Dev Ports started it; then every other process listening in the configured port range (port, address, PIDs, process names and command lines). Call this before guessing a port such as 3000: the port of a project can differ from its framework default. Takes no input.',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  },
  {
    name: 'devPorts_startDevServer',
    displayName: 'Start Dev Server',
    toolReferenceName: 'devPortsStart',
    userDescription: 'Starts a project\'s dev server on the port Dev Ports reserves for it.',
    modelDescription:
      'Starts the dev server of one project on the port Dev Ports reserves for it (the same port every time while it holds it) and returns { projectId, port, url }. Use the returned url, not a framework default port. If the project already runs, returns its port and url without starting it twice. Fails with a message naming the process when the port is held by something Dev Ports did not start; the workspace must be trusted.',
    inputSchema: { type: 'object', properties: { project: PROJECT_PROPERTY }, required: ['project'], additionalProperties: false },
  },
  {
    name: 'devPorts_stopDevServer',
    displayName: 'Stop Dev Server',
    toolReferenceName: 'devPortsStop',
    userDescription: 'Stops a project\'s dev server with its whole process tree and releases its port.',
    modelDescription:
      'Stops the dev server of one project (its whole process tree) and releases the port reserved for it. Returns { projectId, port, released }. A project that is not running only has its reservation released.',
    inputSchema: { type: 'object', properties: { project: PROJECT_PROPERTY }, required: ['project'], additionalProperties: false },
  },
  {
    name: 'devPorts_freePort',
    displayName: 'Free Port',
    toolReferenceName: 'devPortsFree',
    userDescription: 'Frees a TCP port by stopping the process tree that listens on it (asks first unless Dev Ports started it).',
    modelDescription:
      'Frees a TCP port: stops every process tree listening on it and waits until the port is free. Returns { port, killedPids, free } and, when something still holds it, holders (PID, name, command line). A dev server Dev Ports started is stopped right away; a process Dev Ports did not start is only stopped after the user confirms (in VS Code a confirmation is shown; elsewhere pass force: true only after the user agreed, otherwise the tool stops nothing and names the holders). Never use it to restart a project: use devPorts_stopDevServer and devPorts_startDevServer.',
    inputSchema: {
      type: 'object',
      properties: {
        port: { type: 'integer', minimum: 1, maximum: 65535, description: 'The TCP port to free, e.g. 3000.' },
        force: {
          type: 'boolean',
          description: 'Stop a holder that Dev Ports did not start. Only pass true after the user agreed to stop that process.',
        },
      },
      required: ['port'],
      additionalProperties: false,
    },
  },
];

/** State of a project as the tools report it: a dev server's state, or what its reservation says. */
export type AgentProjectState = 'stopped' | 'reserved' | 'starting' | 'listening' | 'ready' | 'unhealthy' | 'stopping' | 'exited';

export interface AgentProcess {
  pid: number;
  name: string;
  command: string;
}

export interface AgentProject {
  projectId: string;
  name: string;
  /** Folder relative to its workspace folder, '.' for the root. */
  relativePath: string;
  state: AgentProjectState;
  port?: number;
  /** The process that listens, else the server's root. */
  pid?: number;
  /** Where to open it (in a remote VS Code: the forwarded address). Only while something listens on the port. */
  url?: string;
  /** Dev Ports started the server (it can stop it without asking). */
  startedByDevPorts: boolean;
  /** Who holds the port when it is not the project's own server. */
  heldBy?: AgentProcess[];
  note?: string;
}

export interface AgentListener {
  port: number;
  address: string;
  pids: number[];
  processes: AgentProcess[];
  url: string;
}

export interface ListPortsResult {
  range: { start: number; end: number };
  projects: AgentProject[];
  /** Listeners in the range that no project owns. */
  otherListeners: AgentListener[];
}

export interface StartToolResult {
  projectId: string;
  port: number;
  url: string;
  /** False when it already ran. */
  started: boolean;
  /** Where its output goes (a terminal's name in VS Code, a log file for `dev-ports mcp`). */
  output?: string;
}

export interface StopToolResult {
  projectId: string;
  port: number | null;
  released: boolean;
}

export interface FreeToolResult {
  port: number;
  killedPids: number[];
  free: boolean;
  holders?: AgentProcess[];
  note?: string;
}

/** A running (or just exited) dev server as a host knows it. */
export interface AgentServerFact {
  projectId: string;
  port: number;
  state: AgentProjectState;
  pid?: number;
  note?: string;
}

export interface ListPortsFacts {
  projects: readonly Project[];
  /** Reservations (the machine-wide ledger, or this window's allocations), by project id. */
  reservations: ReadonlyMap<string, number>;
  servers: readonly AgentServerFact[];
  listeners: readonly Listener[];
  range: { start: number; end: number };
  /** PIDs in the trees of the servers Dev Ports started, by project id. */
  ownedPids?: ReadonlyMap<number, string>;
  /** The URL of a port, e.g. `http://localhost:3000/` (VS Code passes it through `asExternalUri`). */
  url: (port: number) => string;
}

function toProcesses(listener: Listener): AgentProcess[] {
  const known = listener.processes.map((p) => ({ pid: p.pid, name: p.name, command: p.command }));
  for (const pid of listener.pids) if (!known.some((p) => p.pid === pid)) known.push({ pid, name: '?', command: '' });
  return known;
}

/** `http://localhost:<port>/`: what a browser or `curl` on this machine opens. */
export function localUrl(port: number): string {
  return `http://localhost:${port}/`;
}

/**
 * The `devPorts_listPorts` result from the facts a host gathered.
 *
 * @example
 * buildListPorts({ projects, reservations: new Map([['/src/web', 3000]]), servers: [], listeners, range, url: localUrl });
 * // { range, projects: [{ projectId: '/src/web', state: 'listening', port: 3000, url: 'http://localhost:3000/', ... }], otherListeners: [] }
 */
export function buildListPorts(facts: ListPortsFacts): ListPortsResult {
  const byPort = new Map<number, Listener[]>();
  for (const l of facts.listeners) byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);
  const claimed = new Set<number>();
  const projects = facts.projects.map((project): AgentProject => {
    const server = facts.servers.find((s) => s.projectId === project.id);
    const port = server?.port ?? facts.reservations.get(project.id);
    const relativePath = path.relative(project.workspaceFolder, project.folder).split(path.sep).join('/') || '.';
    const entry: AgentProject = { projectId: project.id, name: project.name, relativePath, state: 'stopped', startedByDevPorts: !!server };
    if (port === undefined) return entry;
    entry.port = port;
    claimed.add(port);
    const listeners = byPort.get(port) ?? [];
    const processes = listeners.flatMap(toProcesses);
    const ours = processes.filter((p) => facts.ownedPids?.get(p.pid) === project.id || p.pid === server?.pid);
    if (server) {
      // The OS is fresher than a manager that polls: its own process listening means it listens.
      entry.state = server.state === 'starting' && ours.length > 0 ? 'listening' : server.state;
      if (server.note) entry.note = server.note;
      entry.pid = ours[0]?.pid ?? server.pid;
    } else {
      entry.state = listeners.length > 0 ? 'listening' : 'reserved';
    }
    const foreign = processes.filter((p) => !ours.includes(p));
    if (foreign.length > 0 && (server || ours.length === 0)) {
      entry.heldBy = foreign;
      if (!server) entry.pid = foreign[0].pid;
    }
    if (listeners.length > 0) entry.url = facts.url(port);
    return entry;
  });
  const otherListeners: AgentListener[] = [];
  for (const [port, listeners] of [...byPort].sort((a, b) => a[0] - b[0])) {
    if (claimed.has(port) || port < facts.range.start || port > facts.range.end) continue;
    otherListeners.push({
      port,
      address: [...new Set(listeners.map((l) => l.address))].join(', '),
      pids: [...new Set(listeners.flatMap((l) => l.pids))],
      processes: listeners.flatMap(toProcesses),
      url: facts.url(port),
    });
  }
  return { range: { ...facts.range }, projects, otherListeners };
}

/** The `project` of a tool input: a non-empty string, or InvalidInputError. */
export function projectInput(input: unknown): string {
  const value = typeof input === 'object' && input !== null ? (input as { project?: unknown }).project : undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidInputError('The input needs "project": a project folder path, package.json name or folder name (devPorts_listPorts lists them).');
  }
  return value.trim();
}

/** `{ port, force? }` of a freePort input, checked. */
export function freePortInput(input: unknown): { port: number; force: boolean } {
  const o = typeof input === 'object' && input !== null ? (input as { port?: unknown; force?: unknown }) : {};
  const port = typeof o.port === 'string' && /^\d+$/.test(o.port) ? Number(o.port) : o.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidInputError(`"port" must be an integer from 1 to 65535, got ${JSON.stringify(o.port)}.`);
  }
  return { port, force: o.force === true };
}

/**
 * Finds the project a person or a model named: an absolute folder path (or a path inside it), a path relative to
 * one of the workspace folders, a package.json name, or a folder name. Throws InvalidInputError that lists the
 * projects when nothing (or more than one project) matches.
 *
 * @example
 * findProject(projects, 'apps/web', ['/src/shop']); // the project /src/shop/apps/web
 * findProject(projects, 'web', ['/src/shop']);      // the same, by name
 */
export function findProject(projects: readonly Project[], query: string, roots: readonly string[]): Project {
  const candidates = path.isAbsolute(query) ? [query] : roots.map((r) => path.join(r, query));
  for (const c of candidates) {
    const id = normalizeProjectId(c);
    const hit = projects.find((p) => p.id === id);
    if (hit) return hit;
  }
  const byName = projects.filter((p) => p.name === query || path.basename(p.folder) === query);
  if (byName.length === 1) return byName[0];
  const known = projects.map((p) => `${p.name} (${path.relative(p.workspaceFolder, p.folder) || '.'})`).join(', ') || 'none';
  if (byName.length > 1) {
    throw new InvalidInputError(`"${query}" names ${byName.length} projects; use its folder path instead. Projects: ${known}.`);
  }
  throw new InvalidInputError(`No dev-server project "${query}". Projects: ${known}.`);
}

/** The JSON text a model reads as a tool's result. */
export function resultText(result: unknown): string {
  return JSON.stringify(result, null, 2);
}
