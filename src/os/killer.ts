import * as fs from 'fs';
/**
 * Stopping process trees and freeing ports: SIGTERM every process of the tree one by one, wait the grace period,
 * look again (children forked after the first walk, orphans re-parented to init but still in a process group the
 * tree leads) and SIGKILL what is left; then wait until the port is really free. Only the listener's own tree is
 * stopped: never a stranger that merely shares its process group (another server or helper of the script that
 * started it).
 *
 * Never a process-group kill (`kill(-pgid)`): the VS Code extension host shares its process group with the editor,
 * so a group kill from a tree that contains it would take the editor down. Never PID 1, this process, its
 * ancestors, or the caller's protected PIDs.
 */
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { errorCode, OsAccessError, ProtectedProcessError } from './errors';
import { inodesHeldBy, linuxListenerSockets, readLinuxProcessInfo, userName } from './linuxListeners';
import { listListeners } from './listeners';
import { procNetReadable } from './linuxToolListeners';
import { familiesBound, isPortAvailable } from './portCheck';
import { ancestors, descendants, LazyProcessTable, readProcStat, snapshotProcessTable, type ProcessEntry, type ProcessTable } from './processTable';
import { treeTable } from './treeTable';
import { assertPid, assertPort } from './validate';
import type { KillOptions, KillResult, Listener, ProcessInfo, StoppedProcess } from './types';

const POLL_MS = 25;
/** How long waitUntilGone looks every millisecond before backing off. */
const FAST_POLL_MS = 50;
/** How long to wait for this process to reap a stopped child (a zombie keeps its group populated) before a full look. */
const ZOMBIE_REAP_MS = 10;
/** How long to wait for SIGKILLed processes to disappear. SIGKILL cannot be caught, so this only covers exit work in the kernel. */
const AFTER_KILL_MS = 2000;
/** How long a background confirmation waits before its full look at every process (off the caller's next step). */
const BACKGROUND_LOOK_DELAY_MS = 25;
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
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ESRCH') return false;
    if (code !== 'EPERM') throw err;
  }
  // Signal 0 succeeds for a zombie too: a dev server that exited after its parent died stays one forever where
  // PID 1 never reaps (some containers, this project's CI machine), and would keep its allocation for good.
  return !isZombie(pid);
}

/** Linux: the process has exited and only waits to be reaped (state Z or X in /proc/<pid>/stat). */
function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (err) {
    return errorCode(err) === 'ENOENT';
  }
  // "<pid> (<comm>) <state> …": comm may hold spaces and parentheses, so the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

/** True when some process is still in process group `pgid` (signal 0 to the group delivers nothing). */
function groupHasMembers(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

/**
 * Gone = no such PID, a zombie (dead, only waiting for its parent to reap it: on some systems PID 1 never does),
 * or the PID now belongs to a newer process than the one recorded.
 */
function isGone(pid: number, recorded?: ProcessEntry): boolean {
  if (process.platform === 'linux' && Number.isInteger(pid) && pid > 0) {
    // One read of /proc/<pid>/stat answers all three (no such file: gone; the signal-0 probe would add a syscall).
    let stat;
    try {
      stat = readProcStat(pid);
    } catch {
      return !isProcessAlive(pid);
    }
    if (!stat) return true;
    if (stat.state === 'Z' || stat.state === 'X') return true;
    return recorded?.startTime !== undefined && stat.startTime !== recorded.startTime;
  }
  return !isProcessAlive(pid);
}

async function waitUntilGone(pids: ReadonlyMap<number, ProcessEntry | undefined>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  // Most processes are gone within a few milliseconds of SIGTERM: look every millisecond for the first
  // FAST_POLL_MS (a look is one signal 0 and one stat read per PID), then back off up to POLL_MS, rather than
  // paying up to twice the exit time on a doubling back-off.
  const fastUntil = Date.now() + FAST_POLL_MS;
  let wait = 1;
  for (;;) {
    if ([...pids].every(([pid, entry]) => isGone(pid, entry))) return;
    if (Date.now() >= deadline) return;
    await sleep(wait);
    if (Date.now() >= fastUntil) wait = Math.min(POLL_MS, wait * 2);
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

/** What one stop of a tree did: the PIDs signalled and gone, and who each was (read before it was signalled). */
interface TreeStop {
  gone: number[];
  stopped: StoppedProcess[];
}

/** Name, command line and owner of a process, read before it is signalled (afterwards it is gone). */
function stoppedEntry(pid: number, table: ProcessTable): StoppedProcess {
  const d = describe(pid, table);
  const entry: StoppedProcess = { pid, name: d.name, command: d.command };
  if (d.user !== undefined) entry.user = d.user;
  if (d.uid !== undefined) entry.uid = d.uid;
  return entry;
}

/**
 * A tree whose first signals are out: what was recorded and signalled, and who each one was. {@link confirmTreeStop}
 * then waits for it to be gone, and SIGKILLs what is left after the grace.
 */
interface TreeStopStart {
  pid: number;
  table: ProcessTable;
  guard: Map<number, string>;
  groups: Set<number>;
  notInTree: Set<number>;
  recorded: Map<number, ProcessEntry | undefined>;
  signalled: Map<number, ProcessEntry | undefined>;
  who: Map<number, StoppedProcess>;
  errors: Error[];
  send: (target: number, sig: NodeJS.Signals, t: ProcessTable) => boolean;
}

/**
 * Name, command line and owner of a process for `stopped`, from what is already known: the listener look-up's
 * `ProcessInfo` (a holder found by its port), else the table's entry (its stat and owner are read already) and one
 * read of its command line. Read before it is signalled: afterwards the command line is gone.
 */
function whoIs(pid: number, table: ProcessTable, known?: ReadonlyMap<number, ProcessInfo>): StoppedProcess {
  const info = known?.get(pid);
  if (info) {
    const entry: StoppedProcess = { pid, name: info.name, command: info.command };
    if (info.user !== undefined) entry.user = info.user;
    if (info.uid !== undefined) entry.uid = info.uid;
    return entry;
  }
  if (process.platform !== 'linux') return stoppedEntry(pid, table);
  const row = table.get(pid);
  let argv: string[] = [];
  try {
    argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    argv = [];
  }
  while (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
  if (!row) return stoppedEntry(pid, table);
  // As readLinuxProcessInfo: argv[0]'s base name (Node renames its main thread, so `comm` may read `MainThread`).
  const first = argv.length === 1 ? argv[0].split(' ')[0] : argv[0];
  const entry: StoppedProcess = { pid, name: first ? path.basename(first) : (row.name ?? 'process'), command: argv.length > 0 ? argv.join(' ') : `[${row.name ?? ''}]` };
  if (row.uid !== undefined) {
    entry.uid = row.uid;
    const user = userName(row.uid);
    if (user !== undefined) entry.user = user;
  }
  return entry;
}

/**
 * Reads the tree of `pid` and sends the first signal (SIGTERM, or SIGKILL with `force`) to each of its processes,
 * deepest first; undefined when `pid` is already gone. Throws `ProtectedProcessError` for a protected root.
 * Only this tree's processes are signalled, one by one (never its process group: telling that a group holds only
 * the tree would need a read of every process, which is what this avoids).
 *
 * `table`: a process table the caller took a moment ago (a lazy one reads only this tree);
 * `known`: what the caller already read of some processes (the holders), for `stopped`.
 */
function startTreeStop(pid: number, options: KillOptions, table: ProcessTable, known?: ReadonlyMap<number, ProcessInfo>): TreeStopStart | undefined {
  const force = options.force ?? false;
  const guard = protectedPids(table, options);
  const reason = guard.get(pid);
  if (reason) throw refuse(pid, reason, table);
  const rootEntry = table.get(pid);
  if (!rootEntry || isGone(pid, rootEntry)) return undefined;

  const ourPgid = table.get(process.pid)?.pgid;
  const guardedPgids = new Set([...guard.keys()].map((p) => table.get(p)?.pgid).filter((g): g is number => g !== undefined));
  const targets = [pid, ...descendants(table, pid)].filter((p) => !guard.has(p));
  // Groups of the tree whose leader is the root or one of its descendants: every member of such a group was
  // started from the tree. Never a group that also holds this process or a protected one.
  const inTree = new Set(targets);
  const groups = new Set(
    targets
      .map((p) => table.get(p)?.pgid)
      .filter((g): g is number => g !== undefined && g > 1 && inTree.has(g) && g !== ourPgid && !guardedPgids.has(g)),
  );
  // Group members found in the second look must be orphans of the tree, never the root's own ancestors or a
  // session leader (a task's `bash -c` shares the group of what it started when there is no job control).
  const notInTree = new Set(ancestors(table, pid));
  const recorded = new Map<number, ProcessEntry | undefined>(targets.map((p) => [p, table.get(p)]));
  const signalled = new Map<number, ProcessEntry | undefined>();
  const who = new Map<number, StoppedProcess>();
  const errors: Error[] = [];
  // A process of the tree that is already gone when its signal goes out (a cluster worker exits as soon as its
  // primary is stopped) was still stopped with the tree: it counts, as one that took the signal does.
  const send = (target: number, sig: NodeJS.Signals, t: ProcessTable): boolean => {
    if (!who.has(target)) who.set(target, whoIs(target, t, known));
    const before = errors.length;
    return signal(target, sig, errors, t) || errors.length === before;
  };

  // Who each one is, read before any signal goes out: once the root is stopped, the others may exit on their own
  // (cluster workers when their primary goes) and their command lines are gone. Then the signals, back to back.
  for (const target of targets) who.set(target, whoIs(target, table, known));
  const first: NodeJS.Signals = force ? 'SIGKILL' : 'SIGTERM';
  // Deepest first: a child that dies while its parent is still alive is reaped by that parent (a shell waiting on
  // its server); signalled root first, the child would be re-parented to init, and where init does not reap
  // (some containers) it stays a zombie in the group, which costs a full look below.
  for (const target of [...targets].reverse()) if (send(target, first, table)) signalled.set(target, recorded.get(target));
  return { pid, table, guard, groups, notInTree, recorded, signalled, who, errors, send };
}

/**
 * Waits for a started stop to be gone: the grace period, then a second look (children forked after the first walk,
 * as children of what was recorded, and orphans re-parented away from the tree through the tree's process group,
 * but only when the root leads that group: then every member of the group descends from the root; when the root is
 * not the group leader, the group holds strangers and only the tree itself is stopped), SIGKILL for what is left.
 * Throws the errors collected (another user's process, one stuck after SIGKILL). `background`: the caller has
 * already been answered, so the full look waits a little (see BACKGROUND_LOOK_DELAY_MS).
 */
async function confirmTreeStop(start: TreeStopStart, options: KillOptions, background = false): Promise<TreeStop> {
  const grace = options.gracePeriodMs ?? 3000;
  const force = options.force ?? false;
  const { pid, guard, groups, notInTree, recorded, signalled, who, errors, send } = start;
  let table = start.table;
  // The first look comes a millisecond later, off the caller's path: right after the signals nothing has exited yet.
  await sleep(1);
  if (!force) await waitUntilGone(signalled, grace);

  for (let round = 0; round < 3; round++) {
    // Nothing recorded is left and no group of the tree has a member (signal 0 to the group): no second snapshot.
    if ([...recorded].every(([p, e]) => isGone(p, e))) {
      // A zombie is still a member of its group until its parent reaps it: when that parent is this process
      // (a server it started), Node reaps on its next event-loop turn, so one short wait tells real members apart.
      let members = [...groups].some(groupHasMembers);
      // Waiting helps only for zombies this process will reap (its own children); others wait for their parent
      // (init, which in some containers never reaps), so the full look below comes at once.
      const ownZombie = () =>
        [...recorded.keys()].some((p) => {
          const st = readProcStat(p);
          return st !== undefined && (st.state === 'Z' || st.state === 'X') && st.ppid === process.pid;
        });
      for (let waited = 0; members && waited < ZOMBIE_REAP_MS && ownZombie(); waited++) {
        await sleep(1);
        members = [...groups].some(groupHasMembers);
      }
      if (members && background && round === 0) {
        // The full look below is one synchronous read of every process (3 ms at 300, 10 at 1000): in the
        // background it waits until the caller, who has its free port, has done its next step with it.
        await sleep(BACKGROUND_LOOK_DELAY_MS);
        members = [...groups].some(groupHasMembers);
      }
      if (!members) break;
    }
    // Relations only (parent, group, session, state, start time): the owners are read for what is signalled.
    table = await snapshotProcessTable(process.platform, { owners: false });
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
      for (const p of fresh) if (send(p, 'SIGTERM', table)) termed.set(p, survivors.get(p));
      for (const [p, e] of termed) signalled.set(p, e);
      await waitUntilGone(termed, Math.min(grace, LATE_GRACE_MS));
    }
    const killed = new Map<number, ProcessEntry | undefined>();
    for (const [p, entry] of survivors) {
      if (isGone(p, entry)) continue;
      if (send(p, 'SIGKILL', table)) killed.set(p, entry);
    }
    for (const [p, e] of killed) signalled.set(p, e);
    await waitUntilGone(killed, AFTER_KILL_MS);
    if (killed.size === 0 && fresh.length === 0) break;
  }

  const gone = [...signalled].filter(([p, e]) => isGone(p, e)).map(([p]) => p);
  const stuck = [...signalled].filter(([p, e]) => !isGone(p, e)).map(([p]) => p);
  for (const p of stuck) errors.push(new Error(`${label(p, describe(p, table))} is still running after SIGKILL (it may be stuck in the kernel, e.g. on a hung disk or in a debugger).`));
  throwCollected(errors, `Could not stop every process of the tree of PID ${pid}`);
  gone.sort((a, b) => a - b);
  return { gone, stopped: gone.map((p) => who.get(p) as StoppedProcess) };
}


/** Stops the tree of `pid` and waits until it is gone (see {@link startTreeStop} and {@link confirmTreeStop}). */
async function killTreePosix(pid: number, options: KillOptions, snapshot?: ProcessTable, known?: ReadonlyMap<number, ProcessInfo>): Promise<TreeStop> {
  const start = startTreeStop(pid, options, snapshot ?? (await treeTable()), known);
  return start ? confirmTreeStop(start, options) : { gone: [], stopped: [] };
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
  return isWindows ? killTreeWindows(pid, options) : (await killTreePosix(pid, options)).gone;
}

function liveChildren(table: ProcessTable, pid: number): number[] {
  if (table instanceof LazyProcessTable) {
    return table.childrenOf(pid).filter((c) => {
      const state = table.get(c)?.state;
      return state !== undefined && state !== 'Z' && state !== 'X';
    });
  }
  const children: number[] = [];
  for (const entry of table.values()) if (entry.ppid === pid && entry.pid !== pid && entry.state !== 'Z' && entry.state !== 'X') children.push(entry.pid);
  return children;
}

function looksLikeShell(entry: ProcessEntry): boolean {
  const first = (entry.command ?? entry.name ?? '').trim().split(/\s+/)[0] ?? '';
  return /^-?(sh|bash|zsh|fish|dash|ksh|tcsh|csh|login)$/.test(path.basename(first));
}

/**
 * The root of what to stop for a holder: climbs from the holder through ancestors while they are in the holder's
 * process group (a job-control shell gives each job its own group, so `npm run dev` → sh → node climbs to npm),
 * have no other child, are not protected and not PID 1. A session leader is the end of the climb: a terminal's
 * shell (it has a controlling terminal) is never part of the job; a session leader without a terminal (a
 * `sh -c "server; next step"` started detached, a service's wrapper) is the job's wrapper and is its root, so it
 * does not go on to its next step once the server is stopped.
 *
 * `holders`: every PID that holds the port's sockets. A parent that holds the socket too, or whose other children
 * all hold it (a Node cluster's primary and its workers sharing the listening socket), is the same application:
 * the climb goes through it although it has several children.
 */
export function treeRoot(
  table: ProcessTable,
  holder: number,
  guard: ReadonlySet<number> | ReadonlyMap<number, unknown>,
  holders: ReadonlySet<number> = new Set(),
): number {
  const holderEntry = table.get(holder);
  if (!holderEntry || holderEntry.pgid === undefined) return holder;
  let root = holder;
  const seen = new Set<number>([holder]);
  for (;;) {
    const parent = table.get(table.get(root)?.ppid ?? 0);
    if (!parent || parent.pid <= 1 || seen.has(parent.pid) || guard.has(parent.pid)) break;
    const app = holders.has(parent.pid);
    if (parent.pgid !== holderEntry.pgid && !app) break;
    // Climb only through a chain (npm → sh → node, nodemon → node): a parent with other children is a launcher
    // of several things (concurrently, npm-run-all, an editor), and freeing one port must not stop the others,
    // unless those children are all holders of this port's socket (workers of one server).
    const others = liveChildren(table, parent.pid).filter((c) => c !== root);
    if (!app && others.some((c) => !holders.has(c))) break;
    const sessionLeader = parent.sid !== undefined ? parent.sid === parent.pid : parent.pid === parent.pgid && looksLikeShell(parent);
    if (sessionLeader) {
      // Without a terminal (tty 0) it is a wrapper of the job; with one (or unknown: macOS) it is the user's shell.
      if (parent.tty === 0 && parent.sid !== undefined) root = parent.pid;
      break;
    }
    seen.add(parent.pid);
    root = parent.pid;
  }
  return root;
}

/**
 * Other holders of the port's sockets among the relatives of the holders found (the parent, the siblings and
 * the descendants of each): a socket shared across fork (a cluster's primary and workers, a server that hands
 * its listening socket to children) has several holders, and the scan that found the first one stops there.
 */
function relativesHolding(table: ProcessTable, found: ReadonlySet<number>, inodes: ReadonlySet<number>): Set<number> {
  const all = new Set(found);
  if (process.platform !== 'linux' || inodes.size === 0) return all;
  const checked = new Set<number>(found);
  let frontier = [...found];
  for (let depth = 0; depth < 4 && frontier.length > 0; depth++) {
    const next: number[] = [];
    for (const h of frontier) {
      const parent = table.get(h)?.ppid;
      const candidates = [...descendants(table, h)];
      if (parent !== undefined && parent > 1) candidates.push(parent, ...liveChildren(table, parent));
      for (const c of candidates) {
        if (checked.has(c) || c === process.pid) continue;
        checked.add(c);
        if (inodesHeldBy(c, inodes).length > 0) {
          all.add(c);
          next.push(c);
        }
      }
    }
    frontier = next;
  }
  return all;
}

/** What the background confirmation of a {@link killProcessesOnPort} found once every stopped tree was gone. */
export interface KillSettlement {
  /** Every PID that was signalled and is now gone (SIGKILLed after the grace if it outlived its SIGTERM). */
  killedPids: number[];
  /** What could not be stopped after all (another user's child, a process stuck after SIGKILL); empty when none. */
  errors: Error[];
}

/** {@link killProcessesOnPort}'s result: a {@link KillResult} and `settled`, not enumerable (JSON and deep-equal skip it). */
export type KillOutcome = KillResult & { readonly settled: Promise<KillSettlement> };

/**
 * Polls until `port` is free on every local address: every millisecond for the first FAST_POLL_MS (a dev
 * server's exit frees it within a few), then backing off to POLL_MS. Once `settledBy` has resolved (every process
 * of the stopped trees is gone), it waits at most `afterSettledMs` more. True when free.
 */
async function waitFreeWhileStopping(port: number, settledBy: Promise<unknown>, afterSettledMs: number): Promise<boolean> {
  let settledAt: number | undefined;
  void settledBy.then(
    () => (settledAt = Date.now()),
    () => (settledAt = Date.now()),
  );
  const fastUntil = Date.now() + FAST_POLL_MS;
  let wait = 1;
  for (;;) {
    if (await isPortAvailable(port)) return true;
    if (settledAt !== undefined && Date.now() - settledAt >= afterSettledMs) return false;
    await sleep(wait);
    if (Date.now() >= fastUntil) wait = Math.min(POLL_MS, wait * 2);
  }
}

/** Splits a rejection into the errors it carries. */
function errorsOf(reason: unknown): Error[] {
  if (reason instanceof AggregateError) return reason.errors as Error[];
  return [reason instanceof Error ? reason : new Error(String(reason))];
}

/**
 * Frees `port`: finds its listeners (and the other holders of a shared socket among their relatives), climbs
 * from each to the root of its job (see {@link treeRoot}), signals every process of those trees, and resolves as
 * soon as the port is free on every local address (or not, after `timeoutMs` once the trees are gone). The trees'
 * exit is confirmed in the background: what outlives SIGTERM by `gracePeriodMs` gets SIGKILL, with children forked
 * meanwhile and orphans left in the tree's process group; `settled` (not enumerable) resolves, never rejects, once
 * that is done, and its timers keep a CLI process alive until then (bounded by the grace and the SIGKILL wait).
 * `killedPids`/`stopped`: every process of the stopped trees that was signalled (or already gone), with who each
 * was. Throws, never answers free, when a holder cannot be seen or stopped (another user's process:
 * `OsAccessError`; a protected one: `ProtectedProcessError`).
 *
 * With `treeRootPid` (the root of a server's tree the caller started, so it is known), that tree is stopped
 * without a lookup by port first; the port is still checked afterwards, and looked up if something else holds it.
 *
 * @example
 * const { killedPids, stopped, free, settled } = await killProcessesOnPort(3000, { gracePeriodMs: 3000 });
 * await settled; // every process of the tree is gone
 */
export async function killProcessesOnPort(port: number, options: KillOptions = {}): Promise<KillOutcome> {
  assertPort(port);
  if (options.treeRootPid !== undefined) assertPid(options.treeRootPid);
  const grace = options.gracePeriodMs ?? 3000;
  const timeoutMs = options.timeoutMs ?? grace + 2000;
  const signalledPids = new Set<number>();
  const who = new Map<number, StoppedProcess>();
  const confirmations: Promise<TreeStop>[] = [];
  const attempted = new Set<number>();
  const errors: Error[] = [];
  let free: boolean | undefined;

  /** Starts the stop of one tree: its first signals go out now, its confirmation runs on. */
  const stopTree = (root: number, table: ProcessTable | undefined, known?: ReadonlyMap<number, ProcessInfo>): Promise<TreeStop> => {
    let confirmation: Promise<TreeStop>;
    if (isWindows) {
      confirmation = killTreeWindows(root, options).then((gone) => ({ gone, stopped: gone.map((p) => stoppedEntry(p, new Map())) }));
      confirmation.then((stop) => stop.stopped.forEach((e) => (signalledPids.add(e.pid), who.set(e.pid, e))), () => undefined);
    } else {
      const start = startTreeStop(root, options, table as ProcessTable, known);
      if (!start) return Promise.resolve({ gone: [], stopped: [] });
      for (const p of start.signalled.keys()) {
        signalledPids.add(p);
        who.set(p, start.who.get(p) as StoppedProcess);
      }
      errors.push(...start.errors.splice(0));
      confirmation = confirmTreeStop(start, options, true);
    }
    confirmation.catch(() => undefined); // collected by `settled`; never an unhandled rejection
    confirmations.push(confirmation);
    return confirmation;
  };
  const allConfirmed = () => Promise.allSettled(confirmations);

  if (options.treeRootPid !== undefined) {
    const root = options.treeRootPid;
    attempted.add(root);
    const table = isWindows ? undefined : await treeTable();
    try {
      const confirmation = stopTree(root, table);
      // A stopped tree has closed its sockets by the time it is gone: a port still held a moment after that is
      // held by something else, which the lookup below finds.
      free = await waitFreeWhileStopping(port, confirmation, Math.min(timeoutMs, 100));
    } catch (err) {
      if (err instanceof ProtectedProcessError) throw err;
      errors.push(...errorsOf(err));
    }
  }

  // More than one round because a holder may appear only once the first is gone (another server taking the port).
  for (let round = 0; round < 3 && free !== true; round++) {
    let listeners: Listener[];
    let inodes = new Set<number>();
    if (process.platform === 'linux' && procNetReadable()) ({ listeners, inodes } = linuxListenerSockets(port, { families: await familiesBound(port) }));
    else listeners = await listListeners(port);
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
    const found = new Set(listeners.flatMap((l) => l.pids));
    const known = new Map(listeners.flatMap((l) => l.processes).map((info) => [info.pid, info]));
    const table = await treeTable();
    const holderSet = relativesHolding(table, found, inodes);
    const holders = [...holderSet].filter((p) => !attempted.has(p));
    if (holders.length === 0) break; // the same holders survived: their errors are reported below
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
    const roots = [...new Set(holders.map((h) => treeRoot(table, h, guard, holderSet)))];
    const topRoots = roots.filter((r) => !roots.some((other) => other !== r && descendants(table, other).includes(r)));
    const stops: Promise<TreeStop>[] = [];
    for (const root of topRoots) {
      try {
        stops.push(stopTree(root, table, known));
      } catch (err) {
        errors.push(...errorsOf(err));
      }
    }
    holders.forEach((h) => attempted.add(h));
    topRoots.forEach((r) => attempted.add(r));
    free = await waitFreeWhileStopping(port, Promise.allSettled(stops), timeoutMs);
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
  if (!free) {
    // The port is still held once every tree is gone: what could not be stopped is why.
    for (const r of await allConfirmed()) if (r.status === 'rejected') errors.push(...errorsOf(r.reason));
    // Once the port is free, a process of the tree that could not be stopped (e.g. another user's child) no longer
    // matters to the caller, who asked for the port.
    throwCollected(errors, `Port ${port} is still in use`);
  }
  const killedPids = [...signalledPids].sort((a, b) => a - b);
  const settled = allConfirmed().then((results) => {
    const gone = new Set<number>();
    const late: Error[] = [...errors];
    for (const r of results) {
      if (r.status === 'fulfilled') r.value.gone.forEach((p) => gone.add(p));
      else late.push(...errorsOf(r.reason));
    }
    return { killedPids: [...gone].sort((a, b) => a - b), errors: late };
  });
  const result = { port, killedPids, free, stopped: killedPids.map((p) => who.get(p) ?? stoppedEntry(p, new Map())) };
  Object.defineProperty(result, 'settled', { value: settled, enumerable: false });
  return result as KillOutcome;
}
