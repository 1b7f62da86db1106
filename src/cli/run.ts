/**
 * `dev-ports run [--project <dir>] [--port <p>] [--range <a>-<b>] -- <command> [args…]`: reserves the project's
 * port, runs the command with `PORT` (and the framework's port flag when the command is a known dev server),
 * passes SIGINT/SIGTERM/SIGHUP on, releases the port when the command ends, and exits with its code.
 * So `"dev": "dev-ports run -- vite"` in a package.json works in any terminal.
 */
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PortAllocator } from '../core/allocator';
import { DevPortsError, InvalidInputError } from '../core/errors';
import { Ledger } from '../core/ledger';
import { createMemoryStore } from '../core/memoryStore';
import { normalizeProjectId, portFlagsForArgv } from '../core/projects';
import type { Logger } from '../core/types';
import type { PortOs } from '../os/types';
import { readWorkspacePortRange } from '../core/workspaceSettings';
import { DEFAULT_RANGE, parsePort, parseRange, UsageError, type PortRangeArg } from './args';
import type { CliIo } from './commands';

export interface RunRequest {
  /** Project folder as given (default: the current folder). */
  project?: string;
  port?: number;
  range?: PortRangeArg;
  verbose: boolean;
  /** The command and its arguments, run without a shell. */
  argv: string[];
}

export const RUN_HELP = `Usage: dev-ports run [--project <dir>] [--port <p>] [--range <a>-<b>] -- <command> [args…]

Reserves a port for the project (default: the current folder; the same project gets the same port while it
holds a reservation), runs <command> with PORT set to it and, when <command> is a dev server that ignores PORT
(vite, astro, ng serve, webpack serve, react-router dev, …), the port flag it needs (vite: --port <p> --strictPort).
SIGINT, SIGTERM and SIGHUP are passed on to the command. When it ends, the port is released (a reservation made
before with "dev-ports reserve" is kept) and dev-ports exits with its exit code (128 + the signal's number when
a signal ended it). Started by Dev Ports itself (the VS Code extension or "dev-ports mcp" running a dev script
"dev-ports run -- vite"), it takes the port that host reserved and set in PORT, and leaves the reservation to
it. The command runs without a shell: write "sh -c '…'" for shell syntax. In a package.json:
  "dev": "dev-ports run -- vite"

  --project <dir>   the project folder (resolved against the current folder)
  --port <p>        the port wanted (exit 1 if it is in use or reserved by another project)
  --range <a>-<b>   ports to pick from (default: the workspace's devPorts.portRange in .vscode/settings.json, else 3000-3999)

Exit: the command's exit code; 1 no port could be reserved; 2 bad input; 127 the command was not found.`;

/**
 * Parses the arguments after `run`. Flags come before the command; `--` ends them (it may be left out when the
 * command does not start with a dash). Everything after is the command, untouched.
 *
 * @example
 * parseRunArgs(['--port', '4000', '--', 'vite', '--host']); // { port: 4000, argv: ['vite', '--host'], verbose: false }
 */
export function parseRunArgs(args: readonly string[]): RunRequest {
  const req: RunRequest = { verbose: false, argv: [] };
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      req.argv = args.slice(i + 1);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      req.argv = args.slice(i);
      break;
    }
    const eq = arg.indexOf('=');
    const name = (eq === -1 ? arg : arg.slice(0, eq)).replace(/^--?/, '');
    if (seen.has(name)) throw new UsageError(`The flag --${name} is given more than once.`);
    seen.add(name);
    if (name === 'verbose') {
      if (eq !== -1) throw new UsageError(`The flag --verbose takes no value, got ${JSON.stringify(arg.slice(eq + 1))}.`);
      req.verbose = true;
      continue;
    }
    if (name !== 'project' && name !== 'port' && name !== 'range') {
      throw new UsageError(`Unknown flag ${arg.split('=')[0]} for "dev-ports run" (see dev-ports run --help).`);
    }
    let value = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      value = args[i + 1];
      if (value === undefined || value === '--') throw new UsageError(`The flag --${name} needs a value (see dev-ports run --help).`);
      i++;
    }
    if (name === 'project') {
      if (value.trim() === '') throw new UsageError('The project must be a folder path, got an empty string.');
      req.project = value;
    } else if (name === 'port') req.port = parsePort(value, '--port');
    else req.range = parseRange(value);
  }
  if (req.argv.length === 0 || req.argv[0] === '') {
    throw new UsageError('"dev-ports run" needs a command after --, such as: dev-ports run -- vite (see dev-ports run --help).');
  }
  return req;
}

/**
 * The port flags for a command line given as an argument array. The one place `run` asks the frameworks table.
 *
 * @example
 * frameworkFlags(['vite'], 3000); // ['--port', '3000', '--strictPort']
 */
export function frameworkFlags(argv: readonly string[], port: number): string[] {
  return portFlagsForArgv(argv, port);
}

/**
 * Text from outside (a command line, a folder name) with its control characters escaped, for human output.
 *
 * @example
 * printable('web\x1b[2J'); // 'web\\x1b[2J'
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Exit status of a shell for a command ended by `signal`: 128 + its number. */
function signalExitCode(signal: NodeJS.Signals): number {
  const n = (require('os') as typeof import('os')).constants.signals[signal];
  return 128 + (typeof n === 'number' ? n : 1);
}

interface RunContext {
  io: CliIo;
  os: PortOs;
  logger: Logger;
  /** Signals of this process (tests of the command in-process pass their own emitter). */
  signals?: NodeJS.EventEmitter;
}

/**
 * Runs `dev-ports run`. Resolves to the exit code once the command ended and the port was released.
 *
 * @example
 * await runCommand(ctx, { argv: ['vite'], verbose: false }); // vite runs with PORT=3000 --port 3000 --strictPort; → its exit code
 */
export async function runCommand(ctx: RunContext, req: RunRequest): Promise<number> {
  const { io } = ctx;
  const projectId = normalizeProjectId(path.resolve(io.cwd, req.project ?? '.'));
  if (req.project !== undefined && !isDirectory(projectId)) {
    throw new InvalidInputError(`The project folder ${projectId} does not exist.`);
  }
  const range =
    req.range ?? readWorkspacePortRange(projectId, (problem) => ctx.logger.warn(`[settings] ${problem}`)) ?? { ...DEFAULT_RANGE };
  const ledger = new Ledger({ home: Ledger.defaultHome(io.env), logger: ctx.logger });
  const before = ledger.findByProject(projectId);
  const hostAlive = !!before?.owner && before.owner.pid !== process.pid && ctx.os.isProcessAlive(before.owner.pid);
  // Started by a Dev Ports host (the VS Code extension, `dev-ports mcp`) whose dev script is `dev-ports run -- …`:
  // the host reserved the port, set PORT to it and releases it; this run only adds the framework's flags.
  const hosted = hostAlive && io.env.PORT === String(before!.port) && (req.port === undefined || req.port === before!.port);
  if (hostAlive && !hosted) {
    const who = before!.owner!.kind === 'vscode' ? 'a VS Code window' : before!.owner!.kind === 'cli' ? 'another "dev-ports run"' : 'a script';
    throw new DevPortsError(
      `${projectId} already runs on port ${before!.port} from ${who} (PID ${before!.owner!.pid}); stop it there first, or run this one with --project for another folder.`,
      'PORT_RESERVED',
    );
  }
  // The reservation is this process's: if dev-ports is killed with SIGKILL, the entry is orphaned as soon as the
  // command is gone too, and the next sweep past the stale threshold takes it back.
  const allocator = new PortAllocator({
    store: createMemoryStore(),
    ledger,
    os: ctx.os,
    logger: ctx.logger,
    range: () => range,
    owner: { pid: process.pid, kind: 'cli' },
  });
  const port = hosted
    ? before!.port
    : (await allocator.allocate(projectId, req.port !== undefined ? { preferredPort: req.port, range } : { range })).port;
  // A plain `dev-ports reserve` made before (no owner, or a `cli` owner that has exited, and no dev server PID on
  // the entry) is the user's: it is used and kept. An entry an earlier `run` left (it records its command's PID) is not.
  const reservedBefore =
    before !== undefined &&
    before.port === port &&
    before.pid === undefined &&
    (before.owner === undefined || (before.owner.kind === 'cli' && !ctx.os.isProcessAlive(before.owner.pid)));
  const keepReservation = hosted || reservedBefore;
  const [command, ...args] = req.argv;
  const fullArgs = [...args, ...frameworkFlags(req.argv, port)];
  io.stderr.write(`dev-ports: ${printable(path.basename(projectId) || projectId)} → port ${port}: PORT=${port} ${printable([command, ...fullArgs].join(' '))}\n`);

  // On a terminal the command stays in our process group, so it keeps the terminal (keyboard shortcuts, prompts)
  // and gets Ctrl-C from the terminal itself. Without one (an agent, a task runner, CI) it gets its own group, so
  // a signal passed on reaches its whole tree (npm → sh → node), and leftovers can be stopped at the end.
  const ownGroup = process.platform !== 'win32' && !io.isTTY;
  let child: ChildProcess;
  try {
    // Loaded here, not at start: only `run` spawns (issue 10).
    child = (require('child_process') as typeof import('child_process')).spawn(command, fullArgs, {
      stdio: 'inherit',
      env: { ...io.env, PORT: String(port) },
      cwd: io.cwd,
      detached: ownGroup,
    });
  } catch (e) {
    if (!hosted) await release(allocator, projectId, keepReservation, ctx.logger);
    throw e;
  }

  // The ledger records the command as the reservation's dev server: while it lives, nobody takes the port over.
  if (child.pid !== undefined && !hosted) void allocator.setPid(projectId, child.pid).catch(() => undefined);
  const signals = ctx.signals ?? process;
  let received: NodeJS.Signals | undefined;
  const handlers = FORWARDED.map((signal) => {
    const handler = () => {
      received ??= signal;
      forward(child, signal, ownGroup);
    };
    signals.on(signal, handler);
    return () => signals.removeListener(signal, handler);
  });

  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  for (const off of handlers) off();
  // Whatever the command left behind in its own group (a server it forked and did not wait for) goes with it.
  if (ownGroup && child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // The group is gone already: the usual case.
    }
  }
  if (!hosted) await release(allocator, projectId, keepReservation, ctx.logger);

  if (outcome.error) {
    if (outcome.error.code === 'ENOENT') {
      io.stderr.write(`dev-ports: Cannot run ${printable(JSON.stringify(command))}: no such command (is it installed and on PATH?).\n`);
      return 127;
    }
    io.stderr.write(`dev-ports: Cannot run ${printable(JSON.stringify(command))}: ${printable(outcome.error.message)}.\n`);
    return 126;
  }
  if (outcome.signal) return signalExitCode(outcome.signal);
  if (outcome.code !== null) return outcome.code;
  return received ? signalExitCode(received) : 1;
}

function forward(child: ChildProcess, signal: NodeJS.Signals, ownGroup: boolean): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (ownGroup) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // It ended between the check and the signal.
  }
}

async function release(allocator: PortAllocator, projectId: string, keep: boolean, logger: Logger): Promise<void> {
  try {
    if (keep) await allocator.setPid(projectId, undefined);
    else await allocator.releasePortForProject(projectId);
  } catch (e) {
    logger.warn(`[run] Could not release the port of ${projectId}: ${(e as Error).message}`);
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
