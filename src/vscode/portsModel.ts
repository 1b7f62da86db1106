/**
 * What the Ports view and the status bar show, computed from plain data (projects, allocations, running servers,
 * one OS snapshot). No `vscode` import, so both adapters share one rule for "stale" and "conflict".
 */
import * as path from 'path';
import type { Project } from '../core/projects';
import type { Allocation, PortRange } from '../core/types';
import type { Listener } from '../os/types';

export type ProjectState = 'stopped' | 'starting' | 'running' | 'stale' | 'conflict';

export interface ListenerNode {
  kind: 'listener';
  port: number;
  address: string;
  pids: number[];
  processes: { pid: number; name: string; command: string }[];
  /** Owner uid of the socket when its processes cannot be read. */
  ownerUid?: number;
}

export interface ProjectNode {
  kind: 'project';
  projectId: string;
  name: string;
  folder: string;
  state: ProjectState;
  port?: number;
  /** The listening process when known, else the dev server's root (shell) PID. */
  pid?: number;
  /** When the server started (Dev Ports started it) or the port was allocated. */
  since?: number;
  allocatedAt?: number;
  command?: string;
  /** Why the state is what it is, in a few words (`reserved`, `held by node (PID 12)`, `stopping…`). */
  note?: string;
  /** Dev Ports started it in this window (it has a terminal). */
  managed: boolean;
  listeners: ListenerNode[];
}

export interface GroupNode {
  kind: 'group';
  label: string;
  listeners: ListenerNode[];
}

export type PortsNode = ProjectNode | ListenerNode | GroupNode;

// The servers' shapes are branch ext's (src/vscode/servers/devServer.ts, INTERFACES.md "Servers").
import type { ServerInfo } from './servers/devServer';
export type { ServerInfo } from './servers/devServer';

/** A reservation of one of the workspace's projects in the machine-wide ledger, with who made it. */
export interface ReservationInput {
  projectId: string;
  port: number;
  allocatedAt: number;
  owner?: { pid: number; kind: 'vscode' | 'cli' | 'library' };
  ownerIsThisWindow: boolean;
}

export interface ModelInput {
  projects: readonly Project[];
  allocations: readonly Allocation[];
  servers: readonly ServerInfo[];
  /** Reservations of the workspace's projects in the machine-wide ledger (another window's, the CLI's, ours). */
  reservations?: readonly ReservationInput[];
  /** Projects whose start is under way (before a terminal exists). */
  starting: ReadonlySet<string>;
  /** Every listening port (cheap snapshot). */
  listening: ReadonlySet<number>;
  /** Listeners with their processes, when the caller paid for that scan (the view does, the status bar does not). */
  listeners?: readonly Listener[];
  /** PID → project id for every process in a managed server's tree. */
  ownedPids?: ReadonlyMap<number, string>;
  range: PortRange;
  now: number;
  staleAfterMs: number;
  isAlive: (pid: number) => boolean;
}

function toListenerNode(l: Listener): ListenerNode {
  const node: ListenerNode = {
    kind: 'listener',
    port: l.port,
    address: l.address,
    pids: [...l.pids],
    processes: l.processes.map((p) => ({ pid: p.pid, name: p.name, command: p.command })),
  };
  if (l.ownerUid !== undefined) node.ownerUid = l.ownerUid;
  return node;
}

function holderText(listeners: readonly ListenerNode[]): string | undefined {
  const p = listeners.flatMap((l) => l.processes)[0];
  if (p) return `held by ${p.name} (PID ${p.pid})`;
  const pid = listeners.flatMap((l) => l.pids)[0];
  return pid !== undefined ? `held by PID ${pid}` : listeners.length ? 'held by another user' : undefined;
}

/**
 * The tree's root nodes: one per project (discovered, or only known from an allocation), then "Other listeners"
 * in the configured range that no project owns. Empty when there is nothing at all (the view then shows its
 * welcome content).
 *
 * @example
 * buildPortsModel({ projects, allocations, servers: [], starting: new Set(), listening: new Set([3000]), range, now: Date.now(), staleAfterMs: 300000, isAlive })
 */
export function buildPortsModel(input: ModelInput): PortsNode[] {
  const allocations = new Map(input.allocations.map((a) => [a.projectId, a]));
  // An exited server keeps its terminal for its output; for the row it is as good as stopped.
  const servers = new Map(input.servers.filter((s) => s.state !== 'exited').map((s) => [s.projectId, s]));
  const elsewhere = new Map((input.reservations ?? []).filter((r) => !r.ownerIsThisWindow && !allocations.has(r.projectId)).map((r) => [r.projectId, r]));
  const listeners = (input.listeners ?? []).map(toListenerNode);
  const claimed = new Set<ListenerNode>();

  const known = new Map<string, { name: string; folder: string; project?: Project }>();
  for (const p of input.projects) known.set(p.id, { name: p.name, folder: p.folder, project: p });
  for (const a of input.allocations) if (!known.has(a.projectId)) known.set(a.projectId, { name: path.basename(a.projectId) || a.projectId, folder: a.projectId });

  const nodes: ProjectNode[] = [];
  for (const [projectId, { name, folder, project }] of known) {
    const allocation = allocations.get(projectId);
    const server = servers.get(projectId);
    const reservation = server ? undefined : elsewhere.get(projectId);
    const port = server?.port ?? allocation?.port ?? reservation?.port ?? project?.port;
    const own = listeners.filter(
      (l) =>
        (port !== undefined && l.port === port && (server || allocation || reservation)) ||
        l.pids.some((pid) => input.ownedPids?.get(pid) === projectId),
    );
    const node: ProjectNode = { kind: 'project', projectId, name, folder, state: 'stopped', managed: !!server, listeners: [] };
    if (port !== undefined) node.port = port;
    if (allocation) node.allocatedAt = allocation.allocatedAt;
    if (server) node.command = server.commandLine;
    else if (project?.command) node.command = project.command;
    else if (project?.script) node.command = `${project.packageManager} run ${project.script}`;

    if (server) {
      node.state = server.state === 'starting' ? 'starting' : 'running';
      if (server.note) node.note = server.note;
      if (server.phase === 'stopping') node.note = 'stopping…';
      if (server.phase === 'waiting') node.note = 'waiting for your answer';
      node.since = server.startedAt;
      node.pid = server.pid ?? own.find((l) => l.port === server.port)?.pids[0] ?? server.shellPid;
      node.listeners = own;
    } else if (input.starting.has(projectId)) {
      node.state = 'starting';
    } else if (reservation) {
      // Another window's or the CLI's reservation: its server is theirs, never "another listener".
      const who = reservation.owner?.kind === 'vscode' ? `another window (PID ${reservation.owner.pid})` : reservation.owner?.kind === 'library' ? `a script (PID ${reservation.owner.pid})` : 'the CLI';
      const onPort = own.filter((l) => l.port === reservation.port);
      node.allocatedAt = reservation.allocatedAt;
      node.since = reservation.allocatedAt;
      node.state = input.listening.has(reservation.port) ? 'running' : 'stopped';
      node.pid = onPort[0]?.pids[0];
      node.listeners = onPort;
      node.note = `${input.listening.has(reservation.port) ? 'runs' : 'reserved'} in ${who}`.replace('in the CLI', 'by the CLI');
    } else if (allocation) {
      node.since = allocation.allocatedAt;
      const onPort = own.filter((l) => l.port === allocation.port);
      if (input.listening.has(allocation.port)) {
        if (allocation.pid !== undefined && input.isAlive(allocation.pid)) {
          // Started by Dev Ports in an earlier session of this window, still running.
          node.state = 'running';
          node.pid = onPort[0]?.pids[0] ?? allocation.pid;
          node.listeners = onPort;
          node.note = 'no terminal';
        } else {
          node.state = 'conflict';
          node.pid = onPort[0]?.pids[0];
          node.listeners = onPort;
          node.note = holderText(onPort) ?? 'in use by another process';
        }
      } else if (input.now - allocation.allocatedAt >= input.staleAfterMs && (allocation.pid === undefined || !input.isAlive(allocation.pid))) {
        node.state = 'stale';
        node.note = 'nothing listens';
      } else {
        node.note = 'reserved';
      }
    } else if (project?.port !== undefined && input.listening.has(project.port)) {
      const onPort = listeners.filter((l) => l.port === project.port);
      node.state = 'conflict';
      node.pid = onPort[0]?.pids[0];
      node.listeners = onPort;
      node.note = holderText(onPort) ?? 'in use by another process';
    }
    for (const l of node.listeners) claimed.add(l);
    nodes.push(node);
  }
  nodes.sort((a, b) => a.name.localeCompare(b.name) || a.projectId.localeCompare(b.projectId));

  const others = listeners
    .filter((l) => !claimed.has(l) && l.port >= input.range.start && l.port <= input.range.end)
    .sort((a, b) => a.port - b.port || a.address.localeCompare(b.address));
  const result: PortsNode[] = [...nodes];
  if (others.length > 0) result.push({ kind: 'group', label: 'Other listeners', listeners: others });
  return result;
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
