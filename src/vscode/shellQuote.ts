/**
 * Quoting of a command and its arguments for the shell of an integrated terminal, used only when shell
 * integration is not available (then `sendText` types a command line). With shell integration,
 * `shellIntegration.executeCommand(executable, args)` quotes the arguments itself. No `vscode` import: pure.
 */

export type ShellKind = 'posix' | 'powershell' | 'cmd';

/** Characters that need no quoting in any of the three shells, except where `needsQuotes` says otherwise. */
const SAFE = /^[A-Za-z0-9_\/.,:=@+-]+$/;

/** Safe characters that still mean something to one shell in some positions. */
function needsQuotes(arg: string, kind: ShellKind, isCommand: boolean): boolean {
  if (arg === '' || !SAFE.test(arg)) return true;
  switch (kind) {
    case 'powershell':
      // `--` is PowerShell's end-of-parameters token: it is swallowed when `npm` resolves to the npm.ps1 shim, so
      // `npm run dev -- --port 3000` loses its `--` (npm/cli#4903; quoting it is the known fix). A leading `@` is
      // splatting and `,` builds an array.
      return arg === '--' || arg.startsWith('@') || arg.includes(',');
    case 'posix':
      // A command word with `=` is a variable assignment; zsh expands a word starting with `=` to a path.
      return arg.startsWith('=') || (isCommand && arg.includes('='));
    default:
      return false;
  }
}

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
  return quoteWord(arg, kind, false);
}

function quoteWord(arg: string, kind: ShellKind, isCommand: boolean): string {
  if (!needsQuotes(arg, kind, isCommand)) return arg;
  switch (kind) {
    case 'powershell':
      // PowerShell also ends a single-quoted string at the typographic quotes U+2018-U+201B.
      return `'${arg.replace(/['\u2018\u2019\u201A\u201B]/g, '$&$&')}'`;
    case 'cmd':
      // cmd.exe has no escape inside double quotes for %; doubling quotes is what its parser accepts.
      return `"${arg.replace(/"/g, '""')}"`;
    default:
      // Backslashes go outside the quotes too: fish (typed to as 'posix') reads `\\` and `\'` inside single quotes,
      // and `'\\'` between two quoted parts means one backslash to both fish and POSIX shells.
      return `'${arg.replace(/['\\]/g, (c) => (c === "'" ? `'\\''` : `'\\\\'`))}'`;
  }
}

/**
 * A whole command line: the executable and every argument quoted.
 *
 * @example
 * quoteCommandLine('npm', ['run', 'dev', '--', '--port', '3000'], 'posix'); // 'npm run dev -- --port 3000'
 */
export function quoteCommandLine(command: string, args: readonly string[], kind: ShellKind): string {
  const head = quoteWord(command, kind, true);
  // PowerShell treats a quoted first word as a string expression; `&` makes it a command.
  const prefix = kind === 'powershell' && head !== command ? '& ' : '';
  return [prefix + head, ...args.map((a) => quoteArg(a, kind))].join(' ');
}
