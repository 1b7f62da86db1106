/**
 * The `dev-ports` commands over the core, one function each, writing to an injected io object so tests can run
 * them in-process as well as through the bundled CLI. `runCli` parses, dispatches and maps errors to exit codes:
 * 0 success, 1 what each command documents (port in use, none free, not freed, a core error), 2 bad input.
 */
import * as path from 'path';
import type { KillOutcome } from '../os/killer';
import { onToolNotice } from '../os/tools';
import type { Listener, PortOs } from '../os/types';
import type { Allocation, Logger } from '../core/types';
import {
  DevPortsError,
  InvalidInputError,
  NoFreePortError,
  PermissionDeniedError,
  PortInUseError,
  PortReservedError,
  describeHolders,
  holdersOf,
  isOutOfSight,
  OUT_OF_SIGHT,
} from '../core/errors';
import { Ledger, type LedgerEntry } from '../core/ledger';
import { PortAllocator, cleanupStaleLedgerEntries } from '../core/allocator';
import { createMemoryStore } from '../core/memoryStore';
import { normalizeProjectId } from '../core/projects';
import { readWorkspacePortRange } from '../core/workspaceSettings';
import { DEFAULT_RANGE, parseArgs, UsageError, type CommandRequest, type ExtraCommandName } from './args';
import { escapeControl, formatAge, formatAllocationsTable, formatJson, formatListTable, madeBy, toAllocation, toListEntries } from './format';
import { helpText, VERSION } from './help';
import { mcpCommand, parseMcpArgs } from './mcp';
import { parsePortArgs, portCommand } from './port';
import { parseRunArgs, runCommand } from './run';

/** Everything a command touches outside the core; `main.ts` wires the real process, tests pass strings and streams. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Read only by `free` when it asks for confirmation. */
  stdin: NodeJS.ReadableStream;
  /** True when stdin is a terminal, so `free` may ask instead of refusing. */
  isTTY: boolean;
  /** Width of stdout when it is a terminal; human tables are cut to it. Undefined: never cut. */
  columns?: number;
  env: NodeJS.ProcessEnv;
  /** Folder that relative project paths are resolved against. */
  cwd: string;
  now?: () => number;
}

type Request<C extends CommandRequest['command']> = Extract<CommandRequest, { command: C }>;

interface Context {
  io: CliIo;
  os: PortOs;
  logger: Logger;
}

/**
 * The CLI's logger: warnings and errors always go to stderr (a corrupted ledger entry is said once per run, the
 * ledger reports each file once), info and debug lines only with --verbose. Text from outside is escaped.
 */
function stderrLogger(io: CliIo, verbose: boolean): Logger {
  const line = (level: string) => (message: string) => void io.stderr.write(`dev-ports ${level}: ${escapeControl(message)}\n`);
  const quiet = () => undefined;
  return { info: verbose ? line('info') : quiet, warn: line('warn'), error: line('error'), debug: verbose ? line('debug') : quiet };
}

function openLedger(ctx: Context): Ledger {
  return new Ledger({ home: Ledger.defaultHome(ctx.io.env), logger: ctx.logger });
}

/**
 * The ledger's entries for display next to OS facts (`list`, `check`): a ledger that cannot be read is reported
 * in one line and treated as empty, because listing ports must keep working without it.
 */
function readAllocationsForDisplay(ctx: Context): Allocation[] {
  try {
    return openLedger(ctx).entries().filter(readable).map(toAllocation);
  } catch (e) {
    ctx.io.stderr.write(`dev-ports: could not read the port ledger (${escapeControl((e as Error).message)}); reservations are not shown.\n`);
    return [];
  }
}

/** Entries whose project is known (an unreadable entry holds its port but names no project). */
function readable(entry: LedgerEntry): boolean {
  return entry.foreign !== 'unreadable';
}

function resolveProject(ctx: Context, project: string): string {
  // CONTRACT: a project id is the absolute, normalised path of the project folder, without trailing separator;
  // normalizeProjectId is what the extension uses, so `reserve .` in a project folder matches its tree item.
  return normalizeProjectId(path.resolve(ctx.io.cwd, project));
}

function uniquePids(listeners: readonly Listener[]): number[] {
  return [...new Set(listeners.flatMap((l) => l.pids))].sort((a, b) => a - b);
}

function addresses(listeners: readonly Listener[]): string {
  return [...new Set(listeners.map((l) => l.address))].join(', ');
}

/** Reads one line from `stdin`; resolves to '' when it ends first. */
function readLine(stdin: NodeJS.ReadableStream): Promise<string> {
  // Loaded here, not at start: only `free` on a terminal reads a line, and every command pays for what main loads.
  const readline = require('readline') as typeof import('readline');
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: stdin, terminal: false });
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!answered) resolve('');
    });
  });
}

/**
 * `dev-ports list`: every listening TCP port with its processes and the project that reserved it.
 *
 * @example
 * await listCommand(ctx, { command: 'list', json: true, verbose: false }); // prints [{ port, address, pids, processes, allocation? }]
 */
export async function listCommand(ctx: Context, req: Request<'list'>): Promise<number> {
  const listeners = await ctx.os.listListeners();
  const allocations = readAllocationsForDisplay(ctx);
  if (req.json) ctx.io.stdout.write(formatJson(toListEntries(listeners, allocations)));
  else ctx.io.stdout.write(formatListTable(listeners, allocations, ctx.io.columns, process.getuid?.()));
  return 0;
}

/**
 * `dev-ports check <port>`: 0 when the port is free on every local address, 1 when something holds it.
 *
 * @example
 * await checkCommand(ctx, { command: 'check', port: 3000, json: true, verbose: false }); // { port: 3000, free: false, pids: [1234] } → 1
 */
export async function checkCommand(ctx: Context, req: Request<'check'>): Promise<number> {
  const free = await ctx.os.isPortAvailable(req.port);
  const listeners = await ctx.os.listListeners(req.port);
  const pids = uniquePids(listeners);
  if (req.json) {
    ctx.io.stdout.write(formatJson({ port: req.port, free, pids }));
  } else if (free) {
    const reservation = readAllocationsForDisplay(ctx).find((a) => a.port === req.port);
    const note = reservation ? ` It is reserved for ${reservation.projectId} in the Dev Ports ledger.` : '';
    ctx.io.stdout.write(`${escapeControl(`Port ${req.port} is free.${note}`)}\n`);
  } else {
    const on = listeners.length > 0 ? ` on ${addresses(listeners)}` : '';
    ctx.io.stdout.write(`${escapeControl(`Port ${req.port} is in use${on} by ${describeHolders(listeners)}.`)}\n`);
  }
  return free ? 0 : 1;
}

/**
 * ` (processes of user alice)` when some holder runs as another user (as root, `free` can stop them): who pays
 * for the stop is said before and after it. Empty when every holder is ours.
 */
function ofOtherUsers(listeners: readonly Listener[]): string {
  const own = process.getuid?.();
  if (own === undefined) return '';
  const users = new Set<string>();
  for (const p of holdersOf(listeners)) {
    if (p.uid !== undefined && p.uid !== own) users.add(p.user ?? `uid ${p.uid}`);
  }
  if (users.size === 0) return '';
  const names = [...users].map((u) => escapeControl(u));
  return ` (${names.length === 1 ? 'a process' : 'processes'} of user ${names.join(', ')})`;
}

/**
 * `dev-ports free <port>`: stops every process tree listening on the port and waits until it is free. Without
 * `--yes` it asks on a terminal and refuses without one.
 *
 * @example
 * await freeCommand(ctx, { command: 'free', port: 3000, yes: true, json: true, verbose: false }); // { port: 3000, killedPids: [1233, 1234], free: true } → 0
 */
export async function freeCommand(ctx: Context, req: Request<'free'>): Promise<number> {
  const { io, os } = ctx;
  const listeners = await os.listListeners(req.port);
  const notFreed = { port: req.port, killedPids: [] as number[], free: false };
  if (listeners.length === 0) {
    if (await os.isPortAvailable(req.port)) {
      if (req.json) io.stdout.write(formatJson({ port: req.port, killedPids: [], free: true }));
      else io.stdout.write(`Port ${req.port} is already free.\n`);
      return 0;
    }
    // Taken but not listening: a socket bound without listen(), or one in another network namespace.
    if (req.json) io.stdout.write(formatJson(notFreed));
    io.stderr.write(
      `Port ${req.port} cannot be bound, yet no process listens on it (a socket bound without listening, or a port in TIME_WAIT); try again in a minute or pick another port.\n`,
    );
    return 1;
  }
  if (uniquePids(listeners).length === 0) {
    // Bound but invisible: another user's socket (ownerUid says whose) or one this platform cannot attribute.
    const uid = listeners.find((l) => l.ownerUid !== undefined)?.ownerUid;
    if (req.json) io.stdout.write(formatJson(notFreed));
    if (uid === undefined || isOutOfSight(uid, process.getuid?.())) {
      io.stderr.write(`Port ${req.port} is held by ${OUT_OF_SIGHT}; stop it where it runs.\n`);
      return 1;
    }
    throw new PermissionDeniedError(req.port, { uid });
  }
  const holders = escapeControl(describeHolders(listeners)) + ofOtherUsers(listeners);
  if (!req.yes) {
    if (!io.isTTY) {
      if (req.json) io.stdout.write(formatJson(notFreed));
      io.stderr.write(`Port ${req.port} is in use by ${holders}; pass --yes to stop it without asking (there is no terminal to ask on).\n`);
      return 1;
    }
    io.stderr.write(`Stop ${holders}? [y/N] `);
    const answer = (await readLine(io.stdin)).trim();
    if (!/^y(es)?$/i.test(answer)) {
      if (req.json) io.stdout.write(formatJson(notFreed));
      io.stderr.write(`Left port ${req.port} alone.\n`);
      return 1;
    }
  }
  let result;
  try {
    // --timeout bounds the whole stop: SIGKILL comes after half of it (at most the usual 3 s grace), and the rest
    // is the wait for the port.
    const options =
      req.timeoutMs !== undefined
        ? { gracePeriodMs: Math.min(3000, Math.floor(req.timeoutMs / 2)), timeoutMs: req.timeoutMs - Math.min(3000, Math.floor(req.timeoutMs / 2)) }
        : {};
    result = await os.killProcessesOnPort(req.port, options);
  } catch (e) {
    // A protected or another user's process: scripts reading --json still get the shape, runCli prints why.
    if (req.json) io.stdout.write(formatJson(notFreed));
    throw e;
  }
  const killedPids = [...result.killedPids].sort((a, b) => a - b);
  if (req.json) io.stdout.write(formatJson({ port: req.port, killedPids, free: result.free }));
  const stopped = killedPids.length > 0 ? `Stopped PID ${killedPids.join(', ')}${ofOtherUsers(listeners)}` : 'Stopped nothing';
  if (result.free) {
    if (!req.json) io.stdout.write(`${stopped}; port ${req.port} is free.\n`);
    // The answer is out as soon as the port is free; the rest of the tree's exit is confirmed in the background
    // (the process stays until that is done anyway), and what it could not stop is said on stderr.
    const settled = await (result as Partial<KillOutcome>).settled;
    for (const e of settled?.errors ?? []) io.stderr.write(`dev-ports warn: port ${req.port} is free, but stopping the rest of its process tree failed: ${escapeControl(e.message)}\n`);
    return 0;
  }
  const now = await os.listListeners(req.port);
  const holder = now.length > 0 ? ` by ${escapeControl(describeHolders(now))}` : '';
  const waited = req.timeoutMs !== undefined ? ` within ${req.timeoutMs} ms` : '';
  io.stderr.write(
    `${stopped}, but port ${req.port} is still in use${holder}${waited}; run "dev-ports check ${req.port}" to see who holds it.\n`,
  );
  return 1;
}

/**
 * `dev-ports find [--range a-b]`: a port free on every local address and not reserved in the ledger.
 *
 * @example
 * await findCommand(ctx, { command: 'find', range: { start: 3000, end: 3999 }, json: false, verbose: false }); // prints 3000
 */
export async function findCommand(ctx: Context, req: Request<'find'>): Promise<number> {
  let reserved: number[] = [];
  try {
    reserved = [...openLedger(ctx).heldPorts()];
  } catch (e) {
    ctx.io.stderr.write(`dev-ports: could not read the port ledger (${(e as Error).message}); reserved ports are not skipped.\n`);
  }
  const port = await ctx.os.findAvailablePort(req.range.start, req.range.end, { exclude: reserved });
  if (port === undefined) throw new NoFreePortError(req.range);
  ctx.io.stdout.write(req.json ? formatJson({ port }) : `${port}\n`);
  return 0;
}

/**
 * `dev-ports reserve <project>`: the project's port in the machine-wide ledger. One project, one port, whoever
 * asked first: when the ledger already has a reservation for the project (made by this CLI, a VS Code window or
 * a script), that port is printed and nothing is written. Otherwise a port of `--range`, else of the range in the
 * nearest `.vscode/settings.json` (devPorts.portRange), else 3000-3999. The reservation is marked as the CLI's
 * and outlives this process until `release` or `cleanup`.
 *
 * @example
 * await reserveCommand(ctx, { command: 'reserve', project: 'web', json: false, verbose: false }); // prints 3000
 */
export async function reserveCommand(ctx: Context, req: Request<'reserve'>): Promise<number> {
  const projectId = resolveProject(ctx, req.project);
  const ledger = openLedger(ctx);
  const existing = ledger.findByProject(projectId);
  if (existing) {
    if (req.port !== undefined && req.port !== existing.port) {
      throw new DevPortsError(
        `${projectId} already holds port ${existing.port} (reserved by ${madeBy(existing)} ${formatAge((ctx.io.now ?? Date.now)() - existing.allocatedAt)} ago): one project gets one port, so release it first with "dev-ports release ${req.project}".`,
        'PORT_RESERVED',
      );
    }
    ctx.io.stdout.write(req.json ? formatJson(toAllocation(existing)) : `${existing.port}\n`);
    return 0;
  }
  const range =
    req.range ?? readWorkspacePortRange(projectId, (problem) => ctx.logger.warn(`[settings] ${problem}`)) ?? { ...DEFAULT_RANGE };
  const allocator = new PortAllocator({
    store: createMemoryStore(),
    ledger,
    os: ctx.os,
    logger: ctx.logger,
    range: () => range,
    owner: { pid: process.pid, kind: 'cli' },
  });
  const allocation = await allocateRacing(ctx, allocator, ledger, projectId, req.port, range);
  ctx.io.stdout.write(req.json ? formatJson(toAllocation(allocation)) : `${allocation.port}\n`);
  return 0;
}

/**
 * `allocate`, telling apart a real holder of `--port` from another reserver's bind check: while one reserver
 * checks that a port is free it binds it for a moment, and a second reserver then sees "in use" by a socket
 * without a visible process. Such a loser looks at the ledger again: it names the project that won the race, or
 * tries once more when the port is free again.
 */
async function allocateRacing(
  ctx: Context,
  allocator: PortAllocator,
  ledger: Ledger,
  projectId: string,
  port: number | undefined,
  range: { start: number; end: number },
): Promise<Allocation> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await allocator.allocate(projectId, port !== undefined ? { preferredPort: port, range } : { range });
    } catch (e) {
      if (port === undefined || !(e instanceof PortInUseError) || e.holders.length > 0 || attempt >= 5) throw e;
      // Give the winner time to write its claim, then say what really happened.
      await new Promise((resolve) => setTimeout(resolve, 20 + 20 * attempt));
      const winner = ledger.get(port);
      if (winner && winner.projectId === projectId) return toAllocation(winner);
      if (winner) {
        const error = new PortReservedError(port, winner.projectId, winner.allocatedAt, e.suggestedPort);
        error.message = `Another reserver took port ${port} a moment before this one: ${error.message}`;
        throw error;
      }
      if (!(await ctx.os.isPortAvailable(port))) throw e;
    }
  }
}

/**
 * `dev-ports release <project>`: drops the project's reservation. Exit 0 whether or not it had one.
 *
 * @example
 * await releaseCommand(ctx, { command: 'release', project: 'web', json: true, verbose: false }); // { projectId: '/home/me/web', released: true }
 */
export async function releaseCommand(ctx: Context, req: Request<'release'>): Promise<number> {
  const projectId = resolveProject(ctx, req.project);
  const ledger = openLedger(ctx);
  const held = ledger.entries().filter((e) => e.projectId === projectId).map((e) => e.port);
  const allocator = new PortAllocator({ store: createMemoryStore(), ledger, os: ctx.os, logger: ctx.logger });
  const released = await allocator.releasePortForProject(projectId);
  if (req.json) ctx.io.stdout.write(formatJson({ projectId, released }));
  else if (released) ctx.io.stdout.write(`${escapeControl(`Released port ${held.join(', ')} of ${projectId}.`)}\n`);
  else ctx.io.stdout.write(`${escapeControl(`${projectId} had no reservation.`)}\n`);
  return 0;
}

/**
 * `dev-ports allocations`: the machine-wide ledger.
 *
 * @example
 * await allocationsCommand(ctx, { command: 'allocations', json: true, verbose: false }); // [{ projectId, port, allocatedAt }]
 */
export async function allocationsCommand(ctx: Context, req: Request<'allocations'>): Promise<number> {
  const entries = openLedger(ctx).entries();
  if (req.json) ctx.io.stdout.write(formatJson(entries.filter(readable).map(toAllocation)));
  else ctx.io.stdout.write(formatAllocationsTable(entries, (ctx.io.now ?? Date.now)(), ctx.io.columns));
  return 0;
}

/**
 * `dev-ports cleanup [--older-than <minutes>]`: releases reservations older than that whose port is free and
 * whose recorded dev server is gone.
 *
 * @example
 * await cleanupCommand(ctx, { command: 'cleanup', olderThanMinutes: 0, json: true, verbose: false }); // { released: [...] }
 */
export async function cleanupCommand(ctx: Context, req: Request<'cleanup'>): Promise<number> {
  const ledger = openLedger(ctx);
  // Files that are not entries (corrupt, truncated, symbolic links) go first: they hold no one's reservation.
  const junk = await ledger.withLockAsync(() => ledger.removeJunk());
  for (const line of junk) ctx.io.stderr.write(`dev-ports: removed the ledger file of port ${escapeControl(line)}.\n`);
  const released = await cleanupStaleLedgerEntries(ledger, ctx.os, {
    olderThanMs: req.olderThanMinutes * 60_000,
    now: (ctx.io.now ?? Date.now)(),
    logger: ctx.logger,
  });
  if (req.json) {
    ctx.io.stdout.write(formatJson({ released }));
  } else if (released.length === 0) {
    ctx.io.stdout.write(`No stale reservation: none is older than ${req.olderThanMinutes} min with its port free.\n`);
  } else {
    const list = released.map((a) => `${a.port} (${a.projectId})`).join(', ');
    ctx.io.stdout.write(`${escapeControl(`Released ${released.length} stale reservation${released.length === 1 ? '' : 's'}: ${list}.`)}\n`);
  }
  return 0;
}

function run(ctx: Context, req: CommandRequest): Promise<number> {
  switch (req.command) {
    case 'list':
      return listCommand(ctx, req);
    case 'check':
      return checkCommand(ctx, req);
    case 'free':
      return freeCommand(ctx, req);
    case 'find':
      return findCommand(ctx, req);
    case 'reserve':
      return reserveCommand(ctx, req);
    case 'release':
      return releaseCommand(ctx, req);
    case 'allocations':
      return allocationsCommand(ctx, req);
    case 'cleanup':
      return cleanupCommand(ctx, req);
  }
}

/** `port`, `run` and `mcp`, which parse their own arguments. */
function runExtra(io: CliIo, os: PortOs, command: ExtraCommandName, args: string[]): Promise<number> {
  const logger = (verbose: boolean) => stderrLogger(io, verbose);
  switch (command) {
    case 'port': {
      const req = parsePortArgs(args);
      return portCommand({ io, logger: logger(req.verbose) }, req);
    }
    case 'run': {
      const req = parseRunArgs(args);
      return runCommand({ io, os, logger: logger(req.verbose) }, req);
    }
    case 'mcp': {
      const req = parseMcpArgs(args);
      return mcpCommand({ io, os, logger: logger(req.verbose) }, req);
    }
  }
}

/** One line for stderr: the core's message already ends with its remedy; add the remedy only when it does not. */
function describeError(e: DevPortsError): string {
  const message = e.message.trim();
  if (!e.remedy || message.includes(e.remedy)) return message;
  return `${message} ${e.remedy}`;
}

/**
 * Runs the CLI with `argv` (the arguments after the script) and resolves to the exit code. Never throws.
 *
 * @example
 * const code = await runCli(['check', '3000', '--json'], { stdout: process.stdout, stderr: process.stderr,
 *   stdin: process.stdin, isTTY: false, env: process.env, cwd: process.cwd() }, nodeOs);
 */
export async function runCli(argv: readonly string[], io: CliIo, os: PortOs): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`dev-ports: ${escapeControl(e.message)}\n`);
      return 2;
    }
    throw e;
  }
  if (parsed.kind === 'help') {
    io.stdout.write(helpText(parsed.command));
    return 0;
  }
  if (parsed.kind === 'version') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  try {
    if (parsed.kind === 'extra') return await runExtra(io, os, parsed.command, parsed.args);
    const ctx: Context = { io, os, logger: stderrLogger(io, parsed.verbose) };
    // Which fallback answered (a missing ss, a /proc that cannot be read), said with --verbose.
    const stopNotices = onToolNotice((line) => ctx.logger.info(line));
    try {
      return await run(ctx, parsed);
    } finally {
      stopNotices();
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`dev-ports: ${e.message}\n`);
      return 2;
    }
    if (e instanceof DevPortsError) {
      io.stderr.write(`dev-ports: ${escapeControl(describeError(e))}\n`);
      return e instanceof InvalidInputError ? 2 : 1;
    }
    const error = e instanceof Error ? e : new Error(String(e));
    io.stderr.write(`dev-ports: ${escapeControl(error.message)}\n`);
    if (io.env.DEV_PORTS_DEBUG === '1' && error.stack) io.stderr.write(`${error.stack}\n`);
    return 1;
  }
}
