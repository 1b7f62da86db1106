/**
 * Opening the JavaScript Debug Terminal of Start with Debugger (see debugTerminal.ts), in dist/extras.js: loaded
 * on the first debug start. The errors are made by the caller's `fail` (the main bundle's DevPortsError).
 */
import * as vscode from 'vscode';

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

export interface DebugTerminalOptions {
  commandLine: string;
  cwd: string;
  env: Record<string, string>;
  workspaceFolder: string;
}

/** Opens a JavaScript Debug Terminal that runs `commandLine`; resolves with that terminal. */
export async function openDebugTerminal(options: DebugTerminalOptions, fail: (message: string) => Error): Promise<vscode.Terminal> {
  if (!(await hasJsDebug())) {
    throw fail(
      "Start with Debugger needs VS Code's built-in JavaScript debugger (js-debug), which this editor does not have or has disabled. Use Start Dev Server, or enable the JavaScript Debugger extension.",
    );
  }
  const before = new Set(vscode.window.terminals);
  const opened = new Promise<vscode.Terminal>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(fail(`The JavaScript Debug Terminal did not open within ${TERMINAL_OPEN_TIMEOUT_MS / 1000} s; see the log.`));
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
