/**
 * Stopping process trees and freeing ports: SIGTERM every process of the tree one by one, wait the grace period,
 * look again (children forked after the first walk, orphans re-parented to init but still in the tree's process
 * group) and SIGKILL what is left; then wait until the port is really free.
 *
 * Never a process-group kill (`kill(-pgid)`): the VS Code extension host shares its process group with the editor,
 * so a group kill from a tree that contains it would take the editor down. Never PID 1, this process, its
 * ancestors, or the caller's protected PIDs.
 */
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { errorCode, OsAccessError, ProtectedProcessError } from './errors';
import { readLinuxProcessInfo, userName } from './linuxListeners';
import { listListeners } from './listeners';
import { isPortAvailable, waitForPortAvailable } from './portCheck';
import { ancestors, descendants, readProcStat, snapshotProcessTable, type ProcessEntry, type ProcessTable } from './processTable';
import { assertPid, assertPort } from './validate';
import type { KillOptions, KillResult } from './types';

const POLL_MS = 25;
/** How long to wait for SIGKILLed processes to disappear. SIGKILL cannot be caught, so this only covers exit work in the kernel. */
const AFTER_KILL_MS = 2000;
/** Grace given to processes found only on the second look (forked after the first walk), before SIGKILL. */
const LATE_GRACE_MS = 500;

const isWindows = process.platform === 'win32';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * True when a process with this PID exists: signal 0 delivers nothing but checks; EPERM means it exists but belongs
 * to another user. A value that is not a positive integer is never alive (and never sent as a group signal).
 *
 * @example
 * isProcessAlive(process.pid); // true
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EPERM') return true;
    if (code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * Gone = no such PID, a zombie (dead, only waiting for its parent to reap it: on some systems PID 1 never does),
 * or the PID now belongs to a newer process than the one recorded.
 */
function isGone(pid: number, recorded?: ProcessEntry): boolean {
  if (!isProcessAlive(pid)) return true;
  if (process.platform !== 'linux') return false;
  const stat = readProcStat(pid);
  if (!stat) return true;
  if (stat.state === 'Z' || stat.state === 'X') return true;
  return recorded?.startTime !== undefined && stat.startTime !== recorded.startTime;
}

async function waitUntilGone(pids: ReadonlyMap<number, ProcessEntry | undefined>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  // Most processes are gone within a millisecond or two of SIGTERM: look again after 1, 2, 4 … ms (up to
  // POLL_MS) rather than paying a whole poll interval on every kill.
  let wait = 1;
  for (;;) {
    if ([...pids].every(([pid, entry]) => isGone(pid, entry))) return;
    if (Date.now() >= deadline) return;
    await sleep(wait);
    wait = Math.min(POLL_MS, wait * 2);
  }
}

interface Described {
  name: string;
  command: string;
  uid?: number;
  user?: string;
}

function describe(pid: number, table?: ProcessTable): Described {
  if (process.platform === 'linux') {
    const info = readLinuxProcessInfo(pid);
    if (info) return info;
  }
  const entry = table?.get(pid);
  const command = entry?.command ?? entry?.name ?? '';
  const name = entry?.name ?? (command ? path.basename(command.split(' ')[0]) : 'process');
  const uid = entry?.uid;
  return { name, command, uid, user: uid !== undefined && process.platform === 'linux' ? userName(uid) : undefined };
}

function label(pid: number, d: Described): string {
  return d.command ? `PID ${pid} (${d.command.length > 120 ? `${d.command.slice(0, 119)}…` : d.command})` : `PID ${pid}`;
}

/** Every PID that must never be signalled, with the reason, from a snapshot. */
function protectedPids(table: ProcessTable, options: KillOptions): Map<number, string> {
  const result = new Map<number, string>();
  for (const pid of options.protectedPids ?? []) result.set(pid, 'it is protected (one of the editor’s own processes)');
  for (const pid of ancestors(table, process.pid)) {
    result.set(pid, 'it is an ancestor of this process (the editor or terminal that runs Dev Ports)');
  }
  result.set(process.pid, 'it is this process (Dev Ports itself)');
  result.set(1, 'it is the system’s init process');
  if (isWindows) {
    result.set(0, 'it is the System Idle Process');
    result.set(4, 'it is the Windows System process');
  }
  return result;
}

function refuse(pid: number, reason: string, table: ProcessTable): ProtectedProcessError {
  return new ProtectedProcessError(`Refusing to stop ${label(pid, describe(pid, table))}: ${reason}.`, pid);
}

/** Signals one process; true when sent. ESRCH (already gone) is fine; EPERM and others are collected. */
function signal(pid: number, sig: NodeJS.Signals, errors: Error[], table: ProcessTable): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ESRCH') return false;
    if (code === 'EPERM') {
      const d = describe(pid, table);
      const owner = d.user ?? (d.uid !== undefined ? `uid ${d.uid}` : 'another user');
      errors.push(
        new OsAccessError(
          `Cannot stop ${label(pid, d)}: it belongs to ${d.user ? `user "${d.user}"` : owner}, not to you. Run as that user or with sudo.`,
          { code: 'EPERM', pid, uid: d.uid, user: d.user, command: d.command },
          { cause: err },
        ),
      );
      return false;
    }
    errors.push(err instanceof Error ? err : new Error(String(err)));
    return false;
  }
}

function throwCollected(errors: Error[], what: string): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${what}: ${errors.map((e) => e.message).join(' ')}`);
}

/** `snapshot`: a process table the caller took a moment ago (saves a second read of /proc on the port path). */
async function killTreePosix(pid: number, options: KillOptions, snapshot?: ProcessTable): Promise<number[]> {
  const grace = options.gracePeriodMs ?? 3000;
  const force = options.force ?? false;
  let table = snapshot ?? (await snapshotProcessTable());
  const guard = protectedPids(table, options);
  const reason = guard.get(pid);
  if (reason) throw refuse(pid, reason, table);
  const rootEntry = table.get(pid);
  if (!rootEntry || isGone(pid, rootEntry)) return [];

  const ourPgid = table.get(process.pid)?.pgid;
  const guardedPgids = new Set([...guard.keys()].map((p) => table.get(p)?.pgid).filter((g): g is number => g !== undefined));
  const targets = [pid, ...descendants(table, pid)].filter((p) => !guard.has(p));
  // Process groups of the tree, to find its members again after they were re-parented away from it; never a
  // group that also holds this process or a protected one.
  const groups = new Set(
    targets
      .map((p) => table.get(p)?.pgid)
      .filter((g): g is number => g !== undefined && g > 1 && g !== ourPgid && !guardedPgids.has(g)),
  );
  // Group members found in the second look must be orphans of the tree, never the root's own ancestors or a
  // session leader (a task's `bash -c` shares the group of what it started when there is no job control).
  const notInTree = new Set(ancestors(table, pid));
  const recorded = new Map<number, ProcessEntry | undefined>(targets.map((p) => [p, table.get(p)]));
  const signalled = new Map<number, ProcessEntry | undefined>();
  const errors: Error[] = [];

  const first: NodeJS.Signals = force ? 'SIGKILL' : 'SIGTERM';
  for (const target of targets) if (signal(target, first, errors, table)) signalled.set(target, recorded.get(target));
  if (!force) await waitUntilGone(signalled, grace);

  for (let round = 0; round < 3; round++) {
    table = await snapshotProcessTable();
    const survivors = new Map<number, ProcessEntry>();
    const consider = (p: number): void => {
      const entry = table.get(p);
      if (!entry || guard.has(p) || entry.state === 'Z' || entry.state === 'X') return;
      // Another user's process was already reported once; signalling it again would only repeat the EPERM.
      if (errors.some((e) => e instanceof OsAccessError && e.pid === p)) return;
      const before = recorded.get(p);
      if (before?.startTime !== undefined && entry.startTime !== before.startTime) return; // PID reused
      survivors.set(p, entry);
    };
    for (const p of recorded.keys()) {
      consider(p);
      if (table.has(p)) for (const child of descendants(table, p)) consider(child);
    }
    for (const entry of table.values()) {
      if (entry.pgid === undefined || !groups.has(entry.pgid) || notInTree.has(entry.pid) || entry.sid === entry.pid) continue;
      // Only orphans of the tree (their parent died and they were re-parented out of the group) or children of
      // what we recorded: a sibling started by the same script (`node a & node b`) shares the group but has a
      // live parent in it, and is not ours to stop.
      const parent = entry.ppid !== undefined ? table.get(entry.ppid) : undefined;
      const orphan = !parent || parent.pid <= 1 || parent.pgid !== entry.pgid;
      if (!orphan && !recorded.has(parent.pid)) continue;
      consider(entry.pid);
    }
    if (survivors.size === 0) break;

    const fresh = [...survivors.keys()].filter((p) => !recorded.has(p));
    for (const p of fresh) recorded.set(p, survivors.get(p));
    if (!force && fresh.length > 0 && round === 0) {
      const termed = new Map<number, ProcessEntry | undefined>();
      for (const p of fresh) if (signal(p, 'SIGTERM', errors, table)) termed.set(p, survivors.get(p));
      for (const [p, e] of termed) signalled.set(p, e);
      await waitUntilGone(termed, Math.min(grace, LATE_GRACE_MS));
    }
    const killed = new Map<number, ProcessEntry | undefined>();
    for (const [p, entry] of survivors) {
      if (isGone(p, entry)) continue;
      if (signal(p, 'SIGKILL', errors, table)) killed.set(p, entry);
    }
    for (const [p, e] of killed) signalled.set(p, e);
    await waitUntilGone(killed, AFTER_KILL_MS);
    if (killed.size === 0 && fresh.length === 0) break;
  }

  const gone = [...signalled].filter(([p, e]) => isGone(p, e)).map(([p]) => p);
  const stuck = [...signalled].filter(([p, e]) => !isGone(p, e)).map(([p]) => p);
  for (const p of stuck) errors.push(new Error(`${label(p, describe(p, table))} is still running after SIGKILL (it may be stuck in the kernel, e.g. on a hung disk or in a debugger).`));
  throwCollected(errors, `Could not stop every process of the tree of PID ${pid}`);
  return gone.sort((a, b) => a - b);
}

function taskkill(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('taskkill', args, { windowsHide: true }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

async function killTreeWindows(pid: number, options: KillOptions): Promise<number[]> {
  const grace = options.gracePeriodMs ?? 3000;
  const table = await snapshotProcessTable();
  const guard = protectedPids(table, options);
  const reason = guard.get(pid);
  if (reason) throw refuse(pid, reason, table);
  if (!isProcessAlive(pid)) return [];
  const targets = new Map<number, ProcessEntry | undefined>(
    [pid, ...descendants(table, pid)].filter((p) => !guard.has(p)).map((p) => [p, table.get(p)]),
  );
  if (!options.force) {
    // Without /F taskkill asks politely (WM_CLOSE); console programs such as node often ignore it, hence /F after the grace.
    await taskkill(['/PID', String(pid), '/T']);
    await waitUntilGone(targets, grace);
  }
  const errors: Error[] = [];
  if (![...targets].every(([p, e]) => isGone(p, e))) {
    await taskkill(['/PID', String(pid), '/T', '/F']);
    // Children whose parent already exited are no longer reachable through /T from the root: kill them by PID.
    for (const [p, e] of targets) if (!isGone(p, e)) await taskkill(['/PID', String(p), '/F']);
    await waitUntilGone(targets, AFTER_KILL_MS);
  }
  for (const [p, e] of targets) {
    if (isGone(p, e)) continue;
    const d = describe(p, table);
    errors.push(
      new OsAccessError(
        `Cannot stop ${label(p, d)}: it is still running after "taskkill /F". It may belong to another user or to the system; run as administrator.`,
        { code: 'EPERM', pid: p, command: d.command },
      ),
    );
  }
  throwCollected(errors, `Could not stop every process of the tree of PID ${pid}`);
  return [...targets.keys()].sort((a, b) => a - b);
}

/**
 * Stops the process `pid` and all its descendants: SIGTERM to each, then after `gracePeriodMs` SIGKILL to what is
 * left, including children forked meanwhile and orphans still in the tree's process group. Resolves to the PIDs
 * that were signalled and are gone. Throws `ProtectedProcessError` for PID 1, this process, its ancestors and
 * `protectedPids`; `OsAccessError` (EPERM) for another user's process; an `AggregateError` for several failures.
 *
 * @example
 * const gone = await killProcessTree(npmPid, { gracePeriodMs: 3000 }); // [npmPid, shPid, nodePid]
 */
export async function killProcessTree(pid: number, options: KillOptions = {}): Promise<number[]> {
  assertPid(pid);
  return isWindows ? killTreeWindows(pid, options) : killTreePosix(pid, options);
}

function childCount(table: ProcessTable, pid: number): number {
  let n = 0;
  for (const entry of table.values()) if (entry.ppid === pid && entry.state !== 'Z' && entry.state !== 'X') n++;
  return n;
}

function looksLikeShell(entry: ProcessEntry): boolean {
  const first = (entry.command ?? entry.name ?? '').trim().split(/\s+/)[0] ?? '';
  return /^-?(sh|bash|zsh|fish|dash|ksh|tcsh|csh|login)$/.test(path.basename(first));
}

/**
 * The root of what to stop for a holder: climbs from the holder through ancestors while they are in the holder's
 * process group (a job-control shell gives each job its own group, so `npm run dev` → sh → node climbs to npm),
 * are not the session leader (the terminal's shell), have no other child, are not protected and not PID 1.
 */
export function treeRoot(table: ProcessTable, holder: number, guard: ReadonlySet<number> | ReadonlyMap<number, unknown>): number {
  const holderEntry = table.get(holder);
  if (!holderEntry || holderEntry.pgid === undefined) return holder;
  let root = holder;
  const seen = new Set<number>([holder]);
  for (;;) {
    const parent = table.get(table.get(root)?.ppid ?? 0);
    if (!parent || parent.pid <= 1 || seen.has(parent.pid) || guard.has(parent.pid)) break;
    if (parent.pgid !== holderEntry.pgid) break;
    if (parent.sid !== undefined ? parent.sid === parent.pid : parent.pid === parent.pgid && looksLikeShell(parent)) break;
    // Climb only through a chain (npm → sh → node, nodemon → node): a parent with other children is a launcher
    // of several things (concurrently, npm-run-all, an editor), and freeing one port must not stop the others.
    if (childCount(table, parent.pid) > 1) break;
    seen.add(parent.pid);
    root = parent.pid;
  }
  return root;
}

/**
 * Frees `port`: finds its listeners, climbs from each to the root of its job (see {@link treeRoot}), stops those
 * trees, then waits up to `timeoutMs` until the port is free on every local address. Throws, never answers free,
 * when a holder cannot be seen or stopped (another user's process: `OsAccessError`; a protected one:
 * `ProtectedProcessError`).
 *
 * @example
 * const { killedPids, free } = await killProcessesOnPort(3000, { gracePeriodMs: 3000 });
 */
export async function killProcessesOnPort(port: number, options: KillOptions = {}): Promise<KillResult> {
  assertPort(port);
  const grace = options.gracePeriodMs ?? 3000;
  const timeoutMs = options.timeoutMs ?? grace + 2000;
  const killed = new Set<number>();
  const attempted = new Set<number>();
  const errors: Error[] = [];
  let free: boolean | undefined;

  // More than one round because a socket shared by several processes may show only one holder per scan.
  for (let round = 0; round < 3; round++) {
    const listeners = await listListeners(port);
    if (listeners.length === 0) break;
    const hidden = listeners.find((l) => l.pids.length === 0);
    if (hidden) {
      const user = hidden.ownerUid !== undefined ? (userName(hidden.ownerUid) ?? `uid ${hidden.ownerUid}`) : undefined;
      const owner = user ? `user "${user}"` : 'another user';
      throw new OsAccessError(
        `Port ${port} is held on ${hidden.address} by a process of ${owner}; Dev Ports cannot see or stop it. ` +
          `Stop it as that user, or run "sudo dev-ports free ${port}".`,
        { code: 'EACCES', port, uid: hidden.ownerUid, user: user?.startsWith('uid ') ? undefined : user },
      );
    }
    const holders = [...new Set(listeners.flatMap((l) => l.pids))].filter((p) => !attempted.has(p));
    if (holders.length === 0) break; // the same holders survived: their errors are reported below
    const table = await snapshotProcessTable();
    const guard = protectedPids(table, options);
    for (const holder of holders) {
      const reason = guard.get(holder);
      if (reason) {
        throw new ProtectedProcessError(
          `Port ${port} is held by ${label(holder, describe(holder, table))}, which Dev Ports will not stop: ${reason}.`,
          holder,
        );
      }
    }
    const roots = [...new Set(holders.map((h) => treeRoot(table, h, guard)))];
    const topRoots = roots.filter((r) => !roots.some((other) => other !== r && descendants(table, other).includes(r)));
    const results = await Promise.allSettled(
      topRoots.map((root) => (isWindows ? killProcessTree(root, options) : killTreePosix(root, options, table))),
    );
    for (const result of results) {
      if (result.status === 'fulfilled') result.value.forEach((p) => killed.add(p));
      else if (result.reason instanceof AggregateError) errors.push(...(result.reason.errors as Error[]));
      else errors.push(result.reason as Error);
    }
    holders.forEach((h) => attempted.add(h));
    free = await waitForPortAvailable(port, { timeoutMs });
    if (free) break;
  }

  if (free === undefined) {
    free = await isPortAvailable(port);
    if (!free && attempted.size === 0) {
      throw new OsAccessError(
        `Port ${port} is in use, but the process holding it cannot be seen (it may belong to another user, or run in a container or VM). ` +
          `Run "sudo dev-ports free ${port}", or stop it where it runs.`,
        { code: 'EACCES', port },
      );
    }
  }
  // Once the port is free, a process of the tree that could not be stopped (e.g. another user's child) no longer
  // matters to the caller, who asked for the port.
  if (!free) throwCollected(errors, `Port ${port} is still in use`);
  return { port, killedPids: [...killed].sort((a, b) => a - b), free };
}
