/**
 * Composition root: builds the core over VS Code's storage and the real OS, wires the adapters, registers
 * everything in `context.subscriptions`, and returns the extension API of CONTRACT.md. Activation does no OS
 * scan and spawns nothing: the startup reconcile and project discovery run right after it.
 */
import * as vscode from 'vscode';
import { PortAllocator } from './core/allocator';
import { Ledger } from './core/ledger';
import { meteredOs, MetricsRecorder, type MetricKind } from './core/metrics';
import { nodeOs, onToolNotice } from './os/index';
import { registerAgentIntegrations } from './vscode/agentIntegrations';
import { createApi, type DevPortsApi } from './vscode/api';
import { registerCommands } from './vscode/commands';
import { Config } from './vscode/config';
import { Conflicts } from './vscode/conflicts';
import { DevServerManager } from './vscode/servers/devServerManager';
import { registerStartWithDebugger } from './vscode/servers/debugTerminal';
import { EditorProcesses } from './vscode/editorProcesses';
import { errorMessage, Log } from './vscode/log';
import { mementoStore } from './vscode/mementoStore';
import { MetricsView } from './vscode/metricsView';
import { PortsTreeProvider, reservationsIn } from './vscode/portsTreeProvider';
import { ProjectsService } from './vscode/projectsService';
import { StaleSweeper } from './vscode/staleSweeper';
import { StatusBar } from './vscode/statusBar';

export type { DevPortsApi, DevServerInfo } from './vscode/api';
export type { Metrics } from './core/metrics';

export function activate(context: vscode.ExtensionContext): DevPortsApi {
  const t0 = performance.now();
  const log = new Log();
  const logger = log.for('extension');
  const config = new Config(log.for('settings'));
  const metrics = new MetricsRecorder();
  const os = meteredOs(nodeOs, metrics);
  const editor = new EditorProcesses();
  const ledger = new Ledger({ logger: log.core });
  // A missing system tool the OS layer worked around (ss, /proc): said once in the log, with what answered instead.
  const stopNotices = onToolNotice((line) => log.core.warn(line));
  context.subscriptions.push({ dispose: stopNotices });
  const allocator = new PortAllocator({
    store: mementoStore(context.workspaceState),
    ledger,
    os,
    logger: log.core,
    metrics,
    owner: { pid: process.pid, kind: 'vscode' },
    range: () => config.get().portRange,
    gracePeriodMs: () => config.get().killGracePeriodMs,
    staleAfterMs: () => config.get().staleAfterMinutes * 60_000,
    protectedPids: () => editor.known(),
  });
  context.subscriptions.push(log, config);
  const editorPids = () => editor.pids();
  const conflicts = new Conflicts(log.for('conflicts'), () => log.show(), () => config.get().killGracePeriodMs, editorPids);
  const projects = new ProjectsService(config, log.for('projects'), log.core);
  // The dev-server manager: built here only.
  // The allocator counts allocations, releases, sweeps, moves and refused ports, and the metered OS kills and
  // time-to-free; the manager adds only what neither sees: a conflict found in a server's output.
  const managerMetrics = { count: (kind: MetricKind, n?: number) => kind === 'conflict' && metrics.count(kind, n), timeToFree: () => undefined };
  const servers = new DevServerManager({ allocator, os, config, conflicts, state: context.workspaceState, logger: log.for('terminals'), protectedPids: editorPids, metrics: managerMetrics });
  const deps = { allocator, os, config, projects, servers, reservations: () => reservationsIn(ledger), editorPids };
  const tree = PortsTreeProvider.createView({ ...deps, logger: log.for('view') });
  const statusBar = new StatusBar({ ...deps, logger: log.for('status') });
  const sweeper = new StaleSweeper(allocator, config, log.for('sweep'));
  const metricsView = new MetricsView(metrics, () => config.get().killGracePeriodMs);
  const metricsNow = () => metrics.snapshot();
  const commandDeps = { ...deps, conflicts, tree, statusBar, log, logger: log.for('commands'), protectedPids: editorPids, metrics: metricsNow, metricsView };
  context.subscriptions.push(projects, servers, tree, statusBar, sweeper, metricsView, ...registerCommands(commandDeps));
  context.subscriptions.push(registerStartWithDebugger({ projects: () => projects.all() }));

  context.subscriptions.push(...registerAgentIntegrations({ ...deps, logger: log.for('agents'), protectedPids: editorPids }));

  // Off the activation path: an OS snapshot for the reconcile, a file walk for discovery, the settings check.
  const startup = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(async () => {
    const started = performance.now();
    config.check();
    await Promise.all([
      allocator.reconcile().catch((error) => logger.error(`startup reconcile failed: ${errorMessage(error)}`)),
      projects.refresh(),
      editor.pids(),
    ]);
    await statusBar.update();
    logger.info(`startup work done in ${(performance.now() - started).toFixed(0)} ms`);
  });

  const activationMs = performance.now() - t0;
  logger.info(`activated in ${activationMs.toFixed(1)} ms (VS Code ${vscode.version}, ${vscode.env.appName}, remote: ${vscode.env.remoteName ?? 'none'})`);

  const apiDeps = { allocator, config, servers, projects, tree, statusBar, conflicts, metrics: metricsNow, startup, activationMs };
  return createApi(apiDeps, context.subscriptions);
}

export function deactivate(): void {
  // Everything is in context.subscriptions; terminals are transient and end with the window.
}
