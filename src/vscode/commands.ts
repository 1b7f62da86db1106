import * as path from 'path';
import * as vscode from 'vscode';
import type { PortAllocator } from '../core/allocator';
import {
  DevPortsError,
  InvalidInputError,
  isOutOfSight,
  NoFreePortError,
  OUT_OF_SIGHT,
  PermissionDeniedError,
  PortInUseError,
} from '../core/errors';
import type { Metrics } from '../core/metrics';
import { normalizeProjectId, type Project } from '../core/projects';
import type { Allocation, Logger } from '../core/types';
import { snapshotProcessTable } from '../os/index';
import type { KillOutcome } from '../os/killer';
import type { KillResult, PortOs } from '../os/types';
import type { Config } from './config';
import { describeProcesses, type ConflictMode, type Conflicts, type ReservedBy } from './conflicts';
import { CancelledError, UntrustedWorkspaceError, type DevServerManager, type StartOptions, type StartResult } from './servers/devServerManager';
import { errorMessage, type Log } from './log';
import type { MetricsView } from './metricsView';
import { freePortChoices, reserverText, startAllScope, toListenerNode, type ListenerNode, type PortsNode, type Reservation } from './portsModel';
import { safely, type PortsTreeProvider } from './portsTreeProvider';
import type { ProjectsService } from './projectsService';
import type { StatusBar } from './statusBar';

export interface CommandDeps {
  allocator: PortAllocator;
  os: PortOs;
  config: Config;
  projects: ProjectsService;
  servers: DevServerManager;
  conflicts: Conflicts;
  tree: PortsTreeProvider;
  statusBar: StatusBar;
  log: Log;
  logger: Logger;
  protectedPids: () => Promise<number[]>;
  /** Every reservation of the machine-wide ledger (other windows', the CLI's, this window's). */
  reservations: () => Reservation[];
  metrics: () => Metrics;
  metricsView: MetricsView;
}

/** `devPorts.startAll`'s result (CONTRACT.md). */
export interface StartAllResult {
  started: StartResult[];
  failed: { projectId: string; message: string }[];
}

/** Project.role comes from discovery (branch `frameworks`); a project without one is a server. */
export function roleOf(project: Project): string {
  return (project as { role?: string }).role ?? 'server';
}

/** `startDevServer`'s object argument, besides a project id, a `Uri` or a tree item. */
interface ProjectArg {
  projectId: string;
  /** Test and script hook: choose the conflict path up front instead of asking. */
  onConflict?: ConflictMode;
  port?: number;
  /** Run it in a JavaScript Debug Terminal (devPorts.startWithDebugger). */
  debug?: boolean;
}

type FreePortArg = number | { port: number; force?: boolean } | PortsNode | undefined;

const SHOW_LOG = 'Show Log';

function isProjectArg(arg: unknown): arg is ProjectArg {
  return typeof arg === 'object' && arg !== null && typeof (arg as ProjectArg).projectId === 'string' && !('kind' in arg);
}

function isNode(arg: unknown): arg is PortsNode {
  return typeof arg === 'object' && arg !== null && typeof (arg as PortsNode).kind === 'string';
}

/** True for arguments only code passes (ids, numbers, option objects): such callers get the rejection too. */
function isProgrammatic(arg: unknown): boolean {
  // A Uri counts: Dev Ports contributes no explorer menu, so a Uri only ever comes from code.
  return typeof arg === 'string' || typeof arg === 'number' || (typeof arg === 'object' && arg !== null && !isNode(arg));
}

/**
 * Registers every command of the contract. Each is callable from the palette (asking for what it needs) and
 * with an argument from code; failures are logged under `[commands]` and shown once with the buttons that fix them.
 *
 * @example
 * context.subscriptions.push(...registerCommands(deps));
 */
export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { allocator, os, config, projects, servers, conflicts, tree, statusBar, log, logger, metricsView } = deps;

  const wrap =
    <A, R>(id: string, fn: (arg: A) => Promise<R>) =>
    async (arg: A): Promise<R | undefined> => {
      try {
        return await fn(arg);
      } catch (error) {
        if (error instanceof CancelledError) return undefined;
        logger.error(`${id} failed: ${errorMessage(error)}`);
        void showError(error);
        if (isProgrammatic(arg)) throw error;
        return undefined;
      }
    };

  async function showError(error: unknown): Promise<void> {
    if (conflicts.wasShown(error)) return;
    const message = errorMessage(error);
    if (error instanceof UntrustedWorkspaceError) {
      const choice = await vscode.window.showWarningMessage(message, 'Manage Workspace Trust');
      if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
      return;
    }
    if (error instanceof PortInUseError && error.holders.length > 0) {
      const free = `Free Port ${error.port}`;
      // The core's message ends with the CLI's remedy; here the remedy is the button.
      const text = `Port ${error.port} is in use by ${describeProcesses(error.holders)}.`;
      const choice = await vscode.window.showErrorMessage(text, free, SHOW_LOG);
      if (choice === free) await vscode.commands.executeCommand('devPorts.freePort', error.port).then(undefined, () => undefined);
      if (choice === SHOW_LOG) log.show();
      return;
    }
    if (error instanceof NoFreePortError) {
      const cleanup = 'Cleanup Stale Ports';
      const settings = 'Open Settings';
      const choice = await vscode.window.showErrorMessage(message, cleanup, settings, SHOW_LOG);
      if (choice === cleanup) await vscode.commands.executeCommand('devPorts.cleanupStalePorts');
      if (choice === settings) await vscode.commands.executeCommand('workbench.action.openSettings', 'devPorts.portRange');
      if (choice === SHOW_LOG) log.show();
      return;
    }
    const choice = await vscode.window.showErrorMessage(message, SHOW_LOG);
    if (choice === SHOW_LOG) log.show();
  }

  /** A project that is only known from an allocation (its folder vanished): enough to stop or release it. */
  function allocationOnlyProject(projectId: string): Project {
    const name = path.basename(projectId) || projectId;
    return { id: projectId, name, label: name, relativePath: '', role: 'server', folder: projectId, workspaceFolder: projectId, packageManager: 'npm' };
  }

  async function pickProject(placeHolder: string, filter: (p: Project) => boolean = () => true): Promise<Project> {
    await projects.ready;
    const candidates = projects.all().filter(filter);
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(
        projects.all().length === 0
          ? 'No dev-server projects found: a project is a folder whose package.json has a dev script (devPorts.devScriptNames), or a folder named in devPorts.projects.'
          : 'No project fits: none is in that state.',
      );
      throw new CancelledError();
    }
    const items = candidates.map((p) => {
      const server = servers.get(p.id);
      const allocation = allocator.getAllocation(p.id);
      const port = server?.port ?? allocation?.port ?? p.port;
      return {
        label: p.label,
        description: [port !== undefined ? `:${port}` : undefined, server ? server.state : allocation ? 'reserved' : undefined]
          .filter(Boolean)
          .join(' · '),
        detail: path.relative(p.workspaceFolder, p.folder) || '.',
        project: p,
      };
    });
    const picked = await vscode.window.showQuickPick(items, { placeHolder, matchOnDetail: true });
    if (!picked) throw new CancelledError();
    return picked.project;
  }

  async function resolveProject(arg: unknown, placeHolder: string, filter?: (p: Project) => boolean): Promise<Project> {
    if (arg === undefined || arg === null) return pickProject(placeHolder, filter);
    await projects.ready;
    let id: string | undefined;
    if (typeof arg === 'string') id = arg;
    else if (arg instanceof vscode.Uri) {
      const found = projects.findByPath(arg.fsPath);
      if (found) return found;
      throw new InvalidInputError(`${arg.fsPath} is not inside a dev-server project.`);
    } else if (isProjectArg(arg)) id = arg.projectId;
    else if (isNode(arg) && arg.kind === 'project') id = arg.projectId;
    if (id === undefined) throw new InvalidInputError('Expected a project id (its folder path), a Uri or a project of the Ports view.');
    // A relative id names a folder of a workspace folder (as the keys of devPorts.projects do).
    const candidates = path.isAbsolute(id)
      ? [id]
      : (vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, id));
    const normalized = normalizeProjectId(candidates.find((c) => projects.get(normalizeProjectId(c))) ?? candidates[0] ?? id);
    let project = projects.get(normalized);
    if (!project) {
      // A package.json written a moment ago is seen by the watcher only after its debounce.
      await projects.refresh();
      project = projects.get(normalized);
    }
    if (project) return project;
    if (allocator.getAllocation(normalized) || servers.get(normalized)) return allocationOnlyProject(normalized);
    throw new InvalidInputError(`No dev-server project at ${normalized}. Dev Ports found: ${projects.all().map((p) => p.id).join(', ') || 'none'}.`);
  }

  function startOptions(arg: unknown): StartOptions {
    // A caller from code (a project id or a Uri) gets the conflict as a rejection at once, and the user the
    // message with its buttons: awaiting a notification nobody clicks would hang that caller.
    if (!isProjectArg(arg)) return isProgrammatic(arg) ? { onConflict: 'notify' } : {};
    const options: StartOptions = {};
    if (arg.onConflict !== undefined) {
      if (!['ask', 'notify', 'free', 'useNext', 'fail'].includes(arg.onConflict)) {
        throw new InvalidInputError(`onConflict must be "ask", "notify", "free", "useNext" or "fail", got ${JSON.stringify(arg.onConflict)}.`);
      }
      options.onConflict = arg.onConflict;
    }
    if (arg.port !== undefined) options.port = parsePort(arg.port);
    if (arg.debug === true) options.debug = true;
    options.onConflict ??= 'notify';
    return options;
  }

  function parsePort(value: unknown): number {
    const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
      throw new InvalidInputError(`${JSON.stringify(value)} is not a port: a port is a whole number from 1 to 65535.`);
    }
    return n;
  }

  /**
   * The range's listeners first, each with the project it belongs to, then the machine's other ports. The
   * editor's own processes and VS Code's forwarder are not offered (Dev Ports never stops them).
   */
  async function pickPort(): Promise<number> {
    const [listeners, editorPids, roots] = await Promise.all([os.listListeners(), deps.protectedPids(), tree.update()]);
    const uid = process.getuid?.();
    const classify = { editorPids: new Set(editorPids), ...(uid !== undefined ? { uid } : {}) };
    const range = config.get().portRange;
    const choices = freePortChoices(listeners.map((l) => toListenerNode(l, classify)), roots, range);
    type Item = vscode.QuickPickItem & { port?: number };
    const toItem = ({ listener: l, project }: { listener: ListenerNode; project?: string }): Item => {
      const where = l.address !== '0.0.0.0' && l.address !== '::' ? ` on ${l.address}` : '';
      return {
        label: project ? `:${l.port}  ${project}` : `:${l.port}`,
        description: `${l.holderText}${where}${l.holder === 'otherUser' ? ': only that user (or root) can stop it' : l.holder === 'outOfSight' ? ': Dev Ports cannot stop it from here' : ''}`,
        detail: l.processes[0]?.command,
        port: l.port,
      };
    };
    const held = choices.hidden.length;
    const other: Item = { label: '$(edit) Another port…', alwaysShow: true };
    const items: Item[] = [
      { label: `In the range ${range.start}–${range.end}`, kind: vscode.QuickPickItemKind.Separator },
      ...choices.inRange.map(toItem),
      ...(choices.rest.length ? [{ label: 'Other ports', kind: vscode.QuickPickItemKind.Separator } as Item, ...choices.rest.map(toItem)] : []),
    ];
    // A number typed in the box is offered as it is (first, selected): no second box for a port not listed.
    const pick = vscode.window.createQuickPick<Item>();
    pick.title = `Free Port${held > 0 ? ` (${held} held by this editor not shown)` : ''}`;
    pick.placeholder = 'Type a port number, or pick a listener';
    pick.matchOnDescription = true;
    pick.matchOnDetail = true;
    pick.items = [...items, other];
    pick.onDidChangeValue((value) => {
      const typed = /^\s*\d{1,5}\s*$/.test(value) ? Number(value) : undefined;
      const valid = typed !== undefined && typed >= 1 && typed <= 65535 && !items.some((i) => i.port === typed);
      pick.items = valid ? [{ label: `Free port ${typed}`, description: 'not listed: nothing Dev Ports saw listens there', port: typed, alwaysShow: true }, ...items, other] : [...items, other];
    });
    const picked = await new Promise<Item | undefined>((resolve) => {
      pick.onDidAccept(() => resolve(pick.selectedItems[0]));
      pick.onDidHide(() => resolve(undefined));
      pick.show();
    });
    pick.dispose();
    if (!picked) throw new CancelledError();
    if (picked.port !== undefined) return picked.port;
    const typed = await vscode.window.showInputBox({
      prompt: 'Port to free',
      placeHolder: '3000',
      validateInput: (v) => {
        try {
          parsePort(v);
          return undefined;
        } catch (e) {
          return errorMessage(e);
        }
      },
    });
    if (typed === undefined) throw new CancelledError();
    return parsePort(typed);
  }

  /** The ledger's reservation of `port` when another window, the CLI or a script made it (for the question's words). */
  function reservedElsewhere(port: number): ReservedBy | undefined {
    const reservation = safely(deps.reservations, logger).find((r) => r.port === port && !r.ownerIsThisWindow);
    if (!reservation) return undefined;
    const known = projects.all().find((p) => p.id === reservation.projectId);
    const alive = !reservation.owner || os.isProcessAlive(reservation.owner.pid);
    const openWindow = reservation.owner?.kind === 'vscode' && alive;
    return { project: known?.name ?? path.basename(reservation.projectId), who: reserverText(reservation, alive), openWindow };
  }

  async function freePort(arg: FreePortArg): Promise<KillResult> {
    let port: number | undefined;
    let force = false;
    if (typeof arg === 'number' || typeof arg === 'string') port = parsePort(arg);
    else if (isNode(arg)) {
      if (arg.kind === 'listener') port = arg.port;
      else if (arg.kind === 'project') port = arg.port;
    } else if (arg && typeof arg === 'object') {
      port = parsePort((arg as { port?: unknown }).port);
      force = (arg as { force?: unknown }).force === true;
    }
    if (port === undefined) port = await pickPort();

    const settings = config.get();
    const listeners = await os.listListeners(port);
    if (listeners.length === 0) {
      const free = await os.isPortAvailable(port);
      if (free) vscode.window.setStatusBarMessage(`$(check) Port ${port} is already free`, 4000);
      else void vscode.window.showWarningMessage(`Port ${port} is not free, but Dev Ports cannot see who holds it.`, SHOW_LOG);
      logger.info(`free :${port}: nothing listens${free ? '' : ' (yet the port is not free)'}`);
      return { port, killedPids: [], free };
    }
    const hidden = listeners.find((l) => l.pids.length === 0);
    if (hidden && isOutOfSight(hidden.ownerUid, process.getuid?.())) {
      throw new DevPortsError(`Port ${port} is held by ${OUT_OF_SIGHT}; stop it where it runs.`, 'PERMISSION_DENIED');
    }
    if (hidden) throw new PermissionDeniedError(port, { uid: hidden.ownerUid });
    const me = process.getuid?.();
    if (me !== undefined && me !== 0) {
      const foreign = listeners.flatMap((l) => l.processes).find((p) => p.uid !== undefined && p.uid !== me);
      if (foreign) throw new PermissionDeniedError(port, foreign);
    }
    const guard = new Set(await deps.protectedPids());
    const editorHolder = listeners.flatMap((l) => l.processes).find((p) => guard.has(p.pid));
    if (editorHolder) {
      throw new DevPortsError(
        `Port ${port} is held by this editor (${editorHolder.name}, PID ${editorHolder.pid}: its server, extension host or port forwarder); Dev Ports never stops the editor's own processes.`,
        'PERMISSION_DENIED',
      );
    }
    const forwarder = listeners.map((l) => toListenerNode(l, { editorPids: guard })).find((l) => l.holder === 'forwarder');
    if (forwarder) {
      throw new DevPortsError(
        `Port ${port} is held by VS Code (port forwarding, PID ${forwarder.pids.join(', ')}); Dev Ports does not stop it: stop forwarding the port in VS Code's Ports view.`,
        'PERMISSION_DENIED',
      );
    }

    // A port of a dev server Dev Ports runs is freed by stopping that server (terminal closed, port released).
    const table = await snapshotProcessTable();
    const holderPids = [...new Set(listeners.flatMap((l) => l.pids))];
    const owners = new Set(holderPids.map((pid) => servers.ownerOf(pid, table)));
    const [owner] = owners;
    if (owners.size === 1 && owner) {
      logger.info(`free :${port}: it belongs to ${owner.project.name}; stopping that dev server`);
      const stopped = await servers.stop(owner.project);
      const free = await os.isPortAvailable(port);
      return { port, killedPids: stopped.killedPids ?? [], free };
    }

    const plan = await conflicts.stopPlan(port, listeners);
    const reservedBy = reservedElsewhere(port);
    if (!force && isProgrammatic(arg)) {
      // A caller from code without `force` cannot answer a modal (and must not hang on one): the user gets the
      // question as a notification whose button frees the port, the caller the unchanged state at once.
      conflicts.offerStop(port, plan, reservedBy);
      logger.info(`free :${port}: held by ${reservedBy ? `the server of ${reservedBy.project} (reserved by ${reservedBy.who})` : 'a process Dev Ports did not start'} and no force given; asked the user, stopped nothing`);
      return { port, killedPids: [], free: false };
    }
    if (!force && !(await conflicts.confirmStop(port, plan, reservedBy))) {
      logger.info(`free :${port}: cancelled; nothing was stopped`);
      throw new CancelledError();
    }
    logger.info(`free :${port}: stopping ${plan.map((t) => t.pid).join(', ')}${force ? ' (force, not asked)' : ''}`);
    const result = await os.killProcessesOnPort(port, { gracePeriodMs: settings.killGracePeriodMs, protectedPids: [...guard] });
    logger.info(`free :${port}: stopped ${result.killedPids.join(', ') || 'nothing'}; ${result.free ? 'free' : 'still in use'}`);
    // The kill answers once the port is free; the rest of the tree's exit is confirmed in the background (the OS
    // layer's non-enumerable `settled`), and what went wrong there is said in the log, not lost.
    void (result as Partial<KillOutcome>).settled?.then((s) => {
      for (const e of s.errors) logger.warn(`free :${port}: after the port was free, stopping the rest of its process tree: ${errorMessage(e)}`);
    });
    if (result.free) vscode.window.setStatusBarMessage(`$(check) Port ${port} is free`, 4000);
    else void vscode.window.showWarningMessage(`Port ${port} is still in use after stopping ${result.killedPids.join(', ') || 'its holders'}.`, SHOW_LOG).then((c) => c && log.show());
    tree.refresh();
    return result;
  }

  // No confirmation: releasing drops reservations only (running servers keep running and keep their ports in
  // the OS), and a modal would hang callers from code, which the contract lets call this with no argument.
  async function releaseAll(): Promise<{ released: number }> {
    const released = await allocator.releaseAllPortAllocations({ projectIds: projects.all().map((p) => p.id) });
    logger.info(`released all ${released} port allocation(s) of this workspace`);
    vscode.window.setStatusBarMessage(`$(check) Released ${released} port allocation${released === 1 ? '' : 's'}`, 4000);
    return { released };
  }

  async function cleanup(arg: unknown): Promise<{ released: Allocation[] }> {
    const given = typeof arg === 'object' && arg !== null ? (arg as { olderThanMs?: unknown }).olderThanMs : undefined;
    const olderThanMs = typeof given === 'number' && given >= 0 ? given : config.get().staleAfterMinutes * 60_000;
    const released = await allocator.cleanupStalePortAllocations({ olderThanMs });
    if (!isProgrammatic(arg)) {
      logger.info(`Cleanup Stale Ports: ${released.length ? `released ${released.map((a) => `:${a.port}`).join(', ')}` : 'nothing stale'}`);
      vscode.window.setStatusBarMessage(
        released.length ? `$(check) Released ${released.map((a) => `:${a.port}`).join(', ')}` : '$(check) No stale port allocation',
        4000,
      );
    }
    return { released };
  }

  async function openInBrowser(arg: unknown): Promise<void> {
    let port: number | undefined;
    if (typeof arg === 'number') port = parsePort(arg);
    else if (isNode(arg) && arg.kind === 'listener') port = arg.port;
    // A row of the view knows its port, also for a server another window or the CLI runs.
    else if (isNode(arg) && arg.kind === 'project' && arg.port !== undefined) port = arg.port;
    else {
      const project = await resolveProject(arg, 'Open which dev server in the browser?', (p) => !!servers.get(p.id) || !!allocator.getAllocation(p.id));
      port = servers.get(project.id)?.port ?? allocator.getAllocation(project.id)?.port;
      if (port === undefined) throw new DevPortsError(`${project.name} has no port yet: start it first.`, 'INVALID_INPUT');
    }
    const uri = await vscode.env.asExternalUri(vscode.Uri.parse(`http://localhost:${port}/`));
    logger.info(`opening ${uri.toString(true)}`);
    await vscode.env.openExternal(uri);
  }

  /**
   * Starts every project with role 'server' of the workspace (or of one workspace folder), each on its own
   * port; orchestrators are never started with one port, watchers get none. One failure does not stop the rest.
   */
  async function startAll(arg: unknown): Promise<StartAllResult> {
    await projects.ready;
    let folder: string | undefined;
    if (arg instanceof vscode.Uri) folder = normalizeProjectId(arg.fsPath);
    else if (isNode(arg)) folder = startAllScope(arg);
    else if (arg !== undefined && arg !== null) throw new InvalidInputError('Start All takes no argument, or the Uri of a workspace folder.');
    const inside = (p: Project) => !folder || p.workspaceFolder === folder || p.folder === folder || p.folder.startsWith(folder + path.sep);
    const chosen = projects.all().filter((p) => roleOf(p) === 'server' && inside(p));
    if (chosen.length === 0) {
      if (!isProgrammatic(arg)) void vscode.window.showInformationMessage(folder ? `No dev server to start in ${folder}.` : 'No dev server to start in this workspace.');
      return { started: [], failed: [] };
    }
    // What runs already is said apart: Start All leaves it as it is.
    const running = new Set(servers.infos().filter((s) => s.state !== 'exited' && s.phase !== 'stopping').map((s) => s.projectId));
    logger.info(`start all: ${chosen.map((p) => p.name).join(', ')}`);
    // Each start is independent; the allocator serialises the claims, so each gets its own port.
    const outcomes = await Promise.allSettled(chosen.map((p) => servers.start(p, { onConflict: 'notify' })));
    const result: StartAllResult = { started: [], failed: [] };
    outcomes.forEach((o, i) => {
      if (o.status === 'fulfilled') result.started.push({ projectId: o.value.projectId, port: o.value.port, terminalName: o.value.terminalName });
      else if (!(o.reason instanceof CancelledError)) result.failed.push({ projectId: chosen[i].id, message: errorMessage(o.reason) });
      else result.failed.push({ projectId: chosen[i].id, message: 'Cancelled.' });
    });
    for (const f of result.failed) logger.warn(`start all: ${f.projectId}: ${f.message}`);
    const fresh = result.started.filter((s) => !running.has(s.projectId));
    const already = result.started.filter((s) => running.has(s.projectId));
    const ports = (list: StartResult[]) => list.map((s) => `:${s.port}`).join(', ');
    const text =
      `Started ${fresh.length} of ${chosen.length} dev servers${fresh.length ? ` (${ports(fresh)})` : ''}` +
      `${already.length ? `; ${already.length} already running (${ports(already)})` : ''}.`;
    logger.info(`start all: ${text}${result.failed.length ? ` ${result.failed.length} failed.` : ''}`);
    if (!isProgrammatic(arg)) {
      if (result.failed.length === 0) vscode.window.setStatusBarMessage(`$(check) ${text}`, 4000);
      else void vscode.window.showWarningMessage(`${text} ${result.failed.length} failed: ${result.failed[0].message}`, SHOW_LOG).then((c) => c && log.show());
    }
    return result;
  }

  const register = <A, R>(id: string, fn: (arg: A) => Promise<R>) => vscode.commands.registerCommand(id, wrap(id, fn));

  return [
    register('devPorts.startDevServer', async (arg: unknown) => {
      const project = await resolveProject(arg, 'Start which dev server?');
      return servers.start(project, startOptions(arg));
    }),
    register('devPorts.stopDevServer', async (arg: unknown) => {
      const project = await resolveProject(arg, 'Stop which dev server?', (p) => !!servers.get(p.id) || !!allocator.getAllocation(p.id));
      const { projectId, port, released } = await servers.stop(project);
      return { projectId, port, released };
    }),
    register('devPorts.restartDevServer', async (arg: unknown) => {
      const project = await resolveProject(arg, 'Restart which dev server?');
      return servers.restart(project, startOptions(arg));
    }),
    register('devPorts.freePort', freePort),
    register('devPorts.cleanupStalePorts', cleanup),
    register('devPorts.releaseAllPorts', releaseAll),
    register('devPorts.openInBrowser', openInBrowser),
    register('devPorts.refresh', async () => {
      await projects.refresh();
      tree.refresh(true);
      await statusBar.update();
    }),
    register('devPorts.showLog', async () => log.show()),
    register('devPorts.showMetrics', async () => {
      metricsView.show();
      return deps.metrics();
    }),
    register('devPorts.startAll', startAll),
  ];
}
