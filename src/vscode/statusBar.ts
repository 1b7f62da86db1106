import * as vscode from 'vscode';
import { errorMessage } from './log';
import { buildPortsModel, stateWord, type ProjectNode } from './portsModel';
import { baseModelInput, type PortsViewDeps } from './portsTreeProvider';

/** Rows that need the user: the item gets the warning background while one exists. */
const TROUBLE: ReadonlySet<ProjectNode['state']> = new Set(['stale', 'conflict', 'unhealthy', 'waiting']);
const UP: ReadonlySet<ProjectNode['state']> = new Set(['running', 'starting', 'unhealthy']);

/** A stale port shows up here without any event (a server killed from outside): look again now and then. */
const RECHECK_MS = 15_000;

/** What the item shows, for the tests. */
export interface StatusBarState {
  visible: boolean;
  text: string;
  tooltip: string;
  warning: boolean;
}

/**
 * One status-bar item: `$(plug) 2 ports` (active allocations), with the warning background when a server is
 * unhealthy, waits for an answer, or a port is stale or in conflict; its tooltip lists `project :port state`;
 * a click opens the Servers view. Hidden when the workspace has no project and no allocation.
 *
 * @example
 * context.subscriptions.push(new StatusBar(deps));
 */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private pending: ReturnType<typeof setTimeout> | undefined;
  private updating: Promise<void> = Promise.resolve();
  /** Last state shown. */
  state: StatusBarState = { visible: false, text: '', tooltip: '', warning: false };

  constructor(private readonly deps: PortsViewDeps) {
    this.item = vscode.window.createStatusBarItem('devPorts.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Dev Ports';
    this.item.command = 'devPorts.ports.focus';
    const later = () => this.schedule();
    const sub = deps.allocator.onDidChange(later);
    this.disposables.push(
      this.item,
      { dispose: () => sub.dispose() },
      deps.projects.onDidChange(later),
      deps.servers.onDidChange(later),
      deps.config.onDidChange(later),
    );
    // Stale and conflict states change with the OS, which sends no event: look again now and then, but only
    // while there is something to look at (no OS query at all in a window without allocations).
    this.timer = setInterval(() => {
      if (deps.allocator.getAllocations().length > 0 || deps.servers.infos().length > 0) later();
    }, RECHECK_MS);
    this.timer.unref?.();
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.update();
    }, 50);
  }

  /** The one function that shows, hides and fills the item. Resolves when the item shows the current state. */
  update(): Promise<void> {
    this.updating = this.updating.then(() => this.doUpdate());
    return this.updating;
  }

  private async doUpdate(): Promise<void> {
    const { allocator, os, projects, logger } = this.deps;
    try {
      const allocations = allocator.getAllocations();
      const input = baseModelInput(this.deps, await os.listeningPorts());
      const nodes = buildPortsModel({ ...input, allocations }).filter((n): n is ProjectNode => n.kind === 'project');

      const count = allocations.length;
      const visible = count > 0 || projects.all().length > 0;
      const troubled = nodes.filter((n) => TROUBLE.has(n.state));
      const listed = nodes.filter((n) => n.port !== undefined && n.state !== 'stopped');
      // Servers still running after their reservation was released (Release All leaves servers running): said
      // apart, so "0 ports" never sits beside a list of running servers.
      const reserved = new Set(allocations.map((a) => a.projectId));
      const unreserved = new Set(nodes.filter((n) => n.managed && UP.has(n.state) && !reserved.has(n.projectId)).map((n) => n.projectId));
      const text = `$(plug) ${count} ${count === 1 ? 'port' : 'ports'}${unreserved.size ? ` · ${unreserved.size} running unreserved` : ''}`;
      const lines = listed.map(
        (n) => `${n.name} :${n.port} ${stateWord(n)}${n.note && n.note !== stateWord(n) ? ` (${n.note})` : ''}${unreserved.has(n.projectId) ? ' (its port is no longer reserved)' : ''}`,
      );
      const tooltip = lines.length ? `Dev Ports\n${lines.join('\n')}` : 'Dev Ports: no port allocated';
      this.item.text = text;
      this.item.tooltip = tooltip;
      this.item.backgroundColor = troubled.length ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
      this.item.accessibilityInformation = { label: `Dev Ports: ${count} ${count === 1 ? 'port' : 'ports'} allocated${troubled.length ? `, ${troubled.length} need attention` : ''}` };
      if (visible) this.item.show();
      else this.item.hide();
      this.state = { visible, text, tooltip, warning: troubled.length > 0 };
    } catch (error) {
      logger.error(`status bar update failed: ${errorMessage(error)}`);
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    for (const d of this.disposables) d.dispose();
  }
}
