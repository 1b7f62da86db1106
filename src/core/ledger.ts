/**
 * The machine-wide ledger: which project holds which port, shared by every VS Code window, the CLI and library
 * users of this user account. One JSON file per reserved port, `<home>/ports/<port>.json`, so a claim is one
 * atomic `link()` and no process ever rewrites a file another process is claiming.
 *
 * Nothing here imports `vscode` or talks to sockets; whether a port is free at the OS level is the allocator's
 * business.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LedgerError } from './errors';
import { isProcessAlive } from '../os/killer';
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
  /**
   * Set when the port is held by a file this version cannot fully use. Such a port is respected: never moved
   * aside, never given to another project, never released by a sweep. 'newer-version': written by a newer Dev
   * Ports (a higher file version); 'unreadable': the file cannot be read (e.g. root-owned after a `sudo dev-ports`).
   */
  foreign?: 'newer-version' | 'unreadable';
}

export interface LedgerOptions {
  /** Folder of the ledger; default `Ledger.defaultHome()`. */
  home?: string;
  logger?: Logger;
  clock?: Clock;
  /** Injected so tests and the OS layer decide; default: signal 0, EPERM counts as alive. */
  isProcessAlive?: (pid: number) => boolean;
  /** How long a wait for the ledger lock may last before a LedgerError; default 10 s. */
  lockTimeoutMs?: number;
}

const FILE_VERSION = 1;
/** Holders keep the lock for well under a millisecond: a lock this old is stuck (its holder hung, or its PID was
 * reused by another process). A lock stamped this far in the future is stuck too: the clock was stepped back. */
const LOCK_STALE_MS = 2_000;
/** A lock file without a readable holder was left by a crash between its creation and its write. */
const LOCK_UNREADABLE_STALE_MS = 500;
/** Every wait for the lock ends: past this the caller gets a LedgerError naming the lock and its holder. */
const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** How often a waiter looks at the lock's holder to break a stale lock. */
const LOCK_LOOK_EVERY_MS = 50;
/** A waiter woken by a watch of the folder polls only this often, in case an event is missed. */
const WATCHED_POLL_MS = 25;
/** Temp files of a reserver that died mid-write are removed once their process is gone, or past this age. */
const LEFTOVER_AGE_MS = 10 * 60_000;
/** An entry stamped further than this in the future was written before the clock was stepped back. */
const FUTURE_SLACK_MS = 60_000;
/** Folder mtimes closer to now than this may hide a second change in the same clock tick (see `settledVersion`). */
const MTIME_SETTLE_MS = 100;
/** The entries cache is dropped past this age anyway: a tool that edits an entry in place (or chmods it) does not
 * move the folder's mtime, and the view should show that within a poll or ten. */
const ENTRIES_MAX_AGE_MS = 30_000;
const ENTRY_NAME = /^(\d{1,5})\.json$/;
/** Our own temp names: `.<port>.json.tmp-<pid>-…`, `.<port>.json.release-<pid>-…`, `.<hash>.tmp-<pid>-…`. */
const LEFTOVER_NAME = /^\.[^.]+(?:\.json)?\.(?:tmp|release)-(\d+)-/;
const OWNER_KINDS = new Set(['vscode', 'cli', 'library']);
/** Written once every entry of the folder has its project index (entries of older versions had none). */
const INDEX_STAMP = '.indexed-v1';
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** Re-entrancy per ledger folder: withLock inside withLock (same process, same home) must not wait for itself. */
const heldLocks = new Map<string, number>();

function defaultIsProcessAlive(pid: number): boolean {
  try {
    return isProcessAlive(pid);
  } catch {
    return true; // an unexpected error: keep the entry rather than hand its port out twice
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Synchronous sleep, for `withLock` only (the CLI and scripts); the extension host uses `withLockAsync`. */
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function uniqueSuffix(): string {
  return `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Reads a file without following a symbolic link (ELOOP for a link): the ledger never writes links. */
function readNoFollow(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW);
  try {
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** SHA-1s already computed: one reservation looks a project's index up two or three times, and each `createHash`
 * of a cold CLI process costs 0.35 ms and more (profiles of `dev-ports reserve`). Bounded: ids are few per process. */
const indexNames = new Map<string, string>();

/** Name of a project's index file: the project id's SHA-1 (fixed length, any characters in the id). */
function indexName(projectId: string): string {
  let name = indexNames.get(projectId);
  if (name === undefined) {
    name = crypto.createHash('sha1').update(projectId).digest('hex');
    if (indexNames.size >= 1024) indexNames.clear();
    indexNames.set(projectId, name);
  }
  return name;
}

/**
 * Marks in `bitmap` the port of each entry's file name (`3000.json`); other names are skipped. Runs over every name
 * of a big ledger, in the CLI's cold interpreter: one `+slice` per name (native number parsing), checked by its
 * first character, its digit count and its range, costs about a third of a per-character loop.
 */
function markPortsOfNames(names: readonly string[], bitmap: Uint8Array): void {
  for (const name of names) {
    const n = name.length;
    const first = name.charCodeAt(0);
    // '1'..'9' first: no leading zero, no sign, no space, no hidden files (`.3000.json.tmp-…`).
    if (n < 6 || n > 10 || first < 49 || first > 57 || !name.endsWith('.json')) continue;
    const port = +name.slice(0, -5);
    // `+` also accepts '1e3', '1.0' and '1 ': only a plain decimal has as many digits as characters.
    if (!(port >= 1 && port <= 65535) || port % 1 !== 0) continue;
    const digits = port < 10 ? 1 : port < 100 ? 2 : port < 1000 ? 3 : port < 10000 ? 4 : 5;
    if (digits === n - 5) bitmap[port] = 1;
  }
}

/** A read-only view of the held ports: membership only, nothing copied. */
export interface HeldPorts {
  has(port: number): boolean;
}

/** Project id shown for a held port whose entry cannot be read (it never equals a real project folder). */
export const UNREADABLE_PROJECT = '(unreadable ledger entry)';

/**
 * Parses a ledger file's text: the entry, or the reason it is not a valid entry for `port`.
 *
 * @example
 * parseLedgerEntry(fs.readFileSync('3000.json', 'utf8'), 3000).entry?.projectId;
 */
export function parseLedgerEntry(text: string, port: number): { entry?: LedgerEntry; problem?: string } {
  // A newer version's entry comes back as an entry with `foreign: 'newer-version'` and a problem that says so.
  if (text.trim() === '') return { problem: 'empty' };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { problem: 'not valid JSON (truncated or corrupted)' };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { problem: 'not a JSON object' };
  const d = data as Record<string, unknown>;
  if (typeof d.version === 'number' && Number.isInteger(d.version) && d.version > FILE_VERSION) {
    // A newer Dev Ports wrote it: its fields may mean more than we know, but its claim on the port stands.
    const entry: LedgerEntry = {
      projectId: typeof d.projectId === 'string' && d.projectId !== '' ? d.projectId : UNREADABLE_PROJECT,
      port,
      allocatedAt: typeof d.allocatedAt === 'number' && Number.isFinite(d.allocatedAt) ? d.allocatedAt : 0,
      foreign: 'newer-version',
    };
    return { entry, problem: `written by a newer Dev Ports (file version ${d.version})` };
  }
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

function copyEntry(entry: LedgerEntry): LedgerEntry {
  const copy: LedgerEntry = { ...entry };
  if (entry.owner) copy.owner = { ...entry.owner };
  return copy;
}

function sameEntry(a: LedgerEntry, b: LedgerEntry): boolean {
  return serialize(a) === serialize(b);
}

/** What one port's file holds: an entry (possibly `foreign`), nothing, or junk that is not an entry at all. */
type ReadResult = { kind: 'entry'; entry: LedgerEntry } | { kind: 'missing' } | { kind: 'junk'; problem: string };

/** What an inspection of a taken lock found. */
type LockLook = { kind: 'broken' } | { kind: 'held'; pid?: number; ageMs: number };

/**
 * Resolves a wait early when the lock file goes away: an `fs.watch` of the taken lock file itself (its inode), so
 * a waiter wakes once, when the holder removes it, and not when the next holder creates its lock: a wake-up at
 * that moment would take the CPU from the new holder just as its work begins. 'gone' when the lock vanished
 * before the watch was set (try again at once); undefined when watching is not supported.
 */
class LockWatcher {
  private wake: (() => void) | undefined;
  private constructor(private readonly watcher: fs.FSWatcher) {}

  static open(file: string): LockWatcher | 'gone' | undefined {
    try {
      const box: { self?: LockWatcher } = {};
      // 'rename' is the file's removal (or a rename); 'change' is only the holder writing its pid.
      const watcher = fs.watch(file, { persistent: false }, (event) => {
        if (event === 'rename') box.self?.wake?.();
      });
      watcher.on('error', () => box.self?.close());
      box.self = new LockWatcher(watcher);
      return box.self;
    } catch (e) {
      return errnoCode(e) === 'ENOENT' ? 'gone' : undefined;
    }
  }

  /** Waits until the lock's name changes in the folder, or `ms` passed. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        if (self.wake === done) self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  close(): void {
    this.wake?.();
    try {
      this.watcher.close();
    } catch {
      // Closed already.
    }
  }
}

/**
 * The machine-wide port ledger.
 *
 * Layout: `<home>/ports/<port>.json` (one entry per reserved port, claimed by `link()`), `<home>/projects/<sha1>`
 * (the port of each project, so "does this project hold a port?" is one small read instead of reading every
 * entry) and `<home>/ledger.lock` (a short-lived lock that serialises read-then-claim sequences).
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
  readonly projectsDir: string;
  readonly lockFile: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly alive: (pid: number) => boolean;
  private readonly lockTimeoutMs: number;
  /** Files already reported, so a sweep every few minutes does not repeat the same warning. */
  private readonly reported = new Set<string>();
  private tidied = false;
  private indexed = false;
  /**
   * The ports of the last listing, valid while the folder's mtime is unchanged. A stale copy is safe: a claim is
   * a `link()` that fails on a taken port (the caller tries another), and a port skipped by mistake stays free.
   */
  private heldCache?: { mtimeNs: bigint; ports: Uint8Array };
  /**
   * The last parse of every entry (the view polls `entries()` every few seconds), valid while the folder's settled
   * version is unchanged and for 30 s at most. Kept as copies, handed out as copies: no caller can change it.
   */
  private entriesCache?: { version: string; at: number; entries: LedgerEntry[] };

  constructor(options: LedgerOptions = {}) {
    this.home = path.resolve(options.home ?? Ledger.defaultHome());
    this.portsDir = path.join(this.home, 'ports');
    this.projectsDir = path.join(this.home, 'projects');
    this.lockFile = path.join(this.home, 'ledger.lock');
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.alive = options.isProcessAlive ?? defaultIsProcessAlive;
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    try {
      // The ledger says which projects exist and runs nothing, but other users have no business rewriting it.
      const created = fs.mkdirSync(this.portsDir, { recursive: true, mode: 0o700 });
      fs.mkdirSync(this.projectsDir, { recursive: true, mode: 0o700 });
      // A ledger this version creates has an index from its first entry on: nothing to migrate.
      if (created !== undefined) fs.writeFileSync(path.join(this.projectsDir, INDEX_STAMP), `${this.clock.now()}\n`, { mode: 0o600 });
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

  /** Reads one port's file. Problems are reported once per file; only unexpected I/O errors throw. */
  private read(port: number): ReadResult {
    const file = this.fileOf(port);
    let text: string;
    try {
      text = readNoFollow(file);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') return { kind: 'missing' };
      if (code === 'ELOOP' || code === 'EMLINK') {
        let target = '';
        try {
          const to = fs.readlinkSync(file);
          target = ` to ${to}${fs.existsSync(path.resolve(this.portsDir, to)) ? '' : ', which does not exist'}`;
        } catch {
          // Gone meanwhile: the message stays general.
        }
        const problem = `it is a symbolic link${target}, not a ledger entry (Dev Ports never writes links)`;
        this.report(`${file}:link`, `Skipping ${file}: ${problem}; "dev-ports cleanup" removes it, and a reservation of port ${port} replaces it.`);
        return { kind: 'junk', problem };
      }
      if (code === 'EISDIR') {
        this.report(`${file}:dir`, `Skipping ${file}: it is a folder, not a ledger entry.`);
        return { kind: 'junk', problem: 'it is a folder' };
      }
      if (code === 'EACCES' || code === 'EPERM') {
        // Someone holds the port and we cannot tell who: respect it rather than give it away.
        this.report(
          `${file}:unreadable`,
          `Cannot read ${file} (${code}): port ${port} stays reserved. If a "sudo dev-ports" made it, remove it with sudo or give it back with "sudo chown $USER ${file}".`,
        );
        return { kind: 'entry', entry: { projectId: UNREADABLE_PROJECT, port, allocatedAt: 0, foreign: 'unreadable' } };
      }
      throw new LedgerError(`Cannot read the ledger entry ${file}: ${(e as Error).message}`, { cause: e });
    }
    const { entry, problem } = parseLedgerEntry(text, port);
    if (entry) {
      if (entry.foreign === 'newer-version') {
        this.report(`${file}:newer`, `${file} was ${problem}: port ${port} stays reserved for ${entry.projectId}; it is never moved aside or given away.`);
      }
      return { kind: 'entry', entry };
    }
    this.report(`${file}:${text.length}:${problem}`, `Skipping ${file}: ${problem}.`);
    return { kind: 'junk', problem: problem ?? 'not an entry' };
  }

  /** Names in the ports folder; the first listing of each Ledger also removes temp files of dead reservers. */
  private names(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.portsDir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw new LedgerError(`Cannot read the port ledger ${this.portsDir}: ${(e as Error).message}`, { cause: e });
    }
    if (!this.tidied) {
      this.tidied = true;
      this.removeLeftovers(names);
    }
    return names;
  }

  /**
   * Removes temp files (`.<port>.json.tmp-<pid>-…`, `.release-…`) whose writer is gone (SIGKILLed mid-claim) or
   * that are older than 10 minutes (its PID was reused). A live writer's temp file is left alone.
   */
  private removeLeftovers(names: readonly string[]): void {
    for (const name of names) {
      if (name.charCodeAt(0) !== 46 /* '.' */) continue; // entries: most of a big ledger, never leftovers
      const match = LEFTOVER_NAME.exec(name);
      if (!match) continue;
      const pid = Number(match[1]);
      const file = path.join(this.portsDir, name);
      let gone = pid !== process.pid && !this.alive(pid);
      if (!gone) {
        try {
          gone = Math.abs(this.clock.now() - fs.lstatSync(file).mtimeMs) > LEFTOVER_AGE_MS;
        } catch {
          continue;
        }
      }
      if (!gone) continue;
      try {
        fs.unlinkSync(file);
        this.logger.info(`[ledger] Removed ${file}, left by PID ${pid} that stopped while writing.`);
      } catch {
        // Removed by someone else meanwhile.
      }
    }
  }

  /**
   * Every entry, ordered by port, including ports held by files this version respects but cannot use (`foreign`).
   * Corrupted, truncated, empty, symlinked and foreign files are reported once and skipped.
   *
   * @example
   * for (const e of ledger.entries()) console.log(e.port, e.projectId);
   */
  entries(): LedgerEntry[] {
    // Stat before listing: a change made while we read moves the mtime past the version we keep.
    const version = this.settledVersion();
    const now = this.clock.now();
    const cache = this.entriesCache;
    if (cache && version !== undefined && cache.version === version && now - cache.at >= 0 && now - cache.at < ENTRIES_MAX_AGE_MS) {
      return cache.entries.map(copyEntry);
    }
    const result: LedgerEntry[] = [];
    for (const name of this.names()) {
      // Our own temp files and set-aside corrupt files are expected here; they are not entries.
      if (name.startsWith('.') || name.includes('.corrupt-')) continue;
      const match = ENTRY_NAME.exec(name);
      const port = match ? Number(match[1]) : NaN;
      if (!match || !isValidPort(port) || `${port}.json` !== name) {
        this.report(`foreign:${name}`, `Skipping ${path.join(this.portsDir, name)}: not a ledger entry (expected <port>.json).`);
        continue;
      }
      const read = this.read(port);
      if (read.kind === 'entry') result.push(read.entry);
    }
    result.sort((a, b) => a.port - b.port);
    this.entriesCache = version === undefined ? undefined : { version, at: now, entries: result.map(copyEntry) };
    return result;
  }

  /**
   * The ports folder's version for the entries cache: its mtime (ns) and inode, which move with every entry
   * created, renamed over or removed (every writer of the folder writes by rename, link or unlink). Undefined
   * while the mtime is within 100 ms of now, or in the future: file times are coarse (a clock tick), so two
   * changes inside one tick would share an mtime, and only a settled mtime proves the folder unchanged since.
   */
  private settledVersion(): string | undefined {
    try {
      const st = fs.statSync(this.portsDir, { bigint: true });
      const age = Date.now() - Number(st.mtimeMs);
      return age >= MTIME_SETTLE_MS ? `${st.mtimeNs}:${st.ino}` : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Ports that have a file in the ledger (entries, and junk a claim would first have to move aside), without
   * reading any entry: one directory listing. With `exceptProjectId`, that project's own port is left out.
   *
   * @example
   * await findAvailablePort(3000, 3999, { exclude: ledger.heldPorts('/src/web') });
   */
  heldPorts(exceptProjectId?: string): Set<number> {
    const bitmap = this.heldBitmap();
    const held = new Set<number>();
    for (let port = 1; port <= 65535; port++) if (bitmap[port] === 1) held.add(port);
    if (exceptProjectId !== undefined) {
      const own = this.findByProject(exceptProjectId);
      if (own && !own.foreign) held.delete(own.port);
    }
    return held;
  }

  /**
   * `heldPorts` for callers that only ask "is this port held?": one directory listing (none while the folder is
   * unchanged) and nothing copied. The view reads the ledger's current listing: use it within one synchronous
   * section (e.g. under `withLock`), and take a new one after awaiting.
   *
   * @example
   * const held = ledger.heldPortsView('/src/web');
   * held.has(3000); // true when another project (or junk) holds 3000
   */
  heldPortsView(exceptProjectId?: string): HeldPorts {
    const bitmap = this.heldBitmap();
    let own: number | undefined;
    if (exceptProjectId !== undefined) {
      const entry = this.findByProject(exceptProjectId);
      if (entry && !entry.foreign) own = entry.port;
    }
    return { has: (port: number) => port !== own && bitmap[port] === 1 };
  }

  /** The held ports as a bitmap indexed by port, cached while the folder's mtime is unchanged. Never hand it out. */
  private heldBitmap(): Uint8Array {
    const mtimeNs = this.folderMtime();
    if (this.heldCache && mtimeNs !== undefined && this.heldCache.mtimeNs === mtimeNs) return this.heldCache.ports;
    const ports = new Uint8Array(65536);
    markPortsOfNames(this.names(), ports);
    this.heldCache = mtimeNs === undefined ? undefined : { mtimeNs, ports };
    return ports;
  }

  private folderMtime(): bigint | undefined {
    try {
      return fs.statSync(this.portsDir, { bigint: true }).mtimeNs;
    } catch {
      return undefined;
    }
  }

  /** Our own change of `port` applied to the cached listing, whose mtime moves on with it. */
  private noteOwnChange(port: number, held: boolean): void {
    if (!this.heldCache) return;
    const mtimeNs = this.folderMtime();
    if (mtimeNs === undefined) {
      this.heldCache = undefined;
      return;
    }
    this.heldCache.ports[port] = held ? 1 : 0;
    this.heldCache.mtimeNs = mtimeNs;
  }

  /**
   * The entry of `port`, if any (a `foreign` one included: such a port is held).
   *
   * @example
   * ledger.get(3000)?.projectId; // '/src/web'
   */
  get(port: number): LedgerEntry | undefined {
    assertValidPort(port);
    const read = this.read(port);
    return read.kind === 'entry' ? read.entry : undefined;
  }

  /**
   * What is wrong with the file of `port` when it is not an entry (corrupt, a symbolic link, a folder), else undefined.
   *
   * @example
   * ledger.problemOf(3000); // 'it is a symbolic link to /gone, which does not exist, not a ledger entry …'
   */
  problemOf(port: number): string | undefined {
    assertValidPort(port);
    const read = this.read(port);
    return read.kind === 'junk' ? read.problem : undefined;
  }

  private indexFile(projectId: string): string {
    return path.join(this.projectsDir, indexName(projectId));
  }

  private readIndex(projectId: string): number | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.indexFile(projectId), 'utf8');
    } catch {
      return undefined;
    }
    const port = Number(text.trim());
    return isValidPort(port) ? port : undefined;
  }

  /** Points the project's index at `port` (temp file + rename, so a reader sees the old or the new port). */
  private writeIndex(projectId: string, port: number): void {
    const file = this.indexFile(projectId);
    const tmp = path.join(this.projectsDir, `.${path.basename(file)}.tmp-${uniqueSuffix()}`);
    try {
      fs.writeFileSync(tmp, `${port}\n`, { mode: 0o600, flag: 'wx' });
      fs.renameSync(tmp, file);
    } catch (e) {
      this.unlinkQuietly(tmp);
      this.report(`index:${errnoCode(e)}`, `Cannot write the project index ${file}: ${(e as Error).message}.`);
    }
  }

  private dropIndex(projectId: string, port: number): void {
    if (this.readIndex(projectId) === port) this.unlinkQuietly(this.indexFile(projectId));
  }

  /** Entries written before the project index existed get one, once per ledger folder. */
  private ensureIndexed(): void {
    if (this.indexed) return;
    const stamp = path.join(this.projectsDir, INDEX_STAMP);
    if (!fs.existsSync(stamp)) {
      for (const entry of this.entries()) {
        if (entry.foreign === 'unreadable') continue;
        const current = this.readIndex(entry.projectId);
        const valid = current !== undefined && (current === entry.port || this.get(current)?.projectId === entry.projectId);
        if (!valid) this.writeIndex(entry.projectId, entry.port);
      }
      try {
        fs.writeFileSync(stamp, `${this.clock.now()}\n`, { mode: 0o600 });
      } catch (e) {
        this.report('index:stamp', `Cannot write ${stamp}: ${(e as Error).message}.`);
      }
    }
    this.indexed = true;
  }

  /**
   * The entry held by `projectId`: one read of its index and one of the entry it points to.
   *
   * @example
   * ledger.findByProject('/src/web')?.port; // 3000
   */
  findByProject(projectId: string): LedgerEntry | undefined {
    this.ensureIndexed();
    const port = this.readIndex(projectId);
    if (port === undefined) return undefined;
    const read = this.read(port);
    return read.kind === 'entry' && read.entry.projectId === projectId ? read.entry : undefined;
  }

  /**
   * True when the entry's owner is a VS Code window that is gone, and so is its dev server (`pid`, when
   * recorded). Such an entry may be taken over by another project once the OS says the port is free. CLI and
   * library reservations are never orphaned (they outlive the process that made them), nor are `foreign` ones:
   * only release or the stale cleanup removes them.
   *
   * @example
   * ledger.isOrphaned({ projectId: 'web', port: 3000, allocatedAt: 0, owner: { pid: 999999, kind: 'vscode' } }); // true
   */
  isOrphaned(entry: LedgerEntry): boolean {
    if (!entry.owner || entry.owner.kind !== 'vscode' || entry.foreign) return false;
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
      throw new LedgerError(`Cannot write to the port ledger ${this.portsDir}: ${(e as Error).message}`, {
        cause: e,
        remedy: `Make ${this.portsDir} writable by you, or set DEV_PORTS_HOME to a folder you can write to.`,
      });
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

  /**
   * Moves a file that is not an entry out of the way so its port can be claimed again: a symbolic link is removed
   * (it is not ours to keep), anything else is renamed `<port>.json.corrupt-<time>` for a post-mortem.
   */
  private setAside(port: number): string | undefined {
    const file = this.fileOf(port);
    try {
      if (fs.lstatSync(file).isSymbolicLink()) {
        fs.unlinkSync(file);
        this.logger.warn(`[ledger] Removed the symbolic link ${file} so port ${port} can be reserved again.`);
        return file;
      }
      const aside = `${file}.corrupt-${this.clock.now()}`;
      fs.renameSync(file, aside);
      this.logger.warn(`[ledger] Moved the unreadable entry ${file} to ${aside} so port ${port} can be reserved again.`);
      return aside;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw new LedgerError(`Cannot move aside ${file}: ${(e as Error).message}`, { cause: e });
      return undefined;
    }
  }

  /**
   * Removes every file of the ports folder that is not an entry (corrupt, truncated, symbolic links, folders),
   * as `setAside` does. Entries, `foreign` ones included, are never touched. Returns what was done, one line each.
   *
   * @example
   * ledger.withLock(() => ledger.removeJunk()); // ['3001: it is a symbolic link to /gone, … (removed)']
   */
  removeJunk(): string[] {
    const done: string[] = [];
    for (const name of this.names()) {
      const match = ENTRY_NAME.exec(name);
      if (!match || name.startsWith('.')) continue;
      const port = Number(match[1]);
      if (!isValidPort(port) || `${port}.json` !== name) continue;
      const read = this.read(port);
      if (read.kind !== 'junk') continue;
      const where = this.setAside(port);
      if (where !== undefined) done.push(`${port}: ${read.problem} (${where === this.fileOf(port) ? 'removed' : `moved to ${where}`})`);
    }
    return done;
  }

  /**
   * Atomically claims `entry.port` for `entry.projectId`. true = claimed (or already this project's: its owner,
   * pid and time are then updated); false = another project holds it, or a file this version must respect
   * (`foreign`). Never exposes a half-written file: the content is written to a temp file first and hard-linked
   * into place, which fails with EEXIST if taken.
   *
   * @example
   * ledger.tryClaim({ projectId: '/src/web', port: 3000, allocatedAt: Date.now(), owner: { pid: process.pid, kind: 'cli' } });
   */
  tryClaim(entry: LedgerEntry): boolean {
    assertProjectId(entry.projectId);
    assertValidPort(entry.port);
    const final = this.fileOf(entry.port);
    const clean: LedgerEntry = { ...entry };
    delete clean.foreign;
    const tmp = this.writeTemp(entry.port, serialize(clean));
    let claimed = false;
    try {
      // A few rounds at most: a retry follows moving a corrupt file aside or a release racing our read.
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          fs.linkSync(tmp, final);
          this.writeIndex(entry.projectId, entry.port);
          this.logger.info(`[ledger] Reserved port ${entry.port} for ${entry.projectId}.`);
          claimed = true;
          return true;
        } catch (e) {
          if (errnoCode(e) !== 'EEXIST') {
            throw new LedgerError(`Cannot reserve port ${entry.port} in ${this.portsDir}: ${(e as Error).message}`, { cause: e });
          }
        }
        const current = this.read(entry.port);
        if (current.kind === 'missing') continue; // released between our link and our read: try again
        if (current.kind === 'junk') {
          this.setAside(entry.port);
          continue;
        }
        if (current.entry.foreign || current.entry.projectId !== entry.projectId) return false;
        if (!sameEntry(current.entry, clean)) fs.renameSync(tmp, final);
        if (this.readIndex(entry.projectId) !== entry.port) this.writeIndex(entry.projectId, entry.port);
        claimed = true;
        return true;
      }
      return false;
    } finally {
      this.unlinkQuietly(tmp);
      if (claimed) this.noteOwnChange(entry.port, true);
    }
  }

  /**
   * Atomically replaces the entry of `entry.port` (temp file + rename). Only for the entry's own project: throws
   * `LedgerError` when another project holds the port (or a newer version's entry). Creates the entry when the
   * port is free.
   *
   * @example
   * ledger.update({ ...ledger.get(3000)!, pid: 4242 });
   */
  update(entry: LedgerEntry): void {
    assertProjectId(entry.projectId);
    assertValidPort(entry.port);
    const current = this.read(entry.port);
    if (current.kind === 'entry' && (current.entry.foreign || current.entry.projectId !== entry.projectId)) {
      throw new LedgerError(
        `Port ${entry.port} is reserved for ${current.entry.projectId}, not ${entry.projectId}; its ledger entry was left alone.`,
      );
    }
    if (current.kind !== 'entry') {
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
   * Removes the entry of `port`; with `projectId`, only when that project holds it. Without `projectId`, a file
   * that is not an entry (corrupt, a symbolic link) is removed too. Entries of a newer version and unreadable ones
   * are never removed. Returns true when something was removed.
   *
   * @example
   * ledger.release(3000, '/src/web'); // true
   */
  release(port: number, projectId?: string): boolean {
    assertValidPort(port);
    const file = this.fileOf(port);
    const current = this.read(port);
    if (current.kind === 'missing') return false;
    if (current.kind === 'junk') {
      if (projectId !== undefined) return false;
      return this.setAside(port) !== undefined;
    }
    if (current.entry.foreign) return false;
    if (projectId !== undefined && current.entry.projectId !== projectId) return false;
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
      text = readNoFollow(taken);
    } catch {
      // Unreadable right after our own rename: treat as what we meant to remove.
    }
    const { entry } = parseLedgerEntry(text, port);
    if (entry && (entry.foreign || (projectId !== undefined && entry.projectId !== projectId))) {
      try {
        fs.linkSync(taken, file);
      } catch (e) {
        this.logger.warn(`[ledger] Could not restore the entry of port ${port} for ${entry.projectId}: ${(e as Error).message}`);
      }
      this.unlinkQuietly(taken);
      return false;
    }
    this.unlinkQuietly(taken);
    this.noteOwnChange(port, false);
    if (entry) this.dropIndex(entry.projectId, port);
    this.logger.info(`[ledger] Released port ${port}${entry ? ` of ${entry.projectId}` : ''}.`);
    return true;
  }

  /**
   * Runs `fn` under the ledger's short-lived lock: `<home>/ledger.lock`, created with O_EXCL and holding the
   * holder's pid and time. A lock whose holder is dead, that is older than 2 s (0.5 s without a readable holder)
   * or stamped more than that in the future (the clock was stepped back), or that is not a regular file (a
   * dangling symbolic link), is broken. The wait is bounded (10 s by default) and sleeps between attempts; past
   * the bound a `LedgerError` names the holder. `fn` must be synchronous (the lock is released when it returns).
   * Re-entrant within one process. This waits synchronously: in the extension host use `withLockAsync`.
   *
   * @example
   * const port = ledger.withLock(() => (ledger.tryClaim(entry) ? entry.port : undefined));
   */
  withLock<T>(fn: () => T): T {
    if ((heldLocks.get(this.lockFile) ?? 0) > 0) return this.runReentrant(fn);
    const startedAt = Date.now();
    const state = { lastLook: -Infinity };
    for (let attempt = 0; ; attempt++) {
      const wait = this.lockAttempt(attempt, startedAt, state);
      if (wait === undefined) break;
      if (wait > 0) sleepSync(wait);
    }
    return this.runLocked(fn);
  }

  /**
   * `withLock` whose waits are timers, so the event loop (the extension host's) never blocks on another
   * process's lock. `fn` is still synchronous and runs right after the lock is taken, so nothing else in this
   * process interleaves with it.
   *
   * @example
   * const claimed = await ledger.withLockAsync(() => ledger.tryClaim(entry));
   */
  async withLockAsync<T>(fn: () => T): Promise<T> {
    if ((heldLocks.get(this.lockFile) ?? 0) > 0) return this.runReentrant(fn);
    const startedAt = Date.now();
    let watchable = true;
    const state = { lastLook: -Infinity };
    for (let attempt = 0; ; attempt++) {
      // Re-checked after every wait: a sync withLock of this process may have been taken meanwhile.
      if ((heldLocks.get(this.lockFile) ?? 0) > 0) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        this.assertWithinBound(startedAt, undefined);
        continue;
      }
      const wait = this.lockAttempt(attempt, startedAt, state);
      if (wait === undefined) break;
      if (wait === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      // Woken as soon as the holder removes the lock (a watch on the lock file), else after the short wait: a
      // waiter that only polls leaves the lock idle for most of its sleep while others queue for it.
      // With a watch, polling is only the safety net (a missed event), so it is rare: polling waiters burn the
      // CPU the holder needs to finish.
      if (watchable) {
        const watcher = LockWatcher.open(this.lockFile);
        if (watcher === 'gone') {
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        if (watcher) {
          try {
            await watcher.next(WATCHED_POLL_MS);
          } finally {
            watcher.close();
          }
          continue;
        }
        watchable = false;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    return this.runLocked(fn);
  }

  private runReentrant<T>(fn: () => T): T {
    const depth = heldLocks.get(this.lockFile) ?? 0;
    heldLocks.set(this.lockFile, depth + 1);
    try {
      return fn();
    } finally {
      heldLocks.set(this.lockFile, depth);
    }
  }

  private runLocked<T>(fn: () => T): T {
    heldLocks.set(this.lockFile, 1);
    try {
      return fn();
    } finally {
      heldLocks.delete(this.lockFile);
      this.unlinkQuietly(this.lockFile);
    }
  }

  private assertWithinBound(startedAt: number, holder: { pid?: number } | undefined): void {
    if (Math.abs(Date.now() - startedAt) <= this.lockTimeoutMs) return;
    const who = holder?.pid !== undefined ? `by PID ${holder.pid}, which is still running,` : '';
    throw new LedgerError(`The ledger lock ${this.lockFile} stayed taken ${who} for ${this.lockTimeoutMs / 1000} s.`.replace('  ', ' '), {
      remedy: `If no Dev Ports command is running, delete ${this.lockFile}.`,
    });
  }

  /** One try at the lock: undefined when taken, else how many ms to wait before the next try. Throws past the bound. */
  private lockAttempt(attempt: number, startedAt: number, state: { lastLook: number; holder?: { pid?: number } }): number | undefined {
    try {
      fs.writeFileSync(this.lockFile, JSON.stringify({ pid: process.pid, time: Date.now() }), { flag: 'wx', mode: 0o600 });
      return undefined;
    } catch (e) {
      // EEXIST also for a symbolic link (dangling or not) in the lock's place: O_EXCL never follows it.
      if (errnoCode(e) !== 'EEXIST') {
        throw new LedgerError(`Cannot create the ledger lock ${this.lockFile}: ${(e as Error).message}`, {
          cause: e,
          remedy: `Make ${this.home} writable by you, or set DEV_PORTS_HOME to a folder you can write to.`,
        });
      }
    }
    // The holder is looked at (and a stale lock broken) at the first try and then every 50 ms: staleness takes
    // 0.5 s at least, and each look costs reads that slow down everyone queued for the lock.
    const now = Date.now();
    let look: LockLook | undefined;
    if (attempt === 0 || Math.abs(now - state.lastLook) >= LOCK_LOOK_EVERY_MS) {
      state.lastLook = now;
      look = this.breakLockIfStale();
      state.holder = look.kind === 'held' ? look : undefined;
    }
    this.assertWithinBound(startedAt, state.holder);
    if (look === undefined) return 1 + Math.floor(Math.random() * 3);
    // Broken or vanished: try again at once, the first few times; a lock that keeps coming back gets waits too.
    if (look.kind === 'broken' && attempt < 3) {
      state.lastLook = -Infinity; // look again at once if it comes back
      return 0;
    }
    // Short, slightly random waits that grow a little: holders keep the lock for well under a millisecond, and a
    // waiter that sleeps longer than that leaves the lock idle while 8 reservers queue for it.
    return Math.min(1 + (attempt >> 2), 4) + Math.floor(Math.random() * 2);
  }

  /** Looks at the taken lock and breaks it when stale (see `withLock`). 'broken' also when it vanished meanwhile. */
  private breakLockIfStale(): LockLook {
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(this.lockFile);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return { kind: 'broken' };
      throw new LedgerError(`Cannot read the ledger lock ${this.lockFile}: ${(e as Error).message}`, { cause: e });
    }
    if (!stat.isFile()) {
      // Dev Ports only ever writes a regular file here: a symbolic link (dangling or not) or a folder is debris.
      const what = stat.isSymbolicLink() ? 'a symbolic link' : 'not a regular file';
      try {
        if (stat.isDirectory()) fs.rmdirSync(this.lockFile);
        else fs.unlinkSync(this.lockFile);
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') {
          throw new LedgerError(`The ledger lock ${this.lockFile} is ${what} that cannot be removed: ${(e as Error).message}`, {
            cause: e,
            remedy: `Delete ${this.lockFile}.`,
          });
        }
      }
      this.logger.warn(`[ledger] Removed the ledger lock ${this.lockFile}: it was ${what}, not a lock Dev Ports writes.`);
      return { kind: 'broken' };
    }
    let text: string;
    try {
      text = readNoFollow(this.lockFile);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ELOOP') return { kind: 'broken' };
      throw new LedgerError(`Cannot read the ledger lock ${this.lockFile}: ${(e as Error).message}`, { cause: e });
    }
    let holder: { pid?: unknown; time?: unknown } = {};
    try {
      holder = JSON.parse(text) as typeof holder;
    } catch {
      // Empty between the holder's open and write, or left by a crash there: only its age can tell.
    }
    const pid = typeof holder.pid === 'number' && Number.isInteger(holder.pid) && holder.pid > 0 ? holder.pid : undefined;
    const time = typeof holder.time === 'number' && Number.isFinite(holder.time) ? holder.time : stat.mtimeMs;
    const ageMs = Date.now() - time;
    const limit = pid === undefined ? LOCK_UNREADABLE_STALE_MS : LOCK_STALE_MS;
    const dead = pid !== undefined && pid !== process.pid && !this.alive(pid);
    const old = ageMs > limit;
    // Stamped in the future: the clock was stepped back after the holder wrote it; its age cannot be trusted.
    const future = ageMs < -limit;
    if (!dead && !old && !future) return { kind: 'held', pid, ageMs };
    // Rename, then verify we took the stale lock we judged and not a fresh one created since our read.
    const taken = `${this.lockFile}.broken-${uniqueSuffix()}`;
    try {
      fs.renameSync(this.lockFile, taken);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return { kind: 'broken' };
      throw new LedgerError(`Cannot break the ledger lock ${this.lockFile}: ${(e as Error).message}`, { cause: e });
    }
    let takenText = '';
    try {
      takenText = readNoFollow(taken);
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
      return { kind: 'held', pid, ageMs: 0 };
    }
    this.unlinkQuietly(taken);
    const why = dead ? 'process gone' : future ? `stamped ${Math.round(-ageMs / 1000)} s in the future: the clock was stepped back` : `older than ${limit / 1000} s`;
    this.logger.warn(`[ledger] Broke the ledger lock of ${pid !== undefined ? `PID ${pid}` : 'an unknown process'} (${why}).`);
    return { kind: 'broken' };
  }
}

/** Exported for the allocator's sweep: an allocation stamped further in the future than this was made before the clock was stepped back. */
export const LEDGER_FUTURE_SLACK_MS = FUTURE_SLACK_MS;
