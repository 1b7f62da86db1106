/**
 * Start with Debugger: the dev server runs in a JavaScript Debug Terminal of VS Code's built-in JavaScript
 * debugger (js-debug), so breakpoints in server code bind. js-debug's command
 * `extension.js-debug.createDebuggerTerminal(command?, workspaceFolder?, config?)` opens the terminal and types the
 * command into it; `config` takes `cwd` and `env` like a launch configuration. The port rules are a normal start's.
 */
import * as vscode from 'vscode';
import { DevPortsError } from '../../core/errors';
import type { Project } from '../../core/projects';
import type { StartOptions, StartResult } from './devServer';

const JS_DEBUG_COMMAND = 'extension.js-debug.createDebuggerTerminal';
/** js-debug opens its terminal after resolving a Node binary: a few hundred ms, seconds on a loaded machine. */
const TERMINAL_OPEN_TIMEOUT_MS = 20_000;

/** The built-in JavaScript debugger (its nightly build has another id). */
const JS_DEBUG_IDS = ['ms-vscode.js-debug', 'ms-vscode.js-debug-nightly'];

/**
 * True when VS Code's JavaScript debugger can open a debug terminal here. Its command is registered only once it
 * is active, so the extension itself is looked for first.
 */
export async function hasJsDebug(): Promise<boolean> {
  if (JS_DEBUG_IDS.some((id) => vscode.extensions.getExtension(id))) return true;
  return (await vscode.commands.getCommands(true)).includes(JS_DEBUG_COMMAND);
}

/** Opens a JavaScript Debug Terminal that runs `commandLine`; resolves with that terminal. */
export async function createDebugTerminal(options: { commandLine: string; cwd: string; env: Record<string, string>; workspaceFolder: string }): Promise<vscode.Terminal> {
  if (!(await hasJsDebug())) {
    throw new DevPortsError(
      "Start with Debugger needs VS Code's built-in JavaScript debugger (js-debug), which this editor does not have or has disabled. Use Start Dev Server, or enable the JavaScript Debugger extension.",
      'INVALID_INPUT',
    );
  }
  const before = new Set(vscode.window.terminals);
  const opened = new Promise<vscode.Terminal>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new DevPortsError(`The JavaScript Debug Terminal did not open within ${TERMINAL_OPEN_TIMEOUT_MS / 1000} s; see the log.`, 'INVALID_INPUT'));
    }, TERMINAL_OPEN_TIMEOUT_MS);
    const sub = vscode.window.onDidOpenTerminal((t) => {
      if (before.has(t)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(t);
    });
  });
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(options.workspaceFolder));
  await vscode.commands.executeCommand(JS_DEBUG_COMMAND, options.commandLine, folder, { cwd: options.cwd, env: options.env });
  return opened;
}

export interface StartWithDebuggerDeps {
  /** The projects Dev Ports found, for the palette's quick pick. */
  projects: () => readonly Project[];
}

/** `devPorts.startWithDebugger`: the same argument as `devPorts.startDevServer`, started in a debug terminal. */
export function registerStartWithDebugger(deps: StartWithDebuggerDeps): vscode.Disposable {
  return vscode.commands.registerCommand('devPorts.startWithDebugger', async (arg?: unknown): Promise<StartResult | undefined> => {
    const start = (projectId: string, extra: StartOptions = {}) =>
      vscode.commands.executeCommand<StartResult | undefined>('devPorts.startDevServer', { projectId, ...extra, debug: true });
    if (typeof arg === 'string') return start(arg);
    if (arg instanceof vscode.Uri) return start(arg.fsPath);
    if (typeof arg === 'object' && arg !== null) {
      const o = arg as { projectId?: unknown; kind?: unknown; onConflict?: StartOptions['onConflict']; port?: number };
      if (typeof o.projectId === 'string') {
        // A tree item (it has a kind) comes from a person, who can answer the conflict message.
        if (o.kind !== undefined) return start(o.projectId, { onConflict: 'ask' });
        return start(o.projectId, { ...(o.onConflict ? { onConflict: o.onConflict } : {}), ...(o.port !== undefined ? { port: o.port } : {}) });
      }
    }
    const items = deps.projects().map((p) => ({ label: p.label, detail: p.folder, project: p }));
    if (items.length === 0) {
      void vscode.window.showInformationMessage('No dev-server projects found to start with the debugger.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(items, { placeHolder: 'Start which dev server with the debugger?' });
    return picked ? start(picked.project.id, { onConflict: 'ask' }) : undefined;
  });
}
