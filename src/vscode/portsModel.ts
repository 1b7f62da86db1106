/**
 * What the Servers view and the status bar show, computed from plain data (projects, allocations, running servers,
 * reservations made elsewhere, one OS snapshot). No `vscode` import, so both adapters share one rule for "stale"
 * and "conflict", and the unit tests read exactly what a user sees (descriptions, menus by state).
 */
import * as path from 'path';
import { isOutOfSight } from '../core/errors';
import type { Project } from '../core/projects';
import type { Allocation, PortRange } from '../core/types';
import type { Listener } from '../os/types';

// The manager's shapes (src/vscode/servers/devServer.ts; type-only, so this module stays free of vscode).
import type { ServerInfo, ServerState } from './servers/devServer';
export type { ServerInfo, ServerState } from './servers/devServer';

/** A reservation of one of the workspace's projects in the machine-wide ledger (INTERFACES.md). */
export interface Reservation {
  projectId: string;
  port: number;
  allocatedAt: number;
  owner?: { pid: number; kind: 'vscode' | 'cli' | 'library' };
  ownerIsThisWindow: boolean;
}

/**
 * The row's state; it picks the icon and the menus (`contextValue`). `running` covers the server states
 * listening and ready (see `health`); `elsewhere` is a reservation made by another window or the CLI.
 */
export type ProjectState =
  | 'stopped'
  | 'reserved'
  | 'starting'
  | 'waiting'
  | 'running'
  | 'unhealthy'
  | 'exited'
  | 'stale'
  | 'conflict'
  | 'elsewhere';

/** Who holds a listener, as far as stopping it goes. */
export type HolderKind = 'process' | 'project' | 'editor' | 'forwarder' | 'otherUser' | 'outOfSight';

export interface ListenerNode {
  kind: 'listener';
  /** Stable identity of the row (VS Code keeps its tooltip and expansion by it). */
  id: string;
  port: number;
  address: string;
  pids: number[];
  processes: { pid: number; name: string; command: string; uid?: number; user?: string }[];
  /** Owner uid of the socket when its processes cannot be read. */
  ownerUid?: number;
  holder: HolderKind;
  /** What the row says about its holder: `node (PID 12)`, `held by this editor`, `another user (uid 1001)`. */
  holderText: string;
  /** A port of a server's tree besides its main one (HMR, inspector). */
  extra?: boolean;
  /** `listener` (Free Port offered), `listener.editor`, `listener.forwarder`, `listener.otherUser`, `listener.outOfSight`, `listener.project`. */
  contextValue: string;
}

export interface ProjectNode {
  kind: 'project';
  id: string;
  projectId: string;
  name: string;
  folder: string;
  role: 'server' | 'orchestrator' | 'watcher';
  state: ProjectState;
  /** The server's own state when Dev Ports runs it here. */
  health?: ServerState;
  port?: number;
  /** The listening process when known, else the server's root; never the shell (see `shellPid`). */
  pid?: number;
  /** Name of the process `pid` is (`node`), when known. */
  pidName?: string;
  shellPid?: number;
  /** When the server started (Dev Ports started it) or the port was allocated. */
  since?: number;
  allocatedAt?: number;
  command?: string;
  exitCode?: number;
  /** Why the state is what it is, in a few words (`reserved`, `held by node (PID 12)`, `stopping…`). */
  note?: string;
  /** Who reserved it when that is not this window: `another window (PID 4242)`, `the CLI`. */
  reservedBy?: string;
  /** Dev Ports started it in this window (it has a terminal). */
  managed: boolean;
  listeners: ListenerNode[];
  /** The row's description, what matters first: port and state, then the note, then the PID. */
  description: string;
  /** Picks the context menu and inline actions (package.json `view/item/context`). */
  contextValue: string;
}

export interface GroupNode {
  kind: 'group';
  id: 'group:other' | 'group:watchers';
  label: string;
  listeners: ListenerNode[];
  /** The projects of the Watchers group. */
  projects: ProjectNode[];
  description: string;
}

export type PortsNode = ProjectNode | ListenerNode | GroupNode;

export interface ModelInput {
  projects: readonly Project[];
  allocations: readonly Allocation[];
  servers: readonly ServerInfo[];
  /** Projects whose start is under way before the manager reports a server. */
  starting?: ReadonlySet<string>;
  /** Reservations of the workspace's projects in the ledger (the window's own are skipped). */
  reservations?: readonly Reservation[];
  /** Every listening port (cheap snapshot). */
  listening: ReadonlySet<number>;
  /** Listeners with their processes, when the caller paid for that scan (the view does, the status bar does not). */
  listeners?: readonly Listener[];
  /** PID → project id for every process in a managed server's tree. */
  ownedPids?: ReadonlyMap<number, string>;
  /** The editor's own processes (extension host and its ancestors): never offered for stopping. */
  editorPids?: ReadonlySet<number>;
  /** This process's uid (`process.getuid()`); unset on Windows. Root can stop anyone's process. */
  uid?: number;
  range: PortRange;
  now: number;
  staleAfterMs: number;
  isAlive: (pid: number) => boolean;
}

/** VS Code processes that are not this editor's (another window's server, `code tunnel`, the desktop forwarder). */
const VSCODE_PROCESS = /(?:^|[/\\\s])(?:code(?:-server|-insiders|-tunnel)?|code-oss|codium|Code Helper[^/]*)(?:\s|$)|server-main\.js|[/\\]\.?vscode-server[/\\]|[/\\]code-server[/\\](?:lib|out)[/\\]|\bcode tunnel\b/;

function roleOf(p: Project | undefined): ProjectNode['role'] {
  const role = (p as { role?: string } | undefined)?.role;
  return role === 'orchestrator' || role === 'watcher' ? role : 'server';
}

function labelOf(p: Project): string {
  const label = (p as { label?: unknown }).label;
  return typeof label === 'string' && label ? label : p.name;
}

/**
 * A listener as a row: who holds it (a process, this editor, VS Code's forwarder, another user) and whether
 * Free Port is offered for it (`contextValue`).
 *
 * @example
 * toListenerNode(listener, { editorPids: new Set([process.pid]), uid: 1000 }).holderText; // 'node (PID 4300)'
 */
export function toListenerNode(l: Listener, input: Pick<ModelInput, 'editorPids' | 'uid'>, extra = false): ListenerNode {
  const processes = l.processes.map((p) => {
    const out: ListenerNode['processes'][number] = { pid: p.pid, name: p.name, command: p.command };
    if (p.uid !== undefined) out.uid = p.uid;
    if (p.user !== undefined) out.user = p.user;
    return out;
  });
  const first = processes[0];
  let holder: HolderKind = 'process';
  let holderText: string;
  const foreign = input.uid !== undefined && input.uid !== 0 ? processes.find((p) => p.uid !== undefined && p.uid !== input.uid) : undefined;
  if (l.pids.some((pid) => input.editorPids?.has(pid))) {
    holder = 'editor';
    holderText = 'held by this editor';
  } else if (processes.some((p) => VSCODE_PROCESS.test(p.command))) {
    holder = 'forwarder';
    holderText = 'held by VS Code (port forwarding)';
  } else if (l.pids.length === 0 && !foreign && isOutOfSight(l.ownerUid, input.uid)) {
    // Your own uid's and still no process in sight holds it: another PID namespace, a container, a VM.
    holder = 'outOfSight';
    holderText = 'not visible from here (another PID namespace, container or VM)';
  } else if (l.pids.length === 0 || foreign) {
    holder = 'otherUser';
    const who = foreign ? (foreign.user ?? `uid ${foreign.uid}`) : l.ownerUid !== undefined ? `uid ${l.ownerUid}` : undefined;
    holderText = who ? `another user (${who})` : 'another user';
  } else if (first) {
    holderText = `${first.name} (PID ${first.pid})`;
  } else {
    holderText = `PID ${l.pids.join(', ')}`;
  }
  const node: ListenerNode = {
    kind: 'listener',
    id: `listener:${l.port}:${l.address}`,
    port: l.port,
    address: l.address,
    pids: [...l.pids],
    processes,
    holder,
    holderText,
    contextValue: holder === 'process' ? 'listener' : `listener.${holder}`,
  };
  if (l.ownerUid !== undefined) node.ownerUid = l.ownerUid;
  if (extra) node.extra = true;
  return node;
}

/** A listener row under a project: its id is scoped to the project, and it is the project's (no Free Port). */
function underProject(l: ListenerNode, projectId: string, extra: boolean): ListenerNode {
  const node: ListenerNode = { ...l, id: `${projectId}|${l.id}`, processes: [...l.processes], pids: [...l.pids] };
  if (extra) node.extra = true;
  if (node.holder === 'process') {
    node.holder = 'project';
    node.contextValue = 'listener.project';
  }
  return node;
}

function holderNote(listeners: readonly ListenerNode[]): string | undefined {
  const l = listeners[0];
  if (!l) return undefined;
  return l.holder === 'editor' || l.holder === 'forwarder' ? l.holderText : `held by ${l.holderText}`;
}

/** Who made a reservation that is not this window's, in words: `another window (PID 4242)`, `the CLI`. */
export function reserverText(r: Reservation, alive: boolean): string {
  if (!r.owner || r.owner.kind === 'cli') return 'the CLI';
  if (r.owner.kind === 'library') return `a script (PID ${r.owner.pid})`;
  return alive ? `another window (PID ${r.owner.pid})` : `a closed window (PID ${r.owner.pid})`;
}

const STATE_WORD: Record<ProjectState, string> = {
  stopped: 'stopped',
  reserved: 'reserved',
  starting: 'starting',
  waiting: 'waiting for your answer',
  running: 'running',
  unhealthy: 'unhealthy',
  exited: 'exited',
  stale: 'stale',
  conflict: 'conflict',
  elsewhere: 'reserved elsewhere',
};

/** The word for a row's state (`ready`, `waiting for your answer`, `exited (code 1)`). */
export function stateWord(node: Pick<ProjectNode, 'state' | 'health' | 'exitCode' | 'reservedBy' | 'role'>): string {
  if (node.role === 'watcher') return 'watcher';
  if (node.role === 'orchestrator' && node.state === 'stopped') return 'starts its apps';
  if (node.state === 'running' && node.health) return node.health;
  if (node.state === 'exited' && node.exitCode !== undefined) return `exited (code ${node.exitCode})`;
  if (node.state === 'elsewhere' && node.reservedBy) return node.reservedBy;
  return STATE_WORD[node.state];
}

/**
 * The row's description, what matters first (the default sidebar cuts the end, and inline buttons cover it):
 * `:3001 · ready · moved from 3000 · PID 4300`.
 */
export function describeProject(node: Omit<ProjectNode, 'description' | 'contextValue'>): string {
  const parts: string[] = [];
  if (node.port !== undefined && node.role !== 'watcher') parts.push(`:${node.port}`);
  if (node.state !== 'stopped' || node.role !== 'server') parts.push(stateWord(node));
  if (node.note && node.note !== STATE_WORD[node.state]) parts.push(node.note);
  if (node.pid !== undefined && (node.state === 'running' || node.state === 'unhealthy')) parts.push(`PID ${node.pid}`);
  return parts.join(' · ');
}

/** `project.<state>[.open]`; `.open` when a browser has something to open (a port that listens). */
export function projectContextValue(node: Pick<ProjectNode, 'state' | 'role' | 'port'>, listening: boolean): string {
  if (node.role === 'watcher') return 'watcher';
  if (node.role === 'orchestrator' && (node.state === 'stopped' || node.state === 'reserved')) return 'orchestrator';
  const open = listening && (node.state === 'running' || node.state === 'elsewhere' || node.state === 'unhealthy');
  return `project.${node.state}${open ? '.open' : ''}`;
}

/**
 * The tree's root nodes: one per project (discovered, or only known from an allocation), then "Watchers" (no
 * port), then "Other listeners" in the configured range that no project owns. Empty when there is nothing at all
 * (the view then shows its welcome content).
 *
 * @example
 * buildPortsModel({ projects, allocations, servers: [], listening: new Set([3000]), range, now: Date.now(), staleAfterMs: 300000, isAlive });
 */
export function buildPortsModel(input: ModelInput): PortsNode[] {
  const allocations = new Map(input.allocations.map((a) => [a.projectId, a]));
  const servers = new Map(input.servers.map((s) => [s.projectId, s]));
  const reservations = new Map<string, Reservation>();
  for (const r of input.reservations ?? []) {
    if (r.ownerIsThisWindow || allocations.has(r.projectId)) continue;
    // A closed window's reservation whose server is gone too is an orphan the next allocation takes over: no row.
    if (r.owner && r.owner.kind !== 'cli' && !input.isAlive(r.owner.pid) && !input.listening.has(r.port)) continue;
    reservations.set(r.projectId, r);
  }
  const listeners = (input.listeners ?? []).map((l) => toListenerNode(l, input));
  const claimed = new Set<ListenerNode>();

  const known = new Map<string, { name: string; folder: string; project?: Project }>();
  for (const p of input.projects) known.set(p.id, { name: labelOf(p), folder: p.folder, project: p });
  for (const a of input.allocations) if (!known.has(a.projectId)) known.set(a.projectId, { name: path.basename(a.projectId) || a.projectId, folder: a.projectId });

  const nodes: ProjectNode[] = [];
  const watchers: ProjectNode[] = [];
  for (const [projectId, { name, folder, project }] of known) {
    const role = roleOf(project);
    const allocation = allocations.get(projectId);
    const server = servers.get(projectId);
    const reservation = reservations.get(projectId);
    // A server whose port is not known yet (0) shows the allocation's, if any.
    const port = role === 'watcher' ? undefined : ((server?.port || undefined) ?? allocation?.port ?? reservation?.port ?? project?.port);
    const extraPorts = new Set(server?.extraPorts ?? []);
    const own = listeners.filter(
      (l) =>
        (port !== undefined && l.port === port && (server || allocation || reservation)) ||
        (server !== undefined && extraPorts.has(l.port)) ||
        l.pids.some((pid) => input.ownedPids?.get(pid) === projectId),
    );
    const node: Omit<ProjectNode, 'description' | 'contextValue'> = { kind: 'project', id: `project:${projectId}`, projectId, name, folder, role, state: 'stopped', managed: !!server, listeners: [] };
    if (port !== undefined) node.port = port;
    if (allocation) node.allocatedAt = allocation.allocatedAt;
    if (server) node.command = server.commandLine;
    else if (project?.command) node.command = project.command;
    else if (project?.script) node.command = `${project.packageManager} run ${project.script}`;
    const onPort = (p: number | undefined) => own.filter((l) => l.port === p);

    if (server) {
      node.health = server.state;
      node.since = server.startedAt;
      if (server.shellPid !== undefined) node.shellPid = server.shellPid;
      const main = onPort(server.port)[0];
      const pid = main?.pids[0] ?? server.pid;
      if (pid !== undefined) node.pid = pid;
      const name = main?.processes.find((p) => p.pid === pid)?.name;
      if (name) node.pidName = name;
      if (server.exitCode !== undefined) node.exitCode = server.exitCode;
      node.state =
        server.phase === 'waiting'
          ? 'waiting'
          : server.state === 'listening' || server.state === 'ready'
            ? 'running'
            : server.state;
      if (server.phase === 'stopping') node.note = 'stopping…';
      else if (server.note) node.note = server.note;
      node.listeners = own;
      // Extra ports the manager knows of but the scan did not attribute (or no scan was made): still a row.
      for (const p of extraPorts) {
        if (p !== server.port && !own.some((l) => l.port === p)) {
          node.listeners.push({ kind: 'listener', id: `listener:${p}:`, port: p, address: '', pids: [], processes: [], holder: 'project', holderText: 'its own process', contextValue: 'listener.project' });
        }
      }
    } else if (input.starting?.has(projectId)) {
      node.state = 'starting';
    } else if (allocation) {
      node.since = allocation.allocatedAt;
      if (input.listening.has(allocation.port)) {
        const held = onPort(allocation.port);
        node.listeners = held;
        if (held[0]?.pids[0] !== undefined) node.pid = held[0].pids[0];
        if (allocation.pid !== undefined && input.isAlive(allocation.pid)) {
          // Started by Dev Ports in an earlier session of this window, still running.
          node.state = 'running';
          node.pid ??= allocation.pid;
          node.note = 'no terminal';
        } else {
          node.state = 'conflict';
          node.note = holderNote(held) ?? 'in use by another process';
        }
      } else if (input.now - allocation.allocatedAt >= input.staleAfterMs && (allocation.pid === undefined || !input.isAlive(allocation.pid))) {
        node.state = 'stale';
        node.note = 'nothing listens';
      } else {
        node.state = 'reserved';
        node.note = 'reserved';
      }
    } else if (reservation) {
      node.state = 'elsewhere';
      node.reservedBy = reserverText(reservation, !reservation.owner || input.isAlive(reservation.owner.pid));
      node.since = reservation.allocatedAt;
      if (input.listening.has(reservation.port)) {
        node.listeners = onPort(reservation.port);
        if (node.listeners[0]?.pids[0] !== undefined) node.pid = node.listeners[0].pids[0];
        node.note = 'running there';
      } else {
        node.note = 'nothing listens yet';
      }
    } else if (project?.port !== undefined && role !== 'watcher' && input.listening.has(project.port)) {
      const held = listeners.filter((l) => l.port === project.port);
      node.state = 'conflict';
      if (held[0]?.pids[0] !== undefined) node.pid = held[0].pids[0];
      node.listeners = held;
      node.note = holderNote(held) ?? 'in use by another process';
    }
    for (const l of node.listeners) claimed.add(l);
    if (node.state !== 'conflict') {
      const mainPort = node.port;
      node.listeners = node.listeners.map((l) => underProject(l, projectId, l.port !== mainPort));
    } else {
      node.listeners = node.listeners.map((l) => ({ ...l, id: `${projectId}|${l.id}` }));
    }
    const finished: ProjectNode = {
      ...node,
      description: describeProject(node),
      contextValue: projectContextValue(node, node.port !== undefined && input.listening.has(node.port)),
    };
    (role === 'watcher' ? watchers : nodes).push(finished);
  }
  const byName = (a: ProjectNode, b: ProjectNode) => a.name.localeCompare(b.name) || a.projectId.localeCompare(b.projectId);
  nodes.sort(byName);
  watchers.sort(byName);

  const others = listeners
    .filter((l) => !claimed.has(l) && l.port >= input.range.start && l.port <= input.range.end)
    .sort((a, b) => a.port - b.port || a.address.localeCompare(b.address));
  const result: PortsNode[] = [...nodes];
  if (watchers.length > 0) {
    result.push({ kind: 'group', id: 'group:watchers', label: 'Watchers', listeners: [], projects: watchers, description: `${watchers.length} · no port` });
  }
  if (others.length > 0) {
    result.push({ kind: 'group', id: 'group:other', label: 'Other listeners', listeners: others, projects: [], description: `${others.length} in ${input.range.start}–${input.range.end}` });
  }
  return result;
}

/** The Free Port… quick pick's rows: what is offered, in order, and how many of the editor's were left out. */
export interface FreePortChoices {
  /** Listeners in the configured range, by port, each with the project it belongs to (if any). */
  inRange: { listener: ListenerNode; project?: string }[];
  /** The machine's other listeners, by port. */
  rest: { listener: ListenerNode; project?: string }[];
  /** Listeners of this editor or of VS Code's forwarder: never offered. */
  hidden: ListenerNode[];
}

/**
 * Orders the machine's listeners for Free Port…: the range's first (with their project names), then the rest;
 * the editor's own processes are not offered.
 *
 * @example
 * freePortChoices(listeners.map((l) => toListenerNode(l, { editorPids })), roots, { start: 3000, end: 3999 });
 */
export function freePortChoices(listeners: readonly ListenerNode[], roots: readonly PortsNode[], range: PortRange): FreePortChoices {
  const projectOf = new Map<number, string>();
  for (const n of roots) {
    if (n.kind !== 'project' || n.state === 'conflict' || n.state === 'stale') continue;
    for (const l of n.listeners) if (!projectOf.has(l.port)) projectOf.set(l.port, n.name);
    if (n.port !== undefined && n.listeners.some((l) => l.port === n.port)) projectOf.set(n.port, n.name);
  }
  // What Dev Ports can stop comes first (the first item is the one Enter picks); another user's and out-of-sight
  // holders after it.
  const unstoppable = (l: ListenerNode) => (l.holder === 'otherUser' || l.holder === 'outOfSight' ? 1 : 0);
  const sorted = [...listeners].sort((a, b) => unstoppable(a) - unstoppable(b) || a.port - b.port || a.address.localeCompare(b.address));
  const hidden = sorted.filter((l) => l.holder === 'editor' || l.holder === 'forwarder');
  const offered = sorted.filter((l) => !hidden.includes(l)).map((listener) => {
    const project = projectOf.get(listener.port);
    return project ? { listener, project } : { listener };
  });
  return {
    inRange: offered.filter((c) => c.listener.port >= range.start && c.listener.port <= range.end),
    rest: offered.filter((c) => c.listener.port < range.start || c.listener.port > range.end),
    hidden,
  };
}

/**
 * The folder Start All is limited to when it is handed a row: an orchestrator's row (its inline Start All) limits it
 * to the apps under that folder; any other row means the whole workspace (VS Code hands the view's title button the
 * selected row, which is no choice of scope).
 */
export function startAllScope(node: PortsNode): string | undefined {
  return node.kind === 'project' && node.role === 'orchestrator' ? node.folder : undefined;
}

/** The children of a node as the tree shows them. */
export function childrenOf(node: PortsNode): PortsNode[] {
  if (node.kind === 'project') return node.listeners;
  if (node.kind === 'group') return [...node.projects, ...node.listeners];
  return [];
}

/** What changed between two builds of the tree, for `onDidChangeTreeData`. */
export interface TreeDiff {
  /** The roots to hand to VS Code: the previous objects where a row kept its id (updated in place). */
  roots: PortsNode[];
  /** True when the root rows were added, removed or reordered: the whole tree must be asked again. */
  structural: boolean;
  /** Rows whose own content or children changed (empty when `structural`). */
  changed: PortsNode[];
}

function ownContent(node: PortsNode): string {
  if (node.kind === 'project') return JSON.stringify({ ...node, listeners: node.listeners.map((l) => l.id) });
  if (node.kind === 'group') return JSON.stringify({ ...node, listeners: node.listeners.map((l) => l.id), projects: node.projects.map((p) => p.id) });
  return JSON.stringify(node);
}

/**
 * Merges a fresh build into the previous one so that a row that kept its id keeps its object (VS Code refreshes
 * an element by object identity), and lists the rows that really changed. A row whose children changed is
 * itself "changed" (VS Code then asks for its children again).
 *
 * @example
 * const diff = diffTree(previousRoots, buildPortsModel(input));
 * if (diff.structural) emitter.fire(); else for (const n of diff.changed) emitter.fire(n);
 */
export function diffTree(previous: readonly PortsNode[] | undefined, next: PortsNode[]): TreeDiff {
  if (!previous) return { roots: next, structural: true, changed: [] };
  const changed: PortsNode[] = [];
  const merge = (old: PortsNode[], fresh: PortsNode[]): PortsNode[] => {
    const byId = new Map(old.map((n) => [n.id, n]));
    return fresh.map((n) => {
      const prior = byId.get(n.id);
      if (!prior || prior.kind !== n.kind) return n;
      const before = ownContent(prior);
      const kids = merge(childrenOf(prior), childrenOf(n));
      // Update in place: the object VS Code holds now shows the new content.
      for (const key of Object.keys(prior)) delete (prior as unknown as Record<string, unknown>)[key];
      Object.assign(prior, n);
      if (prior.kind === 'project') prior.listeners = kids as ListenerNode[];
      if (prior.kind === 'group') {
        prior.projects = kids.filter((k): k is ProjectNode => k.kind === 'project');
        prior.listeners = kids.filter((k): k is ListenerNode => k.kind === 'listener');
      }
      if (ownContent(prior) !== before) changed.push(prior);
      return prior;
    });
  };
  const roots = merge([...previous], next);
  const structural = roots.length !== previous.length || roots.some((n, i) => n !== previous[i]);
  return { roots, structural, changed: structural ? [] : dedupeParents(changed, roots) };
}

/** A changed child under a changed parent is refreshed with its parent: keep only the outermost. */
function dedupeParents(changed: PortsNode[], roots: PortsNode[]): PortsNode[] {
  const set = new Set(changed);
  const covered = new Set<PortsNode>();
  const walk = (n: PortsNode, underChanged: boolean) => {
    if (underChanged) covered.add(n);
    for (const c of childrenOf(n)) walk(c, underChanged || set.has(n));
  };
  for (const r of roots) walk(r, false);
  return changed.filter((n) => !covered.has(n));
}

/**
 * Compact age: `45s`, `5m`, `2h 5m`, `3d`.
 *
 * @example
 * formatAge(125_000); // '2m'
 */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  return `${Math.floor(h / 24)}d`;
}
