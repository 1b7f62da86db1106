/**
 * The machine-wide ledger: which project holds which port, shared by every VS Code window, the CLI and library
 * users of this user account. One JSON file per reserved port, `<home>/ports/<port>.json`, so a claim is one
 * atomic `link()` and no process ever rewrites a file another process is claiming.
 *
 * Nothing here imports `vscode` or talks to sockets; whether a port is free at the OS level is the allocator's
 * business.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LedgerError } from './errors';
import { silentLogger, systemClock, type Allocation, type Clock, type Logger } from './types';
import { assertProjectId, assertValidPort, isValidPort } from './validate';

/** Who made a reservation; absent for CLI reservations, which must outlive the CLI process. */
export interface LedgerOwner {
  pid: number;
  kind: 'vscode' | 'cli' | 'library';
  /** Epoch ms when the owner process started, when known (helps tell a reused PID apart). */
  startTime?: number;
}

export interface LedgerEntry extends Allocation {
  owner?: LedgerOwner;
}

export interface LedgerOptions {
  /** Folder of the ledger; default `Ledger.defaultHome()`. */
  home?: string;
  logger?: Logger;
  clock?: Clock;
  /** Injected so tests and the OS layer decide; default: signal 0, EPERM counts as alive. */
  isProcessAlive?: (pid: number) => boolean;
}

const FILE_VERSION = 1;
/** Holders keep the lock for well under a millisecond: a lock this old is stuck (its holder hung, or its PID was
 * reused by another process), and waiting longer would freeze the extension host, whose lock wait is synchronous. */
const LOCK_STALE_MS = 2_000;
/** A lock file without a readable holder was left by a crash between its creation and its write. */
const LOCK_UNREADABLE_STALE_MS = 500;
/** Nobody holds the lock longer than a few ms; past this a stuck lock is broken even if its holder lives. */
const LOCK_GIVE_UP_MS = 15_000;
const ENTRY_NAME = /^(\d{1,5})\.json$/;
const OWNER_KINDS = new Set(['vscode', 'cli', 'library']);

/** Re-entrancy per ledger folder: withLock inside withLock (same process, same home) must not wait for itself. */
const heldLocks = new Map<string, number>();

function defaultIsProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Synchronous sleep: withLock is synchronous so a claim cannot interleave with other async work in this process. */
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function uniqueSuffix(): string {
  return `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Parses a ledger file's text: the entry, or the reason it is not a valid entry for `port`.
 *
 * @example
 * parseLedgerEntry(fs.readFileSync('3000.json', 'utf8'), 3000).entry?.projectId;
 */
export function parseLedgerEntry(text: string, port: number): { entry?: LedgerEntry; problem?: string } {
  if (text.trim() === '') return { problem: 'empty' };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { problem: 'not valid JSON (truncated or corrupted)' };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { problem: 'not a JSON object' };
  const d = data as Record<string, unknown>;
  if (d.version !== FILE_VERSION) return { problem: `unknown version ${JSON.stringify(d.version)}` };
  if (typeof d.projectId !== 'string' || d.projectId === '') return { problem: 'projectId is not a non-empty string' };
  if (!isValidPort(d.port)) return { problem: 'port is not a valid port' };
  if (d.port !== port) return { problem: `port ${d.port} does not match the file name` };
  if (typeof d.allocatedAt !== 'number' || !Number.isFinite(d.allocatedAt)) return { problem: 'allocatedAt is not a number' };
  if (d.pid !== undefined && !(Number.isInteger(d.pid) && (d.pid as number) > 0)) return { problem: 'pid is not a PID' };
  let owner: LedgerOwner | undefined;
  if (d.owner !== undefined) {
    const o = d.owner as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null) return { problem: 'owner is not an object' };
    if (!(Number.isInteger(o.pid) && (o.pid as number) > 0)) return { problem: 'owner.pid is not a PID' };
    if (typeof o.kind !== 'string' || !OWNER_KINDS.has(o.kind)) return { problem: 'owner.kind is unknown' };
    if (o.startTime !== undefined && (typeof o.startTime !== 'number' || !Number.isFinite(o.startTime))) {
      return { problem: 'owner.startTime is not a number' };
    }
    owner = { pid: o.pid as number, kind: o.kind as LedgerOwner['kind'] };
    if (o.startTime !== undefined) owner.startTime = o.startTime as number;
  }
  const entry: LedgerEntry = { projectId: d.projectId, port: d.port, allocatedAt: d.allocatedAt };
  if (d.pid !== undefined) entry.pid = d.pid as number;
  if (owner) entry.owner = owner;
  return { entry };
}

function serialize(entry: LedgerEntry): string {
  const file: Record<string, unknown> = {
    version: FILE_VERSION,
    projectId: entry.projectId,
    port: entry.port,
    allocatedAt: entry.allocatedAt,
  };
  if (entry.pid !== undefined) file.pid = entry.pid;
  if (entry.owner) file.owner = { ...entry.owner };
  return `${JSON.stringify(file, null, 2)}\n`;
}

function sameEntry(a: LedgerEntry, b: LedgerEntry): boolean {
  return serialize(a) === serialize(b);
}

/**
 * The machine-wide port ledger.
 *
 * @example
 * const ledger = new Ledger({ home: '/tmp/dev-ports' });
 * if (ledger.withLock(() => ledger.tryClaim({ projectId: '/src/web', port: 3000, allocatedAt: Date.now() }))) {
 *   // port 3000 is ours until released
 * }
 */
export class Ledger {
  readonly home: string;
  readonly portsDir: string;
  readonly lockFile: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly alive: (pid: number) => boolean;
  /** Files already reported as unreadable, so a sweep every few minutes does not repeat the same warning. */
  private readonly reported = new Set<string>();

  constructor(options: LedgerOptions = {}) {
    this.home = path.resolve(options.home ?? Ledger.defaultHome());
    this.portsDir = path.join(this.home, 'ports');
    this.lockFile = path.join(this.home, 'ledger.lock');
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.alive = options.isProcessAlive ?? defaultIsProcessAlive;
    try {
      // The ledger says which projects exist and runs nothing, but other users have no business rewriting it.
      fs.mkdirSync(this.portsDir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new LedgerError(`Cannot create the port ledger folder ${this.portsDir}: ${(e as Error).message}`, {
        cause: e,
        remedy: 'Set DEV_PORTS_HOME to a folder you can write to.',
      });
    }
  }

  /**
   * Where the ledger lives when no home is given: `DEV_PORTS_HOME`, else the platform's per-user state folder.
   *
   * @example
   * Ledger.defaultHome(); // '/home/me/.local/state/dev-ports' on Linux
   */
  static defaultHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
    if (env.DEV_PORTS_HOME) return path.resolve(env.DEV_PORTS_HOME);
    const home = os.homedir();
    if (platform === 'win32') {
      return path.win32.join(env.LOCALAPPDATA || path.win32.join(home, 'AppData', 'Local'), 'dev-ports');
    }
    if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'dev-ports');
    if (env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)) return path.join(env.XDG_STATE_HOME, 'dev-ports');
    return path.join(home, '.local', 'state', 'dev-ports');
  }

  private fileOf(port: number): string {
    return path.join(this.portsDir, `${port}.json`);
  }

  private report(key: string, message: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.logger.warn(`[ledger] ${message}`);
  }

  /** Reads one port's file: the entry, 'missing', or 'corrupt' (logged). */
  private read(port: number): LedgerEntry | 'missing' | 'corrupt' {
    const file = this.fileOf(port);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return 'missing';
      if (errnoCode(e) === 'EISDIR') {
        this.report(`${file}:dir`, `Skipping ${file}: it is a folder, not a ledger entry.`);
        return 'corrupt';
      }
      throw new LedgerError(`Cannot read the ledger entry ${file}: ${(e as Error).message}`, { cause: e });
    }
    const { entry, problem } = parseLedgerEntry(text, port);
    if (entry) return entry;
    this.report(`${file}:${text.length}:${problem}`, `Skipping ${file}: ${problem}.`);
    return 'corrupt';
  }

  /**
   * Every valid entry, ordered by port. Corrupted, truncated, empty and foreign files are logged once and skipped.
   *
   * @example
   * for (const e of ledger.entries()) console.log(e.port, e.projectId);
   */
  entries(): LedgerEntry[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.portsDir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw new LedgerError(`Cannot read the port ledger ${this.portsDir}: ${(e as Error).message}`, { cause: e });
    }
    const result: LedgerEntry[] = [];
    for (const name of names) {
      // Our own temp files and set-aside corrupt files are expected here; they are not entries.
      if (name.startsWith('.') || name.includes('.corrupt-')) continue;
      const match = ENTRY_NAME.exec(name);
      const port = match ? Number(match[1]) : NaN;
      if (!match || !isValidPort(port) || `${port}.json` !== name) {
        this.report(`foreign:${name}`, `Skipping ${path.join(this.portsDir, name)}: not a ledger entry (expected <port>.json).`);
        continue;
      }
      const entry = this.read(port);
      if (typeof entry === 'object') result.push(entry);
    }
    return result.sort((a, b) => a.port - b.port);
  }

  /**
   * The valid entry of `port`, if any.
   *
   * @example
   * ledger.get(3000)?.projectId; // '/src/web'
   */
  get(port: number): LedgerEntry | undefined {
    assertValidPort(port);
    const entry = this.read(port);
    return typeof entry === 'object' ? entry : undefined;
  }

  /**
   * The entry held by `projectId` (the lowest port if, against the rules, it holds several).
   *
   * @example
   * ledger.findByProject('/src/web')?.port; // 3000
   */
  findByProject(projectId: string): LedgerEntry | undefined {
    return this.entries().find((e) => e.projectId === projectId);
  }

  /**
   * True when the entry's owner process is gone and so is its dev server (`pid`, when recorded). Such an entry
   * may be taken over by another project once the OS says the port is free. Entries without an owner (CLI
   * reservations) are never orphaned: only release or the stale cleanup removes them.
   *
   * @example
   * ledger.isOrphaned({ projectId: 'web', port: 3000, allocatedAt: 0, owner: { pid: 999999, kind: 'vscode' } }); // true
   */
  isOrphaned(entry: LedgerEntry): boolean {
    if (!entry.owner) return false;
    if (this.alive(entry.owner.pid)) return false;
    return entry.pid === undefined || !this.alive(entry.pid);
  }

  /** Writes `content` to a fresh temp file beside the entries (same folder, so link/rename stay atomic). */
  private writeTemp(port: number, content: string): string {
    const tmp = path.join(this.portsDir, `.${port}.json.tmp-${uniqueSuffix()}`);
    try {
      fs.writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      this.unlinkQuietly(tmp);
      throw new LedgerError(`Cannot write to the port ledger ${this.portsDir}: ${(e as Error).message}`, { cause: e });
    }
    return tmp;
  }

  private unlinkQuietly(file: string): void {
    try {
      fs.unlinkSync(file);
    } catch {
      // Already gone: nothing to clean up.
    }
  }

  /** Moves an unreadable entry out of the way so its port can be claimed again; the file is kept for a post-mortem. */
  private setAside(port: number): void {
    const file = this.fileOf(port);
    const aside = `${file}.corrupt-${this.clock.now()}`;
    try {
      fs.renameSync(file, aside);
      this.logger.warn(`[ledger] Moved the unreadable entry ${file} to ${aside} so port ${port} can be reserved again.`);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw new LedgerError(`Cannot move aside ${file}: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Atomically claims `entry.port` for `entry.projectId`. true = claimed (or already this project's: its owner,
   * pid and time are then updated); false = another project holds it. Never exposes a half-written file: the
   * content is written to a temp file first and hard-linked into place, which fails with EEXIST if taken.
   *
   * @example
   * ledger.tryClaim({ projectId: '/src/web', port: 3000, allocatedAt: Date.now(), owner: { pid: process.pid, kind: 'cli' } });
   */
  tryClaim(entry: LedgerEntry): boolean {
    assertProjectId(entry.projectId);
    assertValidPort(entry.port);
    const final = this.fileOf(entry.port);
    const tmp = this.writeTemp(entry.port, serialize(entry));
    try {
      // A few rounds at most: a retry follows moving a corrupt file aside or a release racing our read.
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          fs.linkSync(tmp, final);
          this.logger.info(`[ledger] Reserved port ${entry.port} for ${entry.projectId}.`);
          return true;
        } catch (e) {
          if (errnoCode(e) !== 'EEXIST') {
            throw new LedgerError(`Cannot reserve port ${entry.port} in ${this.portsDir}: ${(e as Error).message}`, { cause: e });
          }
        }
        const current = this.read(entry.port);
        if (current === 'missing') continue; // released between our link and our read: try again
        if (current === 'corrupt') {
          this.setAside(entry.port);
          continue;
        }
        if (current.projectId !== entry.projectId) return false;
        if (!sameEntry(current, entry)) fs.renameSync(tmp, final);
        return true;
      }
      return false;
    } finally {
      this.unlinkQuietly(tmp);
    }
  }

  /**
   * Atomically replaces the entry of `entry.port` (temp file + rename). Only for the entry's own project: throws
   * `LedgerError` when another project holds the port. Creates the entry when the port is free.
   *
   * @example
   * ledger.update({ ...ledger.get(3000)!, pid: 4242 });
   */
  update(entry: LedgerEntry): void {
    assertProjectId(entry.projectId);
    assertValidPort(entry.port);
    const current = this.read(entry.port);
    if (typeof current === 'object' && current.projectId !== entry.projectId) {
      throw new LedgerError(
        `Port ${entry.port} is reserved for ${current.projectId}, not ${entry.projectId}; its ledger entry was left alone.`,
      );
    }
    if (typeof current !== 'object') {
      if (this.tryClaim(entry)) return;
      throw new LedgerError(`Port ${entry.port} was reserved by another project while updating ${entry.projectId}.`);
    }
    const tmp = this.writeTemp(entry.port, serialize(entry));
    try {
      fs.renameSync(tmp, this.fileOf(entry.port));
    } catch (e) {
      this.unlinkQuietly(tmp);
      throw new LedgerError(`Cannot update the ledger entry of port ${entry.port}: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Removes the entry of `port`; with `projectId`, only when that project holds it. Returns true when removed.
   *
   * @example
   * ledger.release(3000, '/src/web'); // true
   */
  release(port: number, projectId?: string): boolean {
    assertValidPort(port);
    const file = this.fileOf(port);
    const current = this.read(port);
    if (current === 'missing') return false;
    if (current === 'corrupt') {
      if (projectId !== undefined) return false;
      this.setAside(port);
      return true;
    }
    if (projectId !== undefined && current.projectId !== projectId) return false;
    // Rename first, then check what we took: a plain unlink after the read could delete a claim another
    // process made in between.
    const taken = path.join(this.portsDir, `.${port}.json.release-${uniqueSuffix()}`);
    try {
      fs.renameSync(file, taken);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return false;
      throw new LedgerError(`Cannot release port ${port} in ${this.portsDir}: ${(e as Error).message}`, { cause: e });
    }
    let text = '';
    try {
      text = fs.readFileSync(taken, 'utf8');
    } catch {
      // Unreadable right after our own rename: treat as what we meant to remove.
    }
    const { entry } = parseLedgerEntry(text, port);
    if (entry && projectId !== undefined && entry.projectId !== projectId) {
      try {
        fs.linkSync(taken, file);
      } catch (e) {
        this.logger.warn(`[ledger] Could not restore the entry of port ${port} for ${entry.projectId}: ${(e as Error).message}`);
      }
      this.unlinkQuietly(taken);
      return false;
    }
    this.unlinkQuietly(taken);
    this.logger.info(`[ledger] Released port ${port}${entry ? ` of ${entry.projectId}` : ''}.`);
    return true;
  }

  /**
   * Runs `fn` under the ledger's short-lived lock: `<home>/ledger.lock`, created with O_EXCL and holding the
   * holder's pid and time. A lock whose holder is dead, or that is older than 2 s (0.5 s without a readable holder), is broken. `fn` must be
   * synchronous (the lock is released when it returns). Re-entrant within one process.
   *
   * @example
   * const port = ledger.withLock(() => (ledger.tryClaim(entry) ? entry.port : undefined));
   */
  withLock<T>(fn: () => T): T {
    const depth = heldLocks.get(this.lockFile) ?? 0;
    if (depth > 0) {
      heldLocks.set(this.lockFile, depth + 1);
      try {
        return fn();
      } finally {
        heldLocks.set(this.lockFile, depth);
      }
    }
    this.acquireLock();
    heldLocks.set(this.lockFile, 1);
    try {
      return fn();
    } finally {
      heldLocks.delete(this.lockFile);
      this.unlinkQuietly(this.lockFile);
    }
  }

  private acquireLock(): void {
    const content = JSON.stringify({ pid: process.pid, time: Date.now() });
    const startedAt = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        fs.writeFileSync(this.lockFile, content, { flag: 'wx', mode: 0o600 });
        return;
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') {
          throw new LedgerError(`Cannot create the ledger lock ${this.lockFile}: ${(e as Error).message}`, { cause: e });
        }
      }
      if (this.breakLockIfStale()) continue;
      if (Date.now() - startedAt > LOCK_GIVE_UP_MS) {
        throw new LedgerError(`The ledger lock ${this.lockFile} stayed taken for ${LOCK_GIVE_UP_MS / 1000} s.`, {
          remedy: `Delete ${this.lockFile} if no Dev Ports process is running.`,
        });
      }
      // Short, slightly random waits: holders keep the lock for well under a millisecond.
      sleepSync(Math.min(2 + attempt, 20) + Math.floor(Math.random() * 3));
    }
  }

  /** Breaks the lock when its holder is dead or it is older than 2 s (0.5 s when its holder cannot be read). True when it was broken (or vanished). */
  private breakLockIfStale(): boolean {
    let text: string;
    let mtimeMs: number;
    try {
      text = fs.readFileSync(this.lockFile, 'utf8');
      mtimeMs = fs.statSync(this.lockFile).mtimeMs;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return true;
      throw new LedgerError(`Cannot read the ledger lock ${this.lockFile}: ${(e as Error).message}`, { cause: e });
    }
    let holder: { pid?: unknown; time?: unknown } = {};
    try {
      holder = JSON.parse(text) as typeof holder;
    } catch {
      // Empty between the holder's open and write, or left by a crash there: only its age can tell.
    }
    const pid = typeof holder.pid === 'number' && Number.isInteger(holder.pid) && holder.pid > 0 ? holder.pid : undefined;
    const time = typeof holder.time === 'number' ? holder.time : mtimeMs;
    const dead = pid !== undefined && pid !== process.pid && !this.alive(pid);
    const old = Date.now() - time > (pid === undefined ? LOCK_UNREADABLE_STALE_MS : LOCK_STALE_MS);
    if (!dead && !old) return false;
    // Rename, then verify we took the stale lock we judged and not a fresh one created since our read.
    const taken = `${this.lockFile}.broken-${uniqueSuffix()}`;
    try {
      fs.renameSync(this.lockFile, taken);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return true;
      throw new LedgerError(`Cannot break the ledger lock ${this.lockFile}: ${(e as Error).message}`, { cause: e });
    }
    let takenText = '';
    try {
      takenText = fs.readFileSync(taken, 'utf8');
    } catch {
      // Gone already: nothing to verify.
    }
    if (takenText !== text) {
      try {
        fs.linkSync(taken, this.lockFile);
      } catch {
        // Someone else holds a fresh lock already; the one we took was theirs to lose anyway.
      }
      this.unlinkQuietly(taken);
      return false;
    }
    this.unlinkQuietly(taken);
    this.logger.warn(
      `[ledger] Broke the ledger lock of ${pid !== undefined ? `PID ${pid}` : 'an unknown process'} (${dead ? 'process gone' : `older than ${(pid === undefined ? LOCK_UNREADABLE_STALE_MS : LOCK_STALE_MS) / 1000} s`}).`,
    );
    return true;
  }
}
