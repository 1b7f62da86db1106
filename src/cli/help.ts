/**
 * Help texts of the `dev-ports` CLI, one per command, and the version read from package.json at build time
 * (esbuild inlines the JSON import, so the bundled CLI does not need package.json next to it).
 */
import { version } from '../../package.json';
import type { CommandName, ExtraCommandName } from './args';
import { MCP_HELP } from './mcp';
import { PORT_HELP } from './port';
import { RUN_HELP } from './run';

export const VERSION: string = version;

const COMMON = `  --json         print JSON instead of text
  --verbose      log what the core does on stderr
  -h, --help     show this help
  -v, --version  print the version`;

const PROJECT_NOTE = `<project> is a folder: it is resolved against the current directory to an absolute path, which is the
project id the VS Code extension uses too ("web" run from /home/me/shop means /home/me/shop/web).`;

const COMMAND_HELP: Record<CommandName, string> = {
  list: `Usage: dev-ports list [--json]

Shows every listening TCP port on this machine: address, PIDs, user, command line, working directory (JSON) and
the project that reserved the port, if any. Long commands are cut to the terminal width (never with --json).

JSON: [{ port, address, pids, processes: [{ pid, command, cwd? }], allocation? }]
Exit: 0.`,
  check: `Usage: dev-ports check <port> [--json]

Says whether <port> is free on every local address (0.0.0.0, ::, 127.0.0.1, ::1) and, if not, who holds it.
A port is decimal digits; leading zeros are ignored (0042000 is 42000), as in every command.

JSON: { port, free, pids }
Exit: 0 free, 1 in use.`,
  free: `Usage: dev-ports free <port> [--yes] [--timeout <ms>] [--json]

Stops every process listening on <port> with its whole process tree (SIGTERM, then SIGKILL after a grace
period) and waits until the port is free. Without --yes it asks first on a terminal, and refuses when there is
no terminal to ask on.

  -y, --yes         do not ask
  --timeout <ms>    how long the whole stop may take: SIGTERM, SIGKILL after half of it (3000 ms at most),
                    then the wait until the port is free (default: 3000 ms grace, then up to 5000 ms)

JSON: { port, killedPids, free }
Exit: 0 free, 1 not freed (or not confirmed).`,
  find: `Usage: dev-ports find [--range <a>-<b>] [--json]

Prints a port that is free on every local address and not reserved in the ledger (just the number).

  --range <a>-<b>   ports to search, both included (default: 3000-3999)

JSON: { port }
Exit: 0, 1 none free.`,
  reserve: `Usage: dev-ports reserve <project> [--port <p>] [--range <a>-<b>] [--json]

Reserves a port for <project> in the machine-wide ledger and prints just the port number:
  PORT=$(dev-ports reserve web) npm run dev
One project, one port, whoever asked first: when the ledger already holds a port for <project> (reserved by
this CLI, a VS Code window or a script), that port is printed and nothing changes; a different --port is then
refused until the project is released. Other projects (and the VS Code extension) never get the port. The
reservation outlives this command: end it with "dev-ports release <project>".

${PROJECT_NOTE}

  --port <p>        the port wanted (exit 1 if it is in use or reserved by another project)
  --range <a>-<b>   ports to pick from (default: devPorts.portRange.start/end of the nearest
                    .vscode/settings.json at or above <project>, else 3000-3999)

JSON: { projectId, port, allocatedAt, pid? }
Exit: 0, 1 none free.`,
  release: `Usage: dev-ports release <project> [--json]

Releases the reservation of <project>.

${PROJECT_NOTE}

JSON: { projectId, released }
Exit: 0.`,
  allocations: `Usage: dev-ports allocations [--json]

Shows the machine-wide ledger: every reserved port, its project, its age, the dev server's PID if known and who
made the reservation (cli, VS Code and its window's PID, library). Damaged ledger files are reported on stderr,
once each; the valid entries are still shown.

JSON: [{ projectId, port, allocatedAt, pid? }]
Exit: 0.`,
  cleanup: `Usage: dev-ports cleanup [--older-than <minutes>] [--json]

Releases stale reservations: older than <minutes>, with their port free on every local address and their dev
server (if one was recorded) no longer running. Reservations whose port is in use are kept, and so are entries
written by a newer Dev Ports. Ledger files that are not entries (corrupt, truncated, symbolic links) are removed
first and reported on stderr.

  --older-than <minutes>   minimum age of a stale reservation (default: 5)

JSON: { released: [{ projectId, port, allocatedAt, pid? }] }
Exit: 0.`,
};

/**
 * Help for one command, or the overview when `command` is undefined.
 *
 * @example
 * helpText('check').startsWith('Usage: dev-ports check <port>'); // true
 */
export function helpText(command?: CommandName | ExtraCommandName): string {
  if (command === 'port' || command === 'run' || command === 'mcp') {
    return `${{ port: PORT_HELP, run: RUN_HELP, mcp: MCP_HELP }[command]}\n\nOptions:\n${COMMON}\n`;
  }
  if (command) return `${COMMAND_HELP[command]}\n\nOptions:\n${COMMON}\n`;
  return `dev-ports ${VERSION}: ends "port already in use" for dev servers.

Usage: dev-ports <command> [options]

Commands:
  list                          every listening TCP port with its processes and project
  check <port>                  is the port free? (exit 0 free, 1 in use)
  free <port> [--yes]           stop what listens on the port, with its process tree
  find [--range a-b]            print a free port
  reserve <project> [--port p]  reserve a port for a project folder and print it
  release <project>             release a project's reservation
  allocations                   the machine-wide ledger of reservations
  cleanup [--older-than min]    release stale reservations
  port [<project>]              print the port a project is reserved for
  run [--port p] -- <command>   run a dev server on its project's port (PORT and the framework's flag)
  mcp                           a Model Context Protocol server on stdio (tools for coding agents)

Options:
${COMMON}

"dev-ports <command> --help" explains each command. Exit codes: 0 success, 1 as each command says, 2 bad input.
DEV_PORTS_HOME sets the folder of the machine-wide ledger (default: the per-user state folder, shared with the
VS Code extension).
`;
}
