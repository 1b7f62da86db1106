import * as vscode from 'vscode';
import type { PortAllocator } from '../core/allocator';
import type { Logger } from '../core/types';
import { descendants, snapshotProcessTable } from '../os/index';
import type { PortOs } from '../os/types';
import type { Config } from './config';
import type { DevServerManager } from './servers/devServerManager';
import { errorMessage } from './log';
import { buildPortsModel, formatAge, type ListenerNode, type PortsNode, type ProjectNode } from './portsModel';
import type { ProjectsService } from './projectsService';

const POLL_WHILE_VISIBLE_MS = 3000;

const STATE_ICON: Record<ProjectNode['state'], vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('testing.iconPassed')),
  stopped: new vscode.ThemeIcon('circle-outline'),
  starting: new vscode.ThemeIcon('loading~spin'),
  stale: new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')),
  conflict: new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')),
};

/**
 * The Ports view: projects with their port and state, their listeners as children, then "Other listeners" in the
 * configured range that no project owns. Nodes are plain objects (`PortsNode`), so tests read `getChildren()`.
 * Refreshes on every change it hears of, and polls every 3 s only while the view is visible.
 *
 * @example
 * const tree = new PortsTreeProvider(deps);
 * const view = vscode.window.createTreeView('devPorts.ports', { treeDataProvider: tree });
 * tree.attach(view);
 */
/** What the Ports view and the status bar read their model from. */
export interface PortsViewDeps {
  allocator: PortAllocator;
  os: PortOs;
  config: Config;
  projects: ProjectsService;
  servers: DevServerManager;
  logger: Logger;
}

export class PortsTreeProvider implements vscode.TreeDataProvider<PortsNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<PortsNode | undefined | void>();
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  /** Root builds under way. */
  private building = 0;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
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

  /** Polls while the view is visible, and not at all while it is hidden. */
  attach(view: vscode.TreeView<PortsNode>): void {
    const update = () => {
      if (view.visible && !this.pollTimer) {
        // A poll never overlaps the view's last build (on Windows one takes netstat and a process query).
        this.pollTimer = setInterval(() => this.building === 0 && this.emitter.fire(), POLL_WHILE_VISIBLE_MS);
      } else if (!view.visible && this.pollTimer) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
      }
    };
    this.disposables.push(view.onDidChangeVisibility(update));
    update();
  }

  /** Redraws soon; bursts of events (a start fires several) become one redraw. */
  refresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.emitter.fire();
    }, 50);
  }

  async getChildren(element?: PortsNode): Promise<PortsNode[]> {
    if (!element) {
      this.building++;
      try {
        return await this.model();
      } finally {
        this.building--;
      }
    }
    if (element.kind === 'project') return element.listeners;
    if (element.kind === 'group') return element.listeners;
    return [];
  }

  /** The root nodes from a fresh OS snapshot (one listener scan, one process-table read). */
  async model(): Promise<PortsNode[]> {
    const { allocator, os, config, projects, servers, logger } = this.deps;
    const settings = config.get();
    try {
      const [listeners, table] = await Promise.all([os.listListeners(), servers.list().length ? snapshotProcessTable() : undefined]);
      const ownedPids = new Map<number, string>();
      if (table) {
        for (const s of servers.list()) {
          if (s.shellPid === undefined) continue;
          for (const pid of descendants(table, s.shellPid)) ownedPids.set(pid, s.project.id);
        }
      }
      return buildPortsModel({
        projects: projects.all(),
        allocations: allocator.getAllocations(),
        ...servers.modelInput(projects.all().map((p) => p.id)),
        listening: new Set(listeners.map((l) => l.port)),
        listeners,
        ownedPids,
        range: settings.portRange,
        now: Date.now(),
        staleAfterMs: settings.staleAfterMinutes * 60_000,
        isAlive: (pid) => os.isProcessAlive(pid),
      });
    } catch (error) {
      logger.error(`could not read the listening ports: ${errorMessage(error)}`);
      return [];
    }
  }

  getTreeItem(node: PortsNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = 'group:other';
      item.contextValue = 'group';
      item.iconPath = new vscode.ThemeIcon('radio-tower');
      item.description = `${node.listeners.length} in ${this.deps.config.get().portRange.start}–${this.deps.config.get().portRange.end}`;
      return item;
    }
    if (node.kind === 'listener') return this.listenerItem(node);
    return this.projectItem(node);
  }

  private projectItem(node: ProjectNode): vscode.TreeItem {
    const item = new vscode.TreeItem(
      node.name,
      node.listeners.length > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = `project:${node.projectId}`;
    item.contextValue = `project.${node.state}`;
    item.iconPath = STATE_ICON[node.state];
    const parts: string[] = [];
    if (node.port !== undefined) parts.push(`:${node.port}`);
    if (node.pid !== undefined && (node.state === 'running' || node.state === 'conflict')) parts.push(`PID ${node.pid}`);
    if (node.since !== undefined && node.state === 'running') parts.push(formatAge(Date.now() - node.since));
    if (node.note) parts.push(node.note);
    item.description = parts.join(' · ');

    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMd(node.name)}** — ${node.state}${node.note ? ` (${escapeMd(node.note)})` : ''}\n\n`);
    if (node.port !== undefined) md.appendMarkdown(`- Port: \`${node.port}\`\n`);
    if (node.pid !== undefined) md.appendMarkdown(`- PID: \`${node.pid}\`\n`);
    if (node.command) md.appendMarkdown(`- Command: \`${node.command.replace(/`/g, "'")}\`\n`);
    md.appendMarkdown(`- Folder: \`${node.folder.replace(/`/g, "'")}\`\n`);
    if (node.allocatedAt !== undefined) md.appendMarkdown(`- Allocated: ${new Date(node.allocatedAt).toLocaleString()} (${formatAge(Date.now() - node.allocatedAt)} ago)\n`);
    if (node.since !== undefined && node.managed) md.appendMarkdown(`- Started: ${formatAge(Date.now() - node.since)} ago\n`);
    item.tooltip = md;
    return item;
  }

  private listenerItem(node: ListenerNode): vscode.TreeItem {
    const process = node.processes[0];
    const item = new vscode.TreeItem(`:${node.port}`, vscode.TreeItemCollapsibleState.None);
    item.id = `listener:${node.port}:${node.address}:${node.pids.join(',')}`;
    item.contextValue = 'listener';
    item.iconPath = new vscode.ThemeIcon('plug');
    const who = process ? `${process.name} (PID ${process.pid})` : node.pids.length ? `PID ${node.pids.join(', ')}` : 'another user';
    item.description = `${node.address} · ${who}`;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**Port ${node.port}** on \`${node.address}\`\n\n`);
    for (const p of node.processes) md.appendMarkdown(`- PID ${p.pid}: \`${(p.command || p.name).replace(/`/g, "'")}\`\n`);
    if (node.processes.length === 0) md.appendMarkdown(node.ownerUid !== undefined ? `Held by uid ${node.ownerUid}; its processes cannot be read.\n` : '');
    item.tooltip = md;
    return item;
  }

  dispose(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
  }
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
