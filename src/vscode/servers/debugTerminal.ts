/**
 * Start with Debugger: the dev server runs in a JavaScript Debug Terminal of VS Code's built-in JavaScript
 * debugger (js-debug), so breakpoints in server code bind. js-debug's command
 * `extension.js-debug.createDebuggerTerminal(command?, workspaceFolder?, config?)` opens the terminal and types the
 * command into it; `config` takes `cwd` and `env` like a launch configuration. The port rules are a normal start's.
 */
import * as vscode from 'vscode';
import { DevPortsError } from '../../core/errors';
import type { Project } from '../../core/projects';
import { extras } from '../lazy';
import type { StartOptions, StartResult } from './devServer';
import type { DebugTerminalOptions } from './debugTerminalOpen';

/** Opens a JavaScript Debug Terminal that runs `commandLine` (debugTerminalOpen.ts, in dist/extras.js); resolves with that terminal. */
export async function createDebugTerminal(options: DebugTerminalOptions): Promise<vscode.Terminal> {
  return extras().openDebugTerminal(options, (message) => new DevPortsError(message, 'INVALID_INPUT'));
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
