/**
 * Quoting of a command and its arguments for the shell of an integrated terminal, used only when shell
 * integration is not available (then `sendText` types a command line). With shell integration,
 * `shellIntegration.executeCommand(executable, args)` quotes the arguments itself. No `vscode` import: pure.
 */

export type ShellKind = 'posix' | 'powershell' | 'cmd';

/** Characters that need no quoting in any of the three shells. */
const SAFE = /^[A-Za-z0-9_\/.,:=@+-]+$/;

/**
 * The kind of shell from its executable path (`vscode.env.shell`).
 *
 * @example
 * shellKindOf('/bin/bash'); // 'posix'
 * shellKindOf('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe'); // 'powershell'
 */
export function shellKindOf(shellPath: string | undefined): ShellKind {
  const name = (shellPath ?? '').split(/[\\/]/).pop()?.toLowerCase() ?? '';
  if (name.startsWith('pwsh') || name.startsWith('powershell')) return 'powershell';
  if (name === 'cmd.exe' || name === 'cmd') return 'cmd';
  return 'posix';
}

/**
 * One argument quoted so the shell passes it through unchanged (no expansion of `$`, backticks, globs, `;`).
 *
 * @example
 * quoteArg("it's; rm -rf ~", 'posix'); // "'it'\\''s; rm -rf ~'"
 */
export function quoteArg(arg: string, kind: ShellKind): string {
  if (arg !== '' && SAFE.test(arg)) return arg;
  switch (kind) {
    case 'powershell':
      return `'${arg.replace(/'/g, "''")}'`;
    case 'cmd':
      // cmd.exe has no escape inside double quotes for %; doubling quotes is what its parser accepts.
      return `"${arg.replace(/"/g, '""')}"`;
    default:
      return `'${arg.replace(/'/g, `'\\''`)}'`;
  }
}

/**
 * A whole command line: the executable and every argument quoted.
 *
 * @example
 * quoteCommandLine('npm', ['run', 'dev', '--', '--port', '3000'], 'posix'); // 'npm run dev -- --port 3000'
 */
export function quoteCommandLine(command: string, args: readonly string[], kind: ShellKind): string {
  const head = quoteArg(command, kind);
  // PowerShell treats a quoted first word as a string expression; `&` makes it a command.
  const prefix = kind === 'powershell' && head !== command ? '& ' : '';
  return [prefix + head, ...args.map((a) => quoteArg(a, kind))].join(' ');
}
