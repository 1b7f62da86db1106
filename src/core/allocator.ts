/**
 * The allocation policy: which port a project gets, when it is given back, what counts as stale. Works over a
 * Memento-shaped store (this window's allocations), the machine-wide ledger (everyone's reservations) and an
 * injected `PortOs`. Nothing here imports `vscode` or calls the OS directly.
 *
 * Beware the race no port tool can close: between "the OS says the port is free" and "the dev server binds it",
 * any process may take the port. The ledger narrows that window for everyone who respects it (VS Code windows,
 * the CLI, library users): a port, picked from the range or asked for, is claimed in the ledger first and checked
 * at the OS second (released again when busy), so no reserver probes, or gets, a port another has just claimed; the claim
 * is the reservation the others respect. A process that ignores the ledger can still win the port; the dev server then fails with
 * EADDRINUSE (or drifts, which the adapters detect and report through `movePort`).
 */
import { OsAccessError } from '../os/errors';
import type { KillResult, PortOs } from '../os/types';
import { NoFreePortError, PermissionDeniedError, PortInUseError, PortReservedError } from './errors';
import { LEDGER_FUTURE_SLACK_MS, Ledger, type LedgerEntry, type LedgerOwner } from './ledger';
import type { MetricsSink } from './metrics';
import { silentLogger, systemClock, type Allocation, type Clock, type Logger, type PortRange, type StateStore } from './types';
import { assertDuration, assertPid, assertProjectId, assertValidPort, assertValidRange, isValidPort } from './validate';

/** Key of the allocations in the store (VS Code: `workspaceState`). */
export const ALLOCATIONS_KEY = 'devPorts.allocations';
export const DEFAULT_PORT_RANGE: PortRange = Object.freeze({ start: 3000, end: 3999 });
export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;
export const DEFAULT_GRACE_PERIOD_MS = 3000;

export interface AllocatorOptions {
  store: StateStore;
  ledger: Ledger;
  os: PortOs;
  clock?: Clock;
  logger?: Logger;
  /** Read on each call (settings can change). Default 3000-3999. */
  range?: () => PortRange;
  /** Who reserves: recorded in the ledger so a crashed owner's entries can be recognised as orphaned. Leave it
   * out for reservations that must outlive this process (the CLI). */
  owner?: LedgerOwner;
  /** Time between SIGTERM and SIGKILL when `forceKillIfOccupied` frees a port. Default 3000. */
  gracePeriodMs?: () => number;
  /** Age after which an allocation whose port is free is stale. Default 5 minutes. */
  staleAfterMs?: () => number;
  /** PIDs never to kill when freeing a port (e.g. the editor's own processes). */
  protectedPids?: () => number[];
  /** Counts allocations, releases, conflicts, sweeps and drifts (see src/core/metrics.ts). */
  metrics?: MetricsSink;
}

export interface AllocateOptions {
  preferredPort?: number;
  forceKillIfOccupied?: boolean;
  range?: PortRange;
  /** Root PID of the dev server, when already known. */
  pid?: number;
}

export interface Disposable {
  dispose(): void;
}

/** The smallest event emitter that does the job; the VS Code adapter wraps it into a `vscode.Event`. */
class ChangeEmitter {
  private readonly listeners = new Set<() => void>();
  constructor(private readonly logger: Logger) {}
  readonly event = (listener: () => void): Disposable => {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  };
  fire(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (e) {
        this.logger.error(`[allocator] A change listener threw: ${(e as Error).message}`);
      }
    }
  }
}

/**
 * Reads the stored allocations, keeping every valid one. A corrupted value (not an array, entries of the wrong
 * shape, duplicate projects) is reported through `report` and the valid entries are kept.
 *
 * @example
 * parseAllocations([{ projectId: '/a', port: 3000, allocatedAt: 1 }, 42], console.warn); // one allocation, one warning
 */
export function parseAllocations(value: unknown, report: (problem: string) => void): Allocation[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    report(`the stored allocations are not a list (${typeof value}); starting from none`);
    return [];
  }
  const result: Allocation[] = [];
  const seen = new Set<string>();
  value.forEach((item: unknown, index) => {
    const a = item as Partial<Allocation> | null;
    const valid =
      typeof a === 'object' &&
      a !== null &&
      typeof a.projectId === 'string' &&
      a.projectId !== '' &&
      isValidPort(a.port) &&
      typeof a.allocatedAt === 'number' &&
      Number.isFinite(a.allocatedAt) &&
      (a.pid === undefined || (Number.isInteger(a.pid) && a.pid > 0));
    if (!valid) {
      report(`skipping stored allocation #${index}: ${JSON.stringify(item) ?? String(item)} is not { projectId, port, allocatedAt, pid? }`);
      return;
    }
    if (seen.has(a.projectId!)) {
      report(`skipping stored allocation #${index}: a second allocation of ${a.projectId}`);
      return;
    }
    seen.add(a.projectId!);
    const allocation: Allocation = { projectId: a.projectId!, port: a.port!, allocatedAt: a.allocatedAt! };
    if (a.pid !== undefined) allocation.pid = a.pid;
    result.push(allocation);
  });
  return result;
}

/** Gives `entry` the owner of `from` (or none, as `from` has). */
function keepOwner(entry: LedgerEntry, from: LedgerEntry): void {
  if (from.owner) entry.owner = { ...from.owner };
  else delete entry.owner;
}

function toAllocation(entry: LedgerEntry): Allocation {
  const allocation: Allocation = { projectId: entry.projectId, port: entry.port, allocatedAt: entry.allocatedAt };
  if (entry.pid !== undefined) allocation.pid = entry.pid;
  return allocation;
}

function isStale(
  a: Allocation,
  threshold: number,
  now: number,
  listening: Set<number>,
  isAlive: (pid: number) => boolean,
): boolean {
  // An allocation stamped in the future was made before the clock was stepped back: its age is unknown, not young.
  if (now - a.allocatedAt < threshold && a.allocatedAt <= now + LEDGER_FUTURE_SLACK_MS) return false;
  if (listening.has(a.port)) return false;
  // A dev server that is still alive (e.g. restarting, or not listening yet) keeps its port.
  return a.pid === undefined || !isAlive(a.pid);
}

/**
 * Releases stale entries of the whole machine-wide ledger: older than `olderThanMs`, port not listening (one
 * snapshot of the OS for the whole sweep) and recorded dev-server PID gone. Used by `dev-ports cleanup`.
 *
 * @example
 * const released = await cleanupStaleLedgerEntries(new Ledger(), nodeOs, { olderThanMs: 10 * 60_000 });
 */
export async function cleanupStaleLedgerEntries(
  ledger: Ledger,
  os: PortOs,
  options: { olderThanMs?: number; now?: number; logger?: Logger } = {},
): Promise<Allocation[]> {
  const threshold = options.olderThanMs ?? DEFAULT_STALE_AFTER_MS;
  assertDuration(threshold, 'The stale age');
  const logger = options.logger ?? silentLogger;
  const listening = await os.listeningPorts();
  const now = options.now ?? Date.now();
  const released = await ledger.withLockAsync(() => {
    const out: Allocation[] = [];
    for (const entry of ledger.entries()) {
      if (!isStale(entry, threshold, now, listening, (pid) => os.isProcessAlive(pid))) continue;
      if (ledger.release(entry.port, entry.projectId)) out.push(toAllocation(entry));
    }
    return out;
  });
  logger.info(`[ledger] Stale cleanup released ${released.length} reservation(s)${released.length ? `: ${released.map((a) => a.port).join(', ')}` : ''}.`);
  return released;
}

/**
 * Hands out ports to projects and takes them back.
 *
 * @example
 * const allocator = new PortAllocator({ store: createMemoryStore(), ledger: new Ledger(), os: nodeOs });
 * const { port } = await allocator.allocate('/home/me/shop/apps/web');
 */
export class PortAllocator {
  private readonly store: StateStore;
  private readonly ledger: Ledger;
  private readonly os: PortOs;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly options: AllocatorOptions;
  private readonly emitter: ChangeEmitter;
  /** Serialises this allocator's changes: each one is a read-modify-write of the store. */
  private queue: Promise<unknown> = Promise.resolve();
  private lastStoreProblem = '';

  /** Fires after every change of the allocations. */
  readonly onDidChange: (listener: () => void) => Disposable;

  constructor(options: AllocatorOptions) {
    this.options = options;
    this.store = options.store;
    this.ledger = options.ledger;
    this.os = options.os;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.emitter = new ChangeEmitter(this.logger);
    this.onDidChange = this.emitter.event;
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private readStore(): Allocation[] {
    const raw = this.store.get<unknown>(ALLOCATIONS_KEY);
    const problems: string[] = [];
    const list = parseAllocations(raw, (p) => problems.push(p));
    const key = problems.join('\n');
    if (key && key !== this.lastStoreProblem) for (const p of problems) this.logger.warn(`[allocator] ${p}`);
    this.lastStoreProblem = key;
    return list;
  }

  private async writeStore(list: Allocation[]): Promise<void> {
    await this.store.update(ALLOCATIONS_KEY, list);
  }

  private currentRange(): PortRange {
    const range = this.options.range?.() ?? DEFAULT_PORT_RANGE;
    assertValidRange(range);
    return { start: range.start, end: range.end };
  }

  private entryFor(projectId: string, port: number, allocatedAt: number, pid?: number): LedgerEntry {
    const entry: LedgerEntry = { projectId, port, allocatedAt };
    if (pid !== undefined) entry.pid = pid;
    if (this.options.owner) entry.owner = { ...this.options.owner };
    return entry;
  }

  /** Ports that other projects hold and that this project must not get. */
  private heldByOthers(projectId: string): Set<number> {
    // One directory listing, no entry read: orphaned reservations stay excluded until a sweep or a --port takes them.
    const held = this.ledger.heldPorts(projectId);
    for (const a of this.readStore()) if (a.projectId !== projectId) held.add(a.port);
    return held;
  }

  private async suggest(projectId: string, range: PortRange, busy: number): Promise<number | undefined> {
    try {
      return await this.os.findAvailablePort(range.start, range.end, { exclude: [...this.heldByOthers(projectId), busy] });
    } catch (e) {
      this.logger.warn(`[allocator] Could not look for another free port: ${(e as Error).message}`);
      return undefined;
    }
  }

  /**
   * Every allocation of this store.
   *
   * @example
   * allocator.getAllocations().map((a) => a.port);
   */
  getAllocations(): Allocation[] {
    return this.readStore();
  }

  /**
   * The allocation of one project, if any.
   *
   * @example
   * allocator.getAllocation('/home/me/shop/apps/web')?.port;
   */
  getAllocation(projectId: string): Allocation | undefined {
    return this.readStore().find((a) => a.projectId === projectId);
  }

  /**
   * The project's reservation in the machine-wide ledger, whoever made it (this window, another window, the CLI).
   *
   * @example
   * allocator.reservation('/home/me/shop/apps/web')?.owner; // { pid: 4242, kind: 'vscode' }
   */
  reservation(projectId: string): LedgerEntry | undefined {
    return this.ledger.findByProject(projectId);
  }

  /**
   * Gives `projectId` a port: its existing one while it still holds it, else `preferredPort` (if free and not
   * reserved by another project), else the first port of the range that is neither reserved nor in use.
   * Throws `PortReservedError`, `PortInUseError` (holders and a suggested port), `NoFreePortError` or
   * `InvalidInputError`.
   *
   * @example
   * const { port } = await allocator.allocate('/src/web', { preferredPort: 3000, forceKillIfOccupied: false });
   */
  async allocate(projectId: string, options: AllocateOptions = {}): Promise<Allocation> {
    assertProjectId(projectId);
    if (options.preferredPort !== undefined) assertValidPort(options.preferredPort, 'The preferred port');
    if (options.range !== undefined) assertValidRange(options.range);
    if (options.pid !== undefined) assertPid(options.pid);
    const range = options.range ? { start: options.range.start, end: options.range.end } : this.currentRange();
    return await this.serialize(async () => {
      const existing = await this.keepExisting(projectId, options.pid);
      if (existing && (options.preferredPort === undefined || options.preferredPort === existing.port)) {
        if (await this.remember(existing)) this.emitter.fire();
        return existing;
      }
      const allocation =
        options.preferredPort !== undefined
          ? await this.claimPreferred(projectId, options.preferredPort, range, options, existing)
          : await this.claimFromRange(projectId, range, options.pid);
      await this.remember(allocation);
      this.logger.info(`[allocator] Allocated port ${allocation.port} to ${allocation.projectId}.`);
      this.options.metrics?.count('allocation');
      this.emitter.fire();
      return allocation;
    });
  }

  /** Stores (or replaces) the project's allocation. True when the store changed. */
  private async remember(allocation: Allocation): Promise<boolean> {
    const list = this.readStore();
    const index = list.findIndex((a) => a.projectId === allocation.projectId);
    const current = index >= 0 ? list[index] : undefined;
    if (current && JSON.stringify(current) === JSON.stringify(allocation)) return false;
    if (index >= 0) list[index] = allocation;
    else list.push(allocation);
    await this.writeStore(list);
    return true;
  }

  /**
   * The project's existing allocation when it still holds it (store first, else the ledger), re-claimed in the
   * ledger under our owner. A stored allocation whose port another project took meanwhile is dropped.
   */
  private async keepExisting(projectId: string, pid: number | undefined): Promise<Allocation | undefined> {
    const stored = this.readStore().find((a) => a.projectId === projectId);
    // Nothing to keep: no lock taken (claimFromRange looks at the ledger again under its lock).
    if (!stored && !this.ledger.findByProject(projectId)) return undefined;
    return await this.ledger.withLockAsync(() => {
      if (stored) {
        const entry = this.entryFor(projectId, stored.port, stored.allocatedAt, pid ?? stored.pid);
        const held = this.ledger.get(stored.port);
        if (!held || held.projectId === projectId) {
          if (this.ledger.tryClaim(entry)) return toAllocation(entry);
        }
        this.logger.warn(
          `[allocator] ${projectId} had port ${stored.port}, but ${held?.projectId ?? 'another project'} reserved it meanwhile; allocating another port.`,
        );
        return undefined;
      }
      const inLedger = this.ledger.findByProject(projectId);
      if (!inLedger) return undefined;
      const entry = this.entryFor(projectId, inLedger.port, inLedger.allocatedAt, pid ?? inLedger.pid);
      // CLI and library reservations keep who made them (they outlive their process); a window's is adopted.
      if (!inLedger.owner || inLedger.owner.kind !== 'vscode') keepOwner(entry, inLedger);
      return this.ledger.tryClaim(entry) ? toAllocation(entry) : undefined;
    });
  }

  private async claimPreferred(
    projectId: string,
    port: number,
    range: PortRange,
    options: AllocateOptions,
    previous: Allocation | undefined,
  ): Promise<Allocation> {
    const reserved = this.ledger.get(port);
    if (reserved && reserved.projectId !== projectId && !this.ledger.isOrphaned(reserved)) {
      this.options.metrics?.count('conflict');
      throw new PortReservedError(port, reserved.projectId, reserved.allocatedAt, await this.suggest(projectId, range, port));
    }
    // Claim first, then ask the OS (as claimFromRange does): two reservers of one --port never probe it at the same
    // moment, where each would see the other's probe bind and blame it ("in use by dev-ports reserve"); the loser
    // sees the winner's claim instead and is told who won.
    const entry = this.entryFor(projectId, port, this.clock.now(), options.pid ?? previous?.pid);
    const claim = await this.ledger.withLockAsync((): { blocker: LedgerEntry } | { newlyClaimed: boolean } => {
      const current = this.ledger.get(port);
      if (current && current.projectId !== projectId) {
        if (!this.ledger.isOrphaned(current)) return { blocker: current };
        // Its owner and dev server are gone: take it over (the OS is asked next; a busy port gives the claim back).
        this.ledger.release(port, current.projectId);
        this.logger.info(`[allocator] Took over port ${port} from the orphaned reservation of ${current.projectId}.`);
      }
      const hadIt = current?.projectId === projectId;
      if (!this.ledger.tryClaim(entry)) return { blocker: this.ledger.get(port) ?? entry };
      return { newlyClaimed: !hadIt };
    });
    if ('blocker' in claim) {
      this.options.metrics?.count('conflict');
      throw new PortReservedError(port, claim.blocker.projectId, claim.blocker.allocatedAt, await this.suggest(projectId, range, port));
    }
    // A claim this call made is given back when the port cannot be had; one the project held before is kept.
    const giveBack = async (): Promise<void> => {
      if (claim.newlyClaimed) await this.ledger.withLockAsync(() => this.ledger.release(port, projectId));
    };
    let free: boolean;
    try {
      free = await this.os.isPortAvailable(port);
    } catch (e) {
      await giveBack();
      throw e;
    }
    if (!free) {
      this.options.metrics?.count('conflict');
      if (!options.forceKillIfOccupied) {
        await giveBack();
        const listeners = await this.os.listListeners(port);
        throw new PortInUseError(port, listeners, await this.suggest(projectId, range, port));
      }
      let result: KillResult;
      try {
        result = await this.os.killProcessesOnPort(port, {
          gracePeriodMs: this.options.gracePeriodMs?.() ?? DEFAULT_GRACE_PERIOD_MS,
          protectedPids: this.options.protectedPids?.(),
        });
      } catch (e) {
        await giveBack();
        if (e instanceof OsAccessError && e.code === 'EPERM') {
          const name = e.command?.split(/\s+/)[0];
          throw new PermissionDeniedError(port, { pid: e.pid, uid: e.uid, user: e.user, command: e.command, name: name ? name.split('/').pop() : undefined }, { cause: e });
        }
        throw e;
      }
      this.logger.info(
        `[allocator] Freed port ${port} for ${projectId}: stopped PID(s) ${result.killedPids.join(', ') || 'none'}; ${result.free ? 'free now' : 'still in use'}.`,
      );
      if (!result.free) {
        await giveBack();
        const listeners = await this.os.listListeners(port);
        throw new PortInUseError(port, listeners, await this.suggest(projectId, range, port));
      }
    }
    if (previous && previous.port !== port) await this.ledger.withLockAsync(() => this.ledger.release(previous.port, projectId));
    return toAllocation(entry);
  }

  /**
   * Claim first, then ask the OS: under one lock (one listing of the ledger folder) the first port after `from`
   * that no project holds is claimed; only then is it bound to check the OS. A port the OS says is busy is released
   * and the scan goes on after it, never back to the start. So concurrent reservers never pick the same port (the
   * lock and `link()` decide) and nobody's bind probe lands on a port another reserver has just claimed (the probe
   * could make that reserver's dev server fail with EADDRINUSE).
   */
  private async claimFromRange(projectId: string, range: PortRange, pid: number | undefined): Promise<Allocation> {
    let from = range.start;
    for (;;) {
      const entry = this.entryFor(projectId, 0, this.clock.now(), pid);
      const claimed = await this.ledger.withLockAsync((): { allocation: Allocation; probe: boolean } | undefined => {
        // Another process (a second window, the CLI) may have reserved for this very project since we looked.
        const mine = this.ledger.findByProject(projectId);
        if (mine) return { allocation: toAllocation(mine), probe: false };
        const held = this.ledger.heldPortsView();
        const stored = new Set<number>();
        for (const a of this.readStore()) if (a.projectId !== projectId) stored.add(a.port);
        for (let port = from; port <= range.end; port++) {
          if (held.has(port) || stored.has(port)) continue;
          entry.port = port;
          // false: a file appeared since the listing (a reserver that ignores the lock): the next port.
          if (this.ledger.tryClaim(entry)) return { allocation: toAllocation(entry), probe: true };
        }
        return undefined;
      });
      if (claimed === undefined) throw new NoFreePortError(range);
      if (!claimed.probe) return claimed.allocation;
      const port = claimed.allocation.port;
      let free: boolean;
      try {
        free = await this.os.isPortAvailable(port);
      } catch (e) {
        if (!(e instanceof OsAccessError && e.code === 'EACCES')) {
          await this.ledger.withLockAsync(() => this.ledger.release(port, projectId));
          throw e;
        }
        free = false; // a port that cannot be checked (privileged) counts as not available
      }
      if (free) return claimed.allocation;
      // Someone outside the ledger listens there: give the claim back and go on after it.
      await this.ledger.withLockAsync(() => this.ledger.release(port, projectId));
      from = port + 1;
    }
  }

  /**
   * Records (or clears) the dev server's root PID of a project's allocation, in the store and the ledger.
   *
   * @example
   * await allocator.setPid('/src/web', terminalPid);
   */
  async setPid(projectId: string, pid: number | undefined): Promise<void> {
    assertProjectId(projectId);
    if (pid !== undefined) assertPid(pid);
    return await this.serialize(async () => {
      const list = this.readStore();
      const allocation = list.find((a) => a.projectId === projectId);
      if (!allocation) {
        this.logger.warn(`[allocator] Cannot record PID ${pid ?? '(none)'} for ${projectId}: it has no allocation.`);
        return;
      }
      if (allocation.pid === pid) return;
      if (pid === undefined) delete allocation.pid;
      else allocation.pid = pid;
      await this.writeStore(list);
      await this.ledger.withLockAsync(() => {
        const held = this.ledger.get(allocation.port);
        if (held && held.projectId !== projectId) return;
        const entry = this.entryFor(projectId, allocation.port, allocation.allocatedAt, pid);
        if (held && (!held.owner || held.owner.kind !== 'vscode')) keepOwner(entry, held);
        this.ledger.update(entry);
      });
      // Debug: the caller knows what the PID is (a terminal's shell) and says so in its own line.
      this.logger.debug?.(`[allocator] ${projectId} on port ${allocation.port}: root PID ${pid ?? 'cleared'}.`);
      this.emitter.fire();
    });
  }

  /**
   * The dev server ended up on another port (a framework drifted): move the allocation there, ledger too.
   * Throws `PortReservedError` when another project holds that port in the ledger.
   *
   * @example
   * await allocator.movePort('/src/web', 5174);
   */
  async movePort(projectId: string, port: number): Promise<Allocation> {
    assertProjectId(projectId);
    assertValidPort(port);
    return await this.serialize(async () => {
      const previous = this.readStore().find((a) => a.projectId === projectId);
      if (previous?.port === port) return previous;
      const entry = this.entryFor(projectId, port, this.clock.now(), previous?.pid);
      const blocker = await this.ledger.withLockAsync(() => {
        const current = this.ledger.get(port);
        if (current && current.projectId !== projectId) {
          if (!this.ledger.isOrphaned(current)) return current;
          this.ledger.release(port, current.projectId);
        }
        if (!this.ledger.tryClaim(entry)) return this.ledger.get(port) ?? entry;
        if (previous) this.ledger.release(previous.port, projectId);
        return undefined;
      });
      if (blocker) throw new PortReservedError(port, blocker.projectId, blocker.allocatedAt);
      const allocation = toAllocation(entry);
      await this.remember(allocation);
      this.logger.info(`[allocator] Moved ${projectId} from port ${previous?.port ?? '(none)'} to ${port}.`);
      this.options.metrics?.count('drift');
      this.emitter.fire();
      return allocation;
    });
  }

  /**
   * Releases the project's port, in the store and the ledger. True when something was released.
   *
   * @example
   * await allocator.releasePortForProject('/src/web'); // true
   */
  async releasePortForProject(projectId: string): Promise<boolean> {
    assertProjectId(projectId);
    return await this.serialize(async () => {
      const list = this.readStore();
      const stored = list.find((a) => a.projectId === projectId);
      if (stored) await this.writeStore(list.filter((a) => a !== stored));
      const fromLedger = await this.ledger.withLockAsync(() => {
        let released = 0;
        for (const e of this.ledger.entries()) if (e.projectId === projectId && this.ledger.release(e.port, projectId)) released++;
        return released;
      });
      const released = stored !== undefined || fromLedger > 0;
      if (released) {
        this.logger.info(`[allocator] Released port ${stored?.port ?? '(ledger only)'} of ${projectId}.`);
        this.options.metrics?.count('release');
        this.emitter.fire();
      }
      return released;
    });
  }

  /**
   * Releases every allocation of this store (and their ledger entries), and the reservations the CLI (or an owner
   * that is gone) made for `projectIds` (the workspace's projects). Another live window's reservations are left to
   * it. Returns how many reservations were released.
   *
   * @example
   * const count = await allocator.releaseAllPortAllocations({ projectIds: ['/src/web', '/src/api'] });
   */
  async releaseAllPortAllocations(options: { projectIds?: Iterable<string> } = {}): Promise<number> {
    const projects = new Set(options.projectIds ?? []);
    return await this.serialize(async () => {
      const list = this.readStore();
      await this.writeStore([]);
      const released = new Set<string>();
      await this.ledger.withLockAsync(() => {
        for (const a of list) {
          this.ledger.release(a.port, a.projectId);
          released.add(`${a.projectId}\0${a.port}`);
        }
        for (const e of this.ledger.entries()) {
          if (!projects.has(e.projectId)) continue;
          const mine = e.owner?.pid === this.options.owner?.pid && e.owner?.kind === this.options.owner?.kind;
          const cli = !e.owner || e.owner.kind === 'cli';
          if ((mine || cli || this.ledger.isOrphaned(e)) && this.ledger.release(e.port, e.projectId)) released.add(`${e.projectId}\0${e.port}`);
        }
      });
      const ports = [...released].map((k) => k.split('\0')[1]);
      this.logger.info(`[allocator] Released all ${released.size} reservation(s)${ports.length ? `: ${ports.join(', ')}` : ''}.`);
      this.options.metrics?.count('release', released.size);
      if (released.size > 0) this.emitter.fire();
      return released.size;
    });
  }

  /**
   * Releases allocations older than `olderThanMs` whose port is free at the OS level and whose recorded PID is
   * gone. Takes one snapshot of the listening ports for the whole sweep. Returns the released allocations.
   *
   * @example
   * const released = await allocator.cleanupStalePortAllocations({ olderThanMs: 10 * 60_000 });
   */
  async cleanupStalePortAllocations(options: { olderThanMs?: number } = {}): Promise<Allocation[]> {
    const threshold = options.olderThanMs ?? this.options.staleAfterMs?.() ?? DEFAULT_STALE_AFTER_MS;
    assertDuration(threshold, 'The stale age');
    return await this.serialize(async () => {
      const list = this.readStore();
      this.options.metrics?.count('sweep');
      if (list.length === 0) return [];
      const listening = await this.os.listeningPorts();
      const now = this.clock.now();
      const stale = list.filter((a) => isStale(a, threshold, now, listening, (pid) => this.os.isProcessAlive(pid)));
      if (stale.length > 0) {
        await this.writeStore(list.filter((a) => !stale.includes(a)));
        await this.ledger.withLockAsync(() => {
          for (const a of stale) this.ledger.release(a.port, a.projectId);
        });
      }
      this.logger.info(
        `[allocator] Stale sweep: ${stale.length} of ${list.length} allocation(s) released${stale.length ? ` (${stale.map((a) => `${a.port} of ${a.projectId}`).join(', ')})` : ''}.`,
      );
      this.options.metrics?.count('release', stale.length);
      if (stale.length > 0) this.emitter.fire();
      return stale;
    });
  }

  /**
   * Startup check: keeps allocations whose dev server PID is alive or whose port is in use (and not reserved by
   * another project), re-claiming them in the ledger; releases the rest.
   *
   * @example
   * const { kept, released } = await allocator.reconcile();
   */
  async reconcile(): Promise<{ kept: Allocation[]; released: Allocation[] }> {
    return await this.serialize(async () => {
      const list = this.readStore();
      if (list.length === 0) return { kept: [], released: [] };
      const listening = await this.os.listeningPorts();
      const kept: Allocation[] = [];
      const released: Allocation[] = [];
      await this.ledger.withLockAsync(() => {
        for (const a of list) {
          const running = (a.pid !== undefined && this.os.isProcessAlive(a.pid)) || listening.has(a.port);
          const held = this.ledger.get(a.port);
          const ours = !held || held.projectId === a.projectId || this.ledger.isOrphaned(held);
          if (running && ours) {
            if (held && held.projectId !== a.projectId) this.ledger.release(a.port, held.projectId);
            if (this.ledger.tryClaim(this.entryFor(a.projectId, a.port, a.allocatedAt, a.pid))) {
              kept.push(a);
              continue;
            }
          }
          if (held?.projectId === a.projectId) this.ledger.release(a.port, a.projectId);
          released.push(a);
        }
      });
      if (released.length > 0) await this.writeStore(kept);
      this.logger.info(
        `[allocator] Reconciled: kept ${kept.map((a) => a.port).join(', ') || 'none'}; released ${released.map((a) => a.port).join(', ') || 'none'}.`,
      );
      if (released.length > 0) this.emitter.fire();
      return { kept, released };
    });
  }
}
