import * as vscode from 'vscode';
import type { PortAllocator } from '../core/allocator';
import type { Ledger } from '../core/ledger';
import type { Logger } from '../core/types';
import { descendants, lazyProcessTable } from '../os/index';
import type { Listener, PortOs } from '../os/types';
import type { Config } from './config';
import { errorMessage } from './log';
import {
  buildPortsModel,
  childrenOf,
  diffTree,
  formatAge,
  stateWord,
  type ListenerNode,
  type ModelInput,
  type PortsNode,
  type ProjectNode,
  type Reservation,
  type ServerInfo,
} from './portsModel';
import type { ProjectsService } from './projectsService';

const POLL_WHILE_VISIBLE_MS = 3000;

const WARNING = new vscode.ThemeColor('list.warningForeground');
const STATE_ICON: Record<ProjectNode['state'], vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('testing.iconPassed')),
  stopped: new vscode.ThemeIcon('circle-outline'),
  reserved: new vscode.ThemeIcon('circle-large-outline'),
  starting: new vscode.ThemeIcon('loading~spin'),
  waiting: new vscode.ThemeIcon('question', WARNING),
  unhealthy: new vscode.ThemeIcon('warning', WARNING),
  exited: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('testing.iconFailed')),
  stale: new vscode.ThemeIcon('warning', WARNING),
  conflict: new vscode.ThemeIcon('warning', WARNING),
  elsewhere: new vscode.ThemeIcon('window'),
};

/** What the dev-server manager gives the view and the status bar (branch `ext` owns it). */
export interface ServersSource {
  infos(): ServerInfo[];
  /** Projects whose start is under way before a server is reported. */
  startingIds?(): Iterable<string>;
  /** A listener scan the source made within the last few seconds, if any (the view's timed poll reuses it). */
  recentListeners?(): Listener[] | undefined;
  readonly onDidChange: vscode.Event<void>;
}

/** What the Servers view and the status bar read their model from. */
export interface PortsViewDeps {
  allocator: PortAllocator;
  os: PortOs;
  config: Config;
  projects: ProjectsService;
  servers: ServersSource;
  /** Reservations of the workspace's projects in the machine-wide ledger, whoever made them. */
  reservations: () => Reservation[];
  /** The editor's own PIDs (extension host and its ancestors). */
  editorPids: () => Promise<number[]>;
  logger: Logger;
}

/** The model input every reader shares (the view adds the listener scan and the process tree). */
export function baseModelInput(deps: PortsViewDeps, listening: ReadonlySet<number>): ModelInput {
  const settings = deps.config.get();
  const input: ModelInput = {
    projects: deps.projects.all(),
    allocations: deps.allocator.getAllocations(),
    servers: deps.servers.infos(),
    starting: new Set(deps.servers.startingIds?.() ?? []),
    reservations: safely(deps.reservations, deps.logger),
    listening,
    range: settings.portRange,
    now: Date.now(),
    staleAfterMs: settings.staleAfterMinutes * 60_000,
    isAlive: (pid) => deps.os.isProcessAlive(pid),
  };
  const uid = process.getuid?.();
  if (uid !== undefined) input.uid = uid;
  return input;
}

/** Every reservation in the machine-wide ledger, marked when this window made it. */
export function reservationsIn(ledger: Pick<Ledger, 'entries'>): Reservation[] {
  return ledger.entries().map((e) => {
    const r: Reservation = { projectId: e.projectId, port: e.port, allocatedAt: e.allocatedAt, ownerIsThisWindow: e.owner?.kind === 'vscode' && e.owner.pid === process.pid };
    if (e.owner) r.owner = { pid: e.owner.pid, kind: e.owner.kind };
    return r;
  });
}

/** The ledger's reservations, or none (with a warning in the log) when the ledger cannot be read. */
export function safely(read: () => Reservation[], logger: Logger): Reservation[] {
  try {
    return read();
  } catch (error) {
    logger.warn(`could not read the reservations of other windows and the CLI: ${errorMessage(error)}`);
    return [];
  }
}

/**
 * The Servers view (`devPorts.ports`): projects with their port and state, their listeners as children, the
 * Watchers, then "Other listeners" in the configured range that no project owns. Nodes are plain objects
 * (`PortsNode`), so tests read `getChildren()`.
 *
 * Only what changed is redrawn: each build is diffed against the last one, rows keep their objects and `id`s,
 * and `onDidChangeTreeData` fires for the changed rows only (a redraw of the whole tree every poll made
 * tooltips vanish). Tooltips are filled on hover (`resolveTreeItem`), so their ages are current. Polls every 3 s
 * only while the view is visible.
 *
 * @example
 * const tree = new PortsTreeProvider(deps);
 * const view = vscode.window.createTreeView('devPorts.ports', { treeDataProvider: tree });
 * tree.attach(view);
 */
export class PortsTreeProvider implements vscode.TreeDataProvider<PortsNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<PortsNode | PortsNode[] | undefined | void>();
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private roots: PortsNode[] | undefined;
  private updating: Promise<PortsNode[]> | undefined;
  private queued: Promise<PortsNode[]> | undefined;
  private view: vscode.TreeView<PortsNode> | undefined;
  /** The next build redraws the whole tree (the view was shown again, or the user asked for Refresh). */
  private wholeNext = false;
  /** The next build is the 3 s poll's (no event asked for it): it may take the servers' recent listener scan. */
  private timedPoll = false;
  /** How many times rows were redrawn, for the tests: `whole` for full redraws, `rows` for single rows. */
  readonly redraws = { whole: 0, rows: 0 };
  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly deps: PortsViewDeps) {
    const later = () => this.refresh();
    const sub = deps.allocator.onDidChange(later);
    this.disposables.push(
      { dispose: () => sub.dispose() },
      deps.projects.onDidChange(later),
      deps.servers.onDidChange(later),
      deps.config.onDidChange(later),
      vscode.window.onDidOpenTerminal(later),
      vscode.window.onDidCloseTerminal(later),
    );
  }

  /** The provider with its view `devPorts.ports` created and attached (disposed with the provider). */
  static createView(deps: PortsViewDeps): PortsTreeProvider {
    const tree = new PortsTreeProvider(deps);
    const view = vscode.window.createTreeView('devPorts.ports', { treeDataProvider: tree, showCollapseAll: false });
    tree.disposables.push(view);
    tree.attach(view);
    return tree;
  }

  /** Polls while the view is visible, and not at all while it is hidden (changes meanwhile wait for it). */
  attach(view: vscode.TreeView<PortsNode>): void {
    this.view = view;
    const update = () => {
      if (view.visible) {
        // Shown again: redraw it whole once. Rows VS Code fetched while the view was hidden or being revealed
        // may predate the last build (a row-only change event fired meanwhile can be dropped by the workbench).
        this.refresh(true);
      }
      if (view.visible && !this.pollTimer) {
        this.pollTimer = setInterval(() => {
          this.timedPoll = true;
          void this.update();
        }, POLL_WHILE_VISIBLE_MS);
      } else if (!view.visible && this.pollTimer) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
      }
    };
    this.disposables.push(view.onDidChangeVisibility(update));
    update();
  }

  /** Looks again soon; bursts of events (a start fires several) become one build. A hidden view builds when shown. */
  refresh(whole = false): void {
    if (whole) this.wholeNext = true;
    // A hidden view builds nothing: showing it again rebuilds and redraws it whole.
    if (this.view && !this.view.visible && this.roots !== undefined) return;
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.update();
    }, 50);
  }

  /**
   * Builds the model from a fresh OS snapshot and tells VS Code what changed. Builds never overlap (on Windows
   * one takes netstat and a process query): a call during a build gets one more build after it.
   */
  update(): Promise<PortsNode[]> {
    if (this.updating) {
      this.queued ??= this.updating.then(
        () => {
          this.queued = undefined;
          return this.update();
        },
        () => {
          this.queued = undefined;
          return this.update();
        },
      );
      return this.queued;
    }
    const run = (async () => {
      try {
        const fresh = await this.model();
        const first = this.roots === undefined;
        const diff = diffTree(this.roots, fresh);
        this.roots = diff.roots;
        if (!first && (diff.structural || this.wholeNext)) {
          this.wholeNext = false;
          this.redraws.whole++;
          this.emitter.fire();
        } else if (diff.changed.length > 0) {
          this.redraws.rows += diff.changed.length;
          this.emitter.fire(diff.changed);
        }
        return diff.roots;
      } finally {
        this.updating = undefined;
      }
    })();
    this.updating = run;
    return run;
  }

  /** The rows as the view shows them now (built once if nothing was built yet). */
  async current(): Promise<PortsNode[]> {
    return this.roots ?? (await this.update());
  }

  async getChildren(element?: PortsNode): Promise<PortsNode[]> {
    if (!element) return this.current();
    return childrenOf(element);
  }

  /** The root nodes from a fresh OS snapshot (one listener scan, one process-table read). */
  async model(): Promise<PortsNode[]> {
    const { os, servers, logger } = this.deps;
    try {
      const infos = servers.infos();
      // A timed poll while a server is polled anyway: its scan (refreshed when the listening set changes) is
      // enough. After an event (a start, a stop, Refresh) the view scans itself.
      const recent = this.timedPoll ? servers.recentListeners?.() : undefined;
      this.timedPoll = false;
      const [listeners, table, editorPids] = await Promise.all([
        recent ?? os.listListeners(),
        // Only the servers' own trees (children files), never the whole process table: it grows with the machine.
        infos.some((s) => s.shellPid !== undefined) ? lazyProcessTable() : undefined,
        this.deps.editorPids(),
      ]);
      const ownedPids = new Map<number, string>();
      if (table) {
        for (const s of infos) {
          if (s.shellPid === undefined) continue;
          for (const pid of descendants(table, s.shellPid)) ownedPids.set(pid, s.projectId);
        }
      }
      return buildPortsModel({
        ...baseModelInput(this.deps, new Set(listeners.map((l) => l.port))),
        listeners,
        ownedPids,
        editorPids: new Set(editorPids),
      });
    } catch (error) {
      logger.error(`could not read the listening ports: ${errorMessage(error)}`);
      return [];
    }
  }

  getTreeItem(node: PortsNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = node.id;
      item.contextValue = node.id === 'group:watchers' ? 'group.watchers' : 'group';
      item.iconPath = new vscode.ThemeIcon(node.id === 'group:watchers' ? 'eye' : 'radio-tower');
      item.description = node.description;
      item.tooltip =
        node.id === 'group:watchers'
          ? 'Dev scripts that build and watch but serve nothing (tsc --watch, tsup --watch, …): they never get a port.'
          : 'Processes listening in the port range that no project of this workspace owns.';
      return item;
    }
    if (node.kind === 'listener') return this.listenerItem(node);
    return this.projectItem(node);
  }

  /** Tooltips are made on hover, so ages are those of the moment. */
  resolveTreeItem(item: vscode.TreeItem, node: PortsNode): vscode.TreeItem {
    if (node.kind === 'project') item.tooltip = projectTooltip(node);
    if (node.kind === 'listener') item.tooltip = listenerTooltip(node);
    return item;
  }

  private projectItem(node: ProjectNode): vscode.TreeItem {
    const item = new vscode.TreeItem(
      node.name,
      node.listeners.length > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = node.id;
    item.contextValue = node.contextValue;
    item.iconPath =
      node.role === 'watcher'
        ? new vscode.ThemeIcon('eye')
        : node.role === 'orchestrator' && (node.state === 'stopped' || node.state === 'reserved')
          ? new vscode.ThemeIcon('run-all')
          : STATE_ICON[node.state];
    item.description = node.description;
    item.accessibilityInformation = { label: `${node.name}, ${node.description || 'stopped'}` };
    // A notification hides itself after a while and its question goes on waiting in the notification centre:
    // the waiting row opens it there.
    if (node.state === 'waiting') item.command = { command: 'notifications.showList', title: 'Show the question' };
    return item;
  }

  private listenerItem(node: ListenerNode): vscode.TreeItem {
    const item = new vscode.TreeItem(`:${node.port}`, vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.contextValue = node.contextValue;
    item.iconPath = new vscode.ThemeIcon(node.holder === 'editor' || node.holder === 'forwarder' ? 'vm' : node.holder === 'otherUser' ? 'person' : node.holder === 'outOfSight' ? 'eye-closed' : 'plug');
    // Holder first: the address is rarely what a user looks for.
    item.description = [node.extra ? 'also' : undefined, node.holderText, node.address && node.address !== '0.0.0.0' && node.address !== '::' ? node.address : undefined]
      .filter(Boolean)
      .join(' · ');
    return item;
  }

  dispose(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
  }
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function projectTooltip(node: ProjectNode): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  const now = Date.now();
  const word = stateWord(node);
  const waiting = node.state === 'waiting' || node.state === 'conflict';
  md.appendMarkdown(`**${escapeMd(node.name)}** — ${escapeMd(word)}${node.note && node.note !== word ? ` (${escapeMd(node.note)})` : ''}\n\n`);
  if (node.port !== undefined) md.appendMarkdown(`- Port: \`${node.port}\`\n`);
  // On a port in conflict the process seen there is the holder, not this project's server.
  const pidLabel = waiting ? 'Held by PID' : 'Server PID';
  if (node.pid !== undefined) md.appendMarkdown(`- ${pidLabel}: \`${node.pid}\`${node.pidName ? ` (${escapeMd(node.pidName)})` : ''}${waiting ? ', not started by Dev Ports' : ''}\n`);
  if (node.shellPid !== undefined) md.appendMarkdown(`- Shell PID: \`${node.shellPid}\` (the terminal's shell)\n`);
  if (node.reservedBy) md.appendMarkdown(`- Reserved by ${escapeMd(node.reservedBy)}: stop it there\n`);
  if (node.command) md.appendMarkdown(`- Command: ${code(node.command)}\n`);
  md.appendMarkdown(`- Folder: ${code(node.folder)}\n`);
  if (node.allocatedAt !== undefined) md.appendMarkdown(`- Allocated: ${new Date(node.allocatedAt).toLocaleString()} (${formatAge(now - node.allocatedAt)} ago)\n`);
  if (node.since !== undefined && node.managed) md.appendMarkdown(`- ${node.state === 'waiting' ? 'Asked' : 'Started'}: ${formatAge(now - node.since)} ago\n`);
  if (node.role === 'orchestrator') md.appendMarkdown(`\nIts dev script runs other projects' scripts: Start All starts each app on its own port.\n`);
  if (node.state === 'waiting') md.appendMarkdown(`\nIts port is taken: a question with Free Port / Use Port N is waiting for your answer. Click the row to see it again in the notifications.\n`);
  return md;
}

function listenerTooltip(node: ListenerNode): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**Port ${node.port}**${node.address ? ` on \`${node.address}\`` : ''} — ${escapeMd(node.holderText)}\n\n`);
  for (const p of node.processes) md.appendMarkdown(`- PID ${p.pid}${p.user ? ` (${escapeMd(p.user)})` : ''}: ${code(p.command || p.name)}\n`);
  if (node.holder === 'editor') md.appendMarkdown(`\nThis is one of the editor's own processes (its server or extension host): Dev Ports never stops it.\n`);
  if (node.holder === 'forwarder') md.appendMarkdown(`\nVS Code holds it, usually to forward a port: stop forwarding in VS Code's Ports view. Dev Ports does not stop it.\n`);
  if (node.holder === 'outOfSight') {
    const uid = node.ownerUid !== undefined ? ` (the socket belongs to uid ${node.ownerUid})` : '';
    md.appendMarkdown(`\nNo process in this system's view has this socket open${escapeMd(uid)}: it runs in another PID namespace, a container or a VM. Dev Ports cannot stop it from here; stop it where it runs.\n`);
  }
  if (node.holder === 'otherUser') {
    const p = node.processes[0];
    const uid = p?.uid ?? node.ownerUid;
    const who = p?.user ?? (uid !== undefined ? `uid ${uid}` : 'another user');
    const unseen = node.processes.length === 0 ? ' or even see which process it is' : '';
    md.appendMarkdown(
      `\nIts process belongs to ${escapeMd(who)}, not to you: the OS lets only that user (or root) stop it${unseen}. Ask them, or run \`sudo dev-ports free ${node.port}\`.\n`,
    );
  }
  return md;
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
