/**
 * Snapshot of every process with the relations the killer needs (parent, process group, session, owner).
 * Linux reads /proc directly (no process spawned); macOS asks `ps`; Windows asks CIM through PowerShell.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { errorCode } from './errors';
import { parseCimProcesses, CIM_PROCESS_COMMAND } from './cimParser';
import { firstAvailable, noteFallback, runTool } from './tools';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** Process group (POSIX only). */
  pgid?: number;
  /** Session id (Linux only: macOS `ps` has no portable session column). */
  sid?: number;
  uid?: number;
  /** Start time in clock ticks since boot (Linux); tells a reused PID apart from the process seen before. */
  startTime?: number;
  /** One-letter state (Linux): `Z` is a zombie, already dead but not yet reaped. */
  state?: string;
  /** Controlling terminal (Linux `tty_nr`): 0 when the process has none (a script, a service, a detached job). */
  tty?: number;
  /** Short name, when the source gives one (`comm` on Linux, `Name` on Windows). */
  name?: string;
  /** Command line, when the source gives one (macOS `ps`, Windows CIM). */
  command?: string;
}

/** Every process by PID. */
export type ProcessTable = Map<number, ProcessEntry>;

/** The fields of `/proc/<pid>/stat` the OS layer uses. */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** `tty_nr`: the controlling terminal's device number, 0 when none. */
  tty: number;
  startTime: number;
}

/**
 * Parses `/proc/<pid>/stat`: `1234 (node) S 1200 1234 1100 34816 ... <starttime> ...`. `comm` is in parentheses
 * and may itself contain spaces and parentheses (`(sh) (x)`), so the fields after it are read from the LAST `)`.
 *
 * @example
 * parseProcStat('42 (a) (b) S 1 42 42 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0');
 * // { pid: 42, comm: 'a) (b', state: 'S', ppid: 1, pgid: 42, sid: 42, tty: 0, startTime: 777 }
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // After the comm: state(3) ppid(4) pgrp(5) session(6) ... starttime(22), numbered as in proc(5).
  const [state, ppid, pgid, sid, tty] = [rest[0], Number(rest[1]), Number(rest[2]), Number(rest[3]), Number(rest[4])];
  const startTime = Number(rest[19]);
  if (!Number.isInteger(pid) || !state || ![ppid, pgid, sid, tty, startTime].every(Number.isInteger)) return undefined;
  return { pid, comm: text.slice(open + 1, close), state, ppid, pgid, sid, tty, startTime };
}

/**
 * Parses `ps -axo pid=,ppid=,pgid=,uid=,command=` output (macOS, BSD and procps alike), one process a line:
 * `  501   1   501   501 /usr/bin/node server.js`.
 *
 * @example
 * parsePsTable('  42     1    42   501 node server.js\n'); // [{ pid: 42, ppid: 1, pgid: 42, uid: 501, command: 'node server.js' }]
 */
export function parsePsTable(text: string): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)(?:\s+(.*))?$/.exec(line);
    if (!match) continue;
    const command = match[5]?.trim();
    entries.push({
      pid: Number(match[1]),
      ppid: Number(match[2]),
      pgid: Number(match[3]),
      uid: Number(match[4]),
      ...(command ? { command } : {}),
    });
  }
  return entries;
}

/** Reads /proc/<pid>/stat; undefined when the process is gone (or never existed). */
export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw err;
  }
}

function linuxEntry(pid: number): ProcessEntry | undefined {
  const stat = readProcStat(pid);
  if (!stat) return undefined;
  let uid: number | undefined;
  try {
    uid = fs.statSync(`/proc/${pid}`).uid;
  } catch {
    uid = undefined;
  }
  return { pid, ppid: stat.ppid, pgid: stat.pgid, sid: stat.sid, tty: stat.tty, uid, startTime: stat.startTime, state: stat.state, name: stat.comm };
}

/**
 * A process table that reads only what is asked of it (Linux): `get` reads one /proc/<pid>/stat on first use, and
 * `childrenOf` reads /proc/<pid>/task/<tid>/children, so walking one tree costs a few reads instead of a read of
 * every process. Iterating it (`values()`, `size`) reads the whole table once. Undefined from
 * {@link lazyProcessTable} when the kernel has no children files (CONFIG_PROC_CHILDREN).
 */
export class LazyProcessTable extends Map<number, ProcessEntry> {
  private readonly missing = new Set<number>();
  private full = false;

  override get(pid: number): ProcessEntry | undefined {
    const known = super.get(pid);
    if (known || this.full || this.missing.has(pid)) return known;
    const entry = linuxEntry(pid);
    if (entry) super.set(pid, entry);
    else this.missing.add(pid);
    return entry;
  }

  override has(pid: number): boolean {
    return this.get(pid) !== undefined;
  }

  /** Children of `pid` (of every thread of it); empty when it is gone. */
  childrenOf(pid: number): number[] {
    if (this.full) return [...super.values()].filter((e) => e.ppid === pid && e.pid !== pid).map((e) => e.pid);
    let tids: string[];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      return [];
    }
    const children: number[] = [];
    for (const tid of tids) {
      let text: string;
      try {
        text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1');
      } catch {
        continue;
      }
      for (const field of text.split(' ')) if (field !== '') children.push(Number(field));
    }
    return children;
  }

  private loadAll(): void {
    if (this.full) return;
    for (const [pid, entry] of linuxTable()) super.set(pid, entry);
    this.full = true;
  }

  override values(): MapIterator<ProcessEntry> {
    this.loadAll();
    return super.values();
  }

  override keys(): MapIterator<number> {
    this.loadAll();
    return super.keys();
  }

  override entries(): MapIterator<[number, ProcessEntry]> {
    this.loadAll();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[number, ProcessEntry]> {
    return this.entries();
  }

  override forEach(fn: (value: ProcessEntry, key: number, map: Map<number, ProcessEntry>) => void, thisArg?: unknown): void {
    this.loadAll();
    super.forEach(fn, thisArg);
  }

  override get size(): number {
    this.loadAll();
    return super.size;
  }
}

let childrenFiles: boolean | undefined;

/**
 * A {@link LazyProcessTable} on Linux kernels with /proc/<pid>/task/<tid>/children; otherwise a full snapshot.
 *
 * @example
 * const table = await lazyProcessTable(); descendants(table, rootPid); // reads only that tree
 */
export async function lazyProcessTable(): Promise<ProcessTable> {
  if (process.platform === 'linux') {
    childrenFiles ??= fs.existsSync(`/proc/self/task/${process.pid}/children`);
    if (childrenFiles) return new LazyProcessTable();
  }
  return snapshotProcessTable();
}

/** Runs steps to the end without pausing. */
export function runNow<T>(steps: Generator<void, T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** How long the sliced look-ups together may hold the event loop before they give the loop a turn. */
const SLICE_MS = 6;
/** How long one look-up runs before the next one waiting gets its share of the slice. */
const QUANTUM_MS = 1;
/** The pause between two slices. */
const PAUSE_MS = 1;

/**
 * Every sliced run in progress, served round-robin by one driver. The budget is per turn of the event loop, not
 * per run: concurrent look-ups (the view's poll, a stale sweep, a status bar) each taking a whole slice in the same
 * `setImmediate` phase would hold the loop for their sum.
 */
const slicedRuns: (() => boolean)[] = [];
/** How many of {@link slicedRuns} want the pause between slices (see {@link runSliced}'s `pause`). */
let pausingRuns = 0;
let driving = false;

function driveSlices(): void {
  const deadline = performance.now() + SLICE_MS;
  while (slicedRuns.length > 0) {
    const run = slicedRuns[0];
    const quantumEnd = Math.min(deadline, performance.now() + QUANTUM_MS);
    let done: boolean;
    do done = run();
    while (!done && performance.now() < quantumEnd);
    slicedRuns.shift();
    if (!done) slicedRuns.push(run);
    if (performance.now() >= deadline) break;
  }
  // A pause of a timer's millisecond, not a bare setImmediate: the loop (the editor's other work) gets real room
  // between two slices, and a profile sees them as two stretches instead of one continuous run of Dev Ports frames.
  if (slicedRuns.length === 0) driving = false;
  else if (pausingRuns > 0) pauseThenDrive();
  else setImmediate(driveSlices);
}

/**
 * Drives the next slice after {@link PAUSE_MS} of real time. A timer counts from the loop's cached clock, read
 * before this slice ran, so a bare `setTimeout(fn, 1)` after a 6 ms slice is already due and pauses nothing:
 * the wake-up checks the real clock and waits again for what is left.
 */
function pauseThenDrive(): void {
  const resumeAt = performance.now() + PAUSE_MS;
  const wake = () => {
    const left = resumeAt - performance.now();
    if (left > 0) setTimeout(wake, left);
    // The slice itself in the check phase: every other timer due now (the editor's) runs first.
    else setImmediate(driveSlices);
  };
  setTimeout(wake, PAUSE_MS);
}

/**
 * Runs steps in slices of about {@link SLICE_MS} shared with every other sliced run, with a pause of
 * {@link PAUSE_MS} between slices. The first step waits for a turn of its own, and the answer is delivered on the next one: the caller's
 * synchronous work before and after (building a view model from it) never adds to a slice. `pause: false` (a
 * process's only call, the CLI's: no editor to give room to) goes on with a bare `setImmediate` between slices,
 * unless a run that wants the pause is in progress.
 */
export function runSliced<T>(steps: Generator<void, T>, options: { pause?: boolean } = {}): Promise<T> {
  const pause = options.pause ?? true;
  if (pause) pausingRuns++;
  return new Promise<T>((resolve, reject) => {
    const finish = () => {
      if (pause) pausingRuns--;
      return true;
    };
    slicedRuns.push(() => {
      let next: IteratorResult<void, T>;
      try {
        next = steps.next();
      } catch (err) {
        setImmediate(reject, err);
        return finish();
      }
      if (!next.done) return false;
      setImmediate(resolve, next.value);
      return finish();
    });
    if (!driving) {
      driving = true;
      setImmediate(driveSlices);
    }
  });
}

/**
 * The steps of a full read of /proc: yields every few dozen processes, where a sliced caller may pause.
 * `owners: false` skips the stat of /proc/<pid> for the uid (half the reads), for callers that need only the relations.
 */
function* linuxTableSteps(owners: boolean): Generator<void, ProcessTable> {
  const table: ProcessTable = new Map();
  // Sync reads on purpose: hundreds of tiny /proc reads are much faster in one go than bounced through the
  // threadpool; the async snapshot runs these steps in slices instead.
  let n = 0;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (++n % 16 === 0) yield;
    const pid = Number(name);
    const stat = readProcStat(pid);
    if (!stat) continue; // exited during the scan
    let uid: number | undefined;
    try {
      uid = owners ? fs.statSync(`/proc/${pid}`).uid : undefined;
    } catch {
      uid = undefined;
    }
    table.set(pid, {
      pid,
      ppid: stat.ppid,
      pgid: stat.pgid,
      sid: stat.sid,
      tty: stat.tty,
      uid,
      startTime: stat.startTime,
      state: stat.state,
      name: stat.comm,
    });
  }
  return table;
}

function linuxTable(owners = true): ProcessTable {
  return runNow(linuxTableSteps(owners));
}

/**
 * One snapshot of every process.
 *
 * @example
 * const table = await snapshotProcessTable();
 * table.get(process.pid)?.ppid;
 */
export async function snapshotProcessTable(platform: NodeJS.Platform = process.platform, options: { owners?: boolean } = {}): Promise<ProcessTable> {
  // Linux: read in slices of a few milliseconds (an editor's poll must not hold its event loop for the whole walk).
  if (platform === 'linux' && fs.existsSync('/proc/self/stat')) return runSliced(linuxTableSteps(options.owners ?? true));
  if (platform === 'win32') {
    const stdout = await runPowerShell(CIM_PROCESS_COMMAND, 'read the process table');
    return new Map(parseCimProcesses(stdout).map((p) => [p.pid, p]));
  }
  // macOS and the BSDs; Linux without /proc (procps ps reads the same columns).
  const { stdout } = await runTool('ps', ['-axo', 'pid=,ppid=,pgid=,uid=,command='], 'read the process table (to stop a whole process tree)', platform);
  if (platform === 'linux') noteFallback('/proc', 'ps', platform);
  return new Map(parsePsTable(stdout).map((p) => [p.pid, p]));
}

/**
 * Runs a PowerShell command: Windows PowerShell (powershell.exe), else PowerShell 7 (pwsh). Neither installed:
 * a {@link MissingToolError} naming what to install.
 */
export async function runPowerShell(command: string, purpose: string): Promise<string> {
  const args = ['-NoProfile', '-NonInteractive', '-Command', command];
  const { stdout } = await firstAvailable(
    [
      { tool: 'powershell.exe', run: () => runTool('powershell.exe', args, purpose, 'win32') },
      { tool: 'pwsh', run: () => runTool('pwsh', args, purpose, 'win32') },
    ],
    purpose,
    'win32',
  );
  return stdout;
}

/**
 * The entries of `pid`'s children in `table`: read from the children files when the table is lazy (nothing else is
 * read), else picked from the snapshot.
 *
 * @example
 * childEntries(await lazyProcessTable(), shellPid); // the shell's children, one stat each
 */
export function childEntries(table: ProcessTable, pid: number): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  if (table instanceof LazyProcessTable) {
    for (const child of table.childrenOf(pid)) {
      const entry = table.get(child);
      if (entry && entry.ppid === pid) out.push(entry);
    }
    return out;
  }
  for (const entry of table.values()) if (entry.ppid === pid && entry.pid !== pid) out.push(entry);
  return out;
}

/**
 * PIDs of every descendant of `pid` in `table` (children first, then grandchildren...), not `pid` itself.
 *
 * @example
 * descendants(await snapshotProcessTable(), npmPid); // [shPid, nodePid]
 */
export function descendants(table: ProcessTable, pid: number): number[] {
  if (table instanceof LazyProcessTable) {
    const result: number[] = [];
    const seen = new Set<number>([pid]);
    const queue = [pid];
    while (queue.length > 0) {
      for (const child of table.childrenOf(queue.shift() as number)) {
        if (seen.has(child)) continue;
        seen.add(child);
        result.push(child);
        queue.push(child);
      }
    }
    return result;
  }
  const children = new Map<number, number[]>();
  for (const entry of table.values()) {
    if (entry.pid === entry.ppid) continue;
    const list = children.get(entry.ppid);
    if (list) list.push(entry.pid);
    else children.set(entry.ppid, [entry.pid]);
  }
  const result: number[] = [];
  const seen = new Set<number>([pid]);
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      result.push(child);
      queue.push(child);
    }
  }
  return result;
}

/**
 * PIDs of the ancestors of `pid` in `table`, parent first, stopping at PID 0/1 or an unknown parent.
 *
 * @example
 * ancestors(await snapshotProcessTable(), process.pid); // [parentPid, ..., 1]
 */
export function ancestors(table: ProcessTable, pid: number): number[] {
  const result: number[] = [];
  const seen = new Set<number>([pid]);
  let current = table.get(pid);
  while (current && current.ppid > 0 && !seen.has(current.ppid)) {
    result.push(current.ppid);
    seen.add(current.ppid);
    current = table.get(current.ppid);
  }
  return result;
}
