/**
 * Linux: who listens on a port, without spawning any process. Reads the LISTEN rows of /proc/net/tcp{,6}, then
 * finds the processes holding those socket inodes by reading the `/proc/<pid>/fd/*` links (`socket:[<inode>]`).
 *
 * The fd scan is the cost (the /proc/net read is cheap), so it stops as soon as every wanted inode has been found
 * and looks first where the owner most likely is: hinted PIDs, then processes of the socket's uid, newest first
 * (dev servers are recent). A socket shared by several processes (inherited across fork) may therefore report only
 * the first holder found; the killer re-checks the port after its kill and goes again if someone still holds it.
 *
 * Sync fs calls on purpose: thousands of tiny /proc syscalls are far faster back to back than through libuv's
 * threadpool. The async entry points ({@link linuxListenersAsync}, {@link linuxPortPidsAsync}) run the same steps in
 * slices of a few milliseconds with a `setImmediate` between them, so an editor's event loop is never held for long.
 *
 * What a scan learned (socket inode → holder PID and descriptor) is kept in memory and in a small file in the
 * per-user state folder, so the next process starts warm; every entry is confirmed by one readlink before use.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorCode } from './errors';
import { parseProcNetTcp, type ProcNetListenRow } from './procNet';
import { readProcStat, runNow, runSliced } from './processTable';
import type { Listener, ProcessInfo } from './types';

const LITTLE_ENDIAN = os.endianness() === 'LE';

// Small reads: the kernel fills each read() up to its size, so a large one makes it format hundreds of
// established rows past the LISTEN section that are then thrown away (measured: 64 KiB 7.1 ms, 4 KiB 1.6 ms for
// both files with ~100 connections on the machine).
const CHUNK = Buffer.allocUnsafe(4096);

/**
 * The head of /proc/net/tcp{,6} up to the last LISTEN row. The kernel prints the listening hash before the
 * established one, so every LISTEN (`0A`) row comes first and reading can stop at the first row of another state:
 * with 10,000 connections on the machine that is one small read instead of decoding a megabyte. Kernels before
 * 4.4 printed half-open requests (`03`, SYN_RECV) right after their listener, so those do not stop the read.
 */
export function readListenHead(file: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    // /proc/net/tcp6 is missing when IPv6 is disabled in the kernel.
    if (errorCode(err) === 'ENOENT') return '';
    throw err;
  }
  try {
    const head = new ListenHead();
    const parts: string[] = [];
    while (!head.done) parts.push(head.add(CHUNK, fs.readSync(fd, CHUNK, 0, CHUNK.length, null)));
    return parts.join('');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads the head of a /proc/net/tcp file chunk by chunk through libuv's threadpool (the kernel's walk of its
 * connection tables, milliseconds with thousands of sockets, happens off the caller's event loop) and hands each
 * chunk's whole lines of the head to `onPiece` as it comes: the work on this thread per chunk is bounded by the
 * chunk, never by the size of the head.
 */
async function readListenHeadPieces(file: string, onPiece: (piece: string) => void): Promise<void> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return;
    throw err;
  }
  try {
    const head = new ListenHead();
    const chunk = Buffer.allocUnsafe(CHUNK.length);
    while (!head.done) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      onPiece(head.add(chunk, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

/** {@link readListenHead} off the event loop (see {@link readListenHeadPieces}). */
export async function readListenHeadAsync(file: string): Promise<string> {
  const parts: string[] = [];
  await readListenHeadPieces(file, (piece) => parts.push(piece));
  return parts.join('');
}

/**
 * Cuts the chunks of a /proc/net/tcp file at the first row that is not LISTEN (or a half-open request). Only the
 * unfinished last line of a chunk is carried to the next one, so the text is looked at once (appending every
 * chunk to one string and searching it would flatten a growing string per chunk).
 */
class ListenHead {
  /** Whether the head is complete: no more chunks are needed. */
  done = false;
  private carry = '';
  private header = true;

  /** Adds `n` bytes of `chunk` (n = 0 is the end of the file); the whole lines of the head they complete. */
  add(chunk: Buffer, n: number): string {
    if (this.done) return '';
    if (n === 0) {
      this.done = true;
      return this.carry;
    }
    const text = this.carry + chunk.toString('latin1', 0, n);
    let lineStart = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', lineStart)) {
      if (this.header) this.header = false;
      else {
        // `  0: 0100007F:0BB8 00000000:0000 0A ...`: the state is the fourth field.
        const state = text.slice(lineStart, end).trim().split(/\s+/, 4)[3];
        if (state !== '0A' && state !== '03') {
          this.done = true;
          this.carry = '';
          return text.slice(0, lineStart);
        }
      }
      lineStart = end + 1;
    }
    this.carry = text.slice(lineStart);
    return text.slice(0, lineStart);
  }
}

/** LISTEN rows of /proc/net/tcp and /proc/net/tcp6 of this network namespace (of the families asked for). */
export function readListenRows(families: { v4: boolean; v6: boolean } = { v4: true, v6: true }): ProcNetListenRow[] {
  return [
    ...(families.v4 ? parseProcNetTcp(readListenHead('/proc/net/tcp'), LITTLE_ENDIAN) : []),
    ...(families.v6 ? parseProcNetTcp(readListenHead('/proc/net/tcp6'), LITTLE_ENDIAN) : []),
  ];
}

/** {@link readListenRows} with both files read off the event loop, at the same time. */
export async function readListenRowsAsync(families: { v4: boolean; v6: boolean } = { v4: true, v6: true }): Promise<ProcNetListenRow[]> {
  // Each chunk's rows are parsed as it arrives: a head of thousands of listeners is never decoded in one go.
  const read = async (file: string) => {
    const rows: ProcNetListenRow[] = [];
    await readListenHeadPieces(file, (piece) => {
      for (const row of parseProcNetTcp(piece, LITTLE_ENDIAN)) rows.push(row);
    });
    return rows;
  };
  const [v4, v6] = await Promise.all([families.v4 ? read('/proc/net/tcp') : [], families.v6 ? read('/proc/net/tcp6') : []]);
  return [...v4, ...v6];
}

/**
 * Every listening TCP port, from one read of /proc/net/tcp{,6} (no process attribution, so it is cheap: one
 * snapshot serves a whole stale sweep).
 *
 * @example
 * (await linuxListeningPorts()).has(3000);
 */
export function linuxListeningPorts(): Set<number> {
  return new Set(readListenRows().map((row) => row.port));
}

let passwdCache: Map<number, string> | undefined;

/** User name of `uid` from /etc/passwd (read once per process), undefined when unknown. */
export function userName(uid: number): string | undefined {
  if (!passwdCache) {
    passwdCache = new Map();
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id !== undefined && /^\d+$/.test(id) && !passwdCache.has(Number(id))) passwdCache.set(Number(id), name);
      }
    } catch {
      // No readable /etc/passwd (minimal containers): names stay unknown, uids are still reported.
    }
  }
  return passwdCache.get(uid);
}

function tryRead<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/**
 * What is known of a process from /proc: name from argv[0] of its cmdline (Node 24 renames its main thread, so
 * `comm` reads `MainThread`), command line, cwd when readable, uid and user. Undefined when it has exited.
 *
 * @example
 * readLinuxProcessInfo(process.pid); // { pid, ppid, name: 'node', command: 'node server.js', cwd: '/app', uid: 1000, user: 'me' }
 */
export function readLinuxProcessInfo(pid: number): ProcessInfo | undefined {
  const stat = readProcStat(pid);
  if (!stat) return undefined;
  const argv = (tryRead(() => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')) ?? '').split('\0');
  while (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
  // Processes that rewrite their title (`nginx: master process ...`) leave one space-separated string in argv[0].
  const first = argv.length === 1 ? argv[0].split(' ')[0] : argv[0];
  const name = first ? path.basename(first) : stat.comm;
  const uid = tryRead(() => fs.statSync(`/proc/${pid}`).uid);
  const info: ProcessInfo = { pid, ppid: stat.ppid, name, command: argv.length > 0 ? argv.join(' ') : `[${stat.comm}]` };
  const cwd = tryRead(() => fs.readlinkSync(`/proc/${pid}/cwd`));
  if (cwd !== undefined) info.cwd = cwd;
  if (uid !== undefined) {
    info.uid = uid;
    const user = userName(uid);
    if (user !== undefined) info.user = user;
  }
  return info;
}

function listPids(): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(name));
  }
  return pids;
}

/**
 * Whether `stat("/proc/<pid>/fd").size` is the number of open descriptors (Linux 6.2 and later; before, it was 0),
 * read once from this process, which always has some open.
 */
let fdCountKnown: boolean | undefined;
function fdCountsWork(): boolean {
  fdCountKnown ??= (tryRead(() => fs.statSync('/proc/self/fd').size) ?? 0) > 0;
  return fdCountKnown;
}

function readNumber(file: string): number | undefined {
  const n = Number(tryRead(() => fs.readFileSync(file, 'latin1').trim()));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * PIDs newest first. PIDs are handed out in increasing order until pid_max, then wrap around to low numbers, so
 * "highest first" is wrong on a machine that has been up long enough (or a container with a small pid_max): the
 * newest are those just below the last PID handed out (/proc/sys/kernel/ns_last_pid), counting backwards with
 * the wrap.
 */
function byRecency(pids: number[]): number[] {
  const last = readNumber('/proc/sys/kernel/ns_last_pid');
  const max = readNumber('/proc/sys/kernel/pid_max');
  if (last === undefined || max === undefined) return pids.sort((a, b) => b - a);
  const age = (pid: number) => (last - pid + max) % max;
  return pids.sort((a, b) => age(a) - age(b));
}

/** How many of the newest processes are looked at before the rest: dev servers are usually recent. */
const NEWEST_FIRST = 8;

/** Added to the descriptor count of a process in another network namespace: it comes after every process of ours. */
const OTHER_NET = 1e6;

/** Yielded by the scan steps between units of work: "a good moment to give the event loop a turn". */
const TICK = 0;

/** Syscalls (readlinks, stats) between two pauses of a scan's steps: a few dozen is a fraction of a millisecond. */
const STEP = 32;

/**
 * Scan order, produced lazily (a look-up that ends early pays only for what it looked at): hinted PIDs; then the
 * few newest processes of this network namespace (dev servers are usually recent; see {@link byRecency}); then every other process of a socket uid,
 * then the rest, each by ascending descriptor count. The cost of looking at a process is one readlink per
 * descriptor and, without other knowledge, every process is as likely to be the owner, so the cheapest first
 * minimises the expected cost (a browser or an editor with thousands of descriptors comes last, a dev server with
 * a few dozen early). One stat of /proc/<pid>/fd per process gives both the owner's uid and the count; processes
 * with no descriptor (kernel threads, zombies) are skipped, those in another network namespace come after the
 * rest, and those with only stdio open last.
 * Yields {@link TICK} (not a PID) every few dozen stats, where a sliced caller may pause.
 */
function* scanOrder(hintPids: readonly number[], socketUids: ReadonlySet<number>): Generator<number> {
  const counts = fdCountsWork();
  const done = new Set<number>();
  for (const pid of hintPids) {
    if (!Number.isInteger(pid) || pid <= 0 || done.has(pid)) continue;
    done.add(pid);
    yield pid;
  }
  const all = byRecency(listPids());
  const stats = new Map<number, fs.Stats | undefined>();
  const statOf = (pid: number) => {
    if (!stats.has(pid)) stats.set(pid, tryRead(() => fs.statSync(`/proc/${pid}/fd`)));
    return stats.get(pid);
  };
  // The sockets of /proc/net/tcp are this network namespace's: a process in another one (a browser's sandboxed
  // renderer, a container) holds one only if it was handed over, so those come after the rest (never skipped).
  // One readlink of /proc/<pid>/ns/net per candidate; unreadable counts as ours.
  const ourNet = tryRead(() => fs.readlinkSync('/proc/self/ns/net'));
  const otherNet = (pid: number) => {
    if (ourNet === undefined) return false;
    const net = tryRead(() => fs.readlinkSync(`/proc/${pid}/ns/net`));
    return net !== undefined && net !== ourNet;
  };
  let newest = 0;
  let looked = 0;
  for (const pid of all) {
    if (newest >= NEWEST_FIRST) break;
    if (++looked % STEP === 0) yield TICK;
    if (done.has(pid)) continue;
    const st = statOf(pid);
    if (st === undefined || !socketUids.has(st.uid) || (counts && st.size === 0) || otherNet(pid)) continue;
    newest++;
    done.add(pid);
    yield pid;
  }
  const sameUid: { pid: number; fds: number; age: number }[] = [];
  const rest: { pid: number; fds: number; age: number }[] = [];
  for (let age = 0; age < all.length; age++) {
    if (age % STEP === STEP - 1) yield TICK;
    const pid = all[age];
    if (done.has(pid)) continue;
    const st = statOf(pid);
    if (st === undefined) continue; // gone already, or no fd table to read
    if (counts && st.size === 0) continue;
    let fds = counts ? st.size : 0;
    if ((!counts || fds > 3) && otherNet(pid)) fds += OTHER_NET;
    (socketUids.has(st.uid) ? sameUid : rest).push({ pid, fds, age });
  }
  // Only stdin, stdout and stderr open (a `sleep`, an idle shell): it holds a listening socket only when one was
  // handed to it as stdio (inetd style), which is rare, so those come after every process with more open.
  const rank = (fds: number) => (fds <= 3 ? 1e9 + fds : fds);
  const byCost = (a: { fds: number; age: number }, b: { fds: number; age: number }) => rank(a.fds) - rank(b.fds) || a.age - b.age;
  sameUid.sort(byCost);
  rest.sort(byCost);
  for (const e of sameUid) yield e.pid;
  for (const e of rest) yield e.pid;
}

/**
 * What the last scans learned: socket inode → the PID and descriptor that held it. Checking one entry is one
 * readlink (does /proc/<pid>/fd/<fd> still read `socket:[<inode>]`?), so a repeated look-up of the same listeners
 * (the view's poll) costs a few syscalls instead of a scan. Bounded: cleared when it grows past a few thousand.
 * Kept across processes in {@link MEMORY_FILE} (see {@link loadMemory}): a CLI call after any earlier look-up
 * starts warm. An entry is only ever a place to look first; a wrong one (stale, or planted in the file) fails its
 * readlink and is dropped, so it can cost a syscall but never give a wrong answer.
 */
const lastSeen = new Map<number, { pid: number; fd: string }>();
const LAST_SEEN_MAX = 4096;
/** Entries kept in the file: the most recently learned. */
const MEMORY_FILE_MAX = 512;
const MEMORY_FILE = 'socket-holders.json';
let memoryLoaded = false;
/** Whether {@link lastSeen} changed since it was last read from or written to the file. */
let memoryDirty = false;

/**
 * Sockets a whole scan did not find a holder of (held by a process this one cannot see: another PID namespace, or
 * another user's when not root), with the time of that scan. Only the listing of every port (the view's poll)
 * trusts it, for {@link UNFOUND_TTL_MS}: without it, one such socket on the machine makes every poll a full scan.
 */
const unfound = new Map<number, number>();
const UNFOUND_TTL_MS = 15_000;

function remember(inode: number, pid: number, fd: string): void {
  if (lastSeen.size >= LAST_SEEN_MAX) lastSeen.clear();
  lastSeen.delete(inode); // re-inserted last: the file keeps the most recent
  lastSeen.set(inode, { pid, fd });
  memoryDirty = true;
}

/** Forgets what earlier scans learned in this process (tests and benchmarks of a cold look-up); the file stays. */
export function forgetLastScan(): void {
  lastSeen.clear();
  unfound.clear();
  memoryLoaded = false;
  memoryDirty = false;
}

/**
 * What is remembered now (inode → PID and descriptor), after reading the state folder's file if this process has
 * not yet: for tests and diagnostics; nothing here is trusted before its readlink check.
 */
export function rememberedSockets(): Map<number, { pid: number; fd: string }> {
  loadMemory();
  return new Map([...lastSeen].map(([inode, e]) => [inode, { ...e }]));
}

/**
 * The per-user state folder, computed as the core's ledger does (`DEV_PORTS_HOME`, else `$XDG_STATE_HOME/dev-ports`,
 * else `~/.local/state/dev-ports`); the OS layer does not import the core. Linux only (this file's platform).
 */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DEV_PORTS_HOME) return path.resolve(env.DEV_PORTS_HOME);
  if (env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)) return path.join(env.XDG_STATE_HOME, 'dev-ports');
  return path.join(os.homedir(), '.local', 'state', 'dev-ports');
}

const DIGITS = /^[1-9]\d{0,9}$/;

/**
 * Adds the file's entries to {@link lastSeen} (once per process). The file is ignored unless it is a regular file
 * (not a symbolic link: opened with O_NOFOLLOW) owned by this user, not writable by others, small, and well formed;
 * each entry must be three decimal numbers, so the readlink that checks it can only ever read /proc/<pid>/fd/<n>.
 */
function loadMemory(): void {
  if (memoryLoaded) return;
  memoryLoaded = true;
  let fd: number | undefined;
  try {
    fd = fs.openSync(path.join(stateHome(), MEMORY_FILE), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0 || st.size > 64 * 1024) return;
    const buf = Buffer.allocUnsafe(st.size);
    const n = fs.readSync(fd, buf, 0, st.size, 0);
    const data = JSON.parse(buf.toString('utf8', 0, n)) as unknown;
    if (!data || typeof data !== 'object' || (data as { v?: unknown }).v !== 1) return;
    const entries = (data as { holders?: unknown }).holders;
    if (!Array.isArray(entries)) return;
    for (const entry of entries.slice(-MEMORY_FILE_MAX)) {
      if (!Array.isArray(entry) || entry.length !== 3) continue;
      const [inode, pid, desc] = entry.map(String);
      if (!DIGITS.test(inode) || !DIGITS.test(pid) || !(desc === '0' || DIGITS.test(desc))) continue;
      if (!lastSeen.has(Number(inode))) lastSeen.set(Number(inode), { pid: Number(pid), fd: desc });
    }
  } catch {
    // Missing, unreadable, a symbolic link, corrupt: look-ups start cold, as without the file.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Writes {@link lastSeen} to the file when it changed: a temp file (mode 0600, O_EXCL) renamed over it, so a reader
 * sees the old or the new file, never half of one. Only into an existing folder of this user (a look-up never
 * creates the state folder); any failure leaves the file as it was.
 */
function saveMemory(): void {
  if (!memoryDirty) return;
  memoryDirty = false;
  const home = stateHome();
  let tmp: string | undefined;
  try {
    const dir = fs.lstatSync(home);
    if (!dir.isDirectory() || dir.uid !== process.getuid?.()) return;
    const holders = [...lastSeen].slice(-MEMORY_FILE_MAX).map(([inode, e]) => [inode, e.pid, Number(e.fd)]);
    tmp = path.join(home, `.${MEMORY_FILE}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      fs.writeSync(fd, JSON.stringify({ v: 1, holders }));
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(home, MEMORY_FILE));
    tmp = undefined;
  } catch {
    // A read-only or foreign folder: the next process starts cold, nothing else changes.
  } finally {
    if (tmp !== undefined) tryRead(() => fs.unlinkSync(tmp as string));
  }
}

function addHolder(holders: Map<number, number[]>, inode: number, pid: number): void {
  const list = holders.get(inode);
  if (!list) holders.set(inode, [pid]);
  else if (!list.includes(pid)) list.push(pid);
}

/**
 * The steps of {@link findInodeHolders}: yields between units of work (a process's fd table, a few dozen stats),
 * returns the holders. Run to the end at once ({@link runNow}) or in slices ({@link runSliced}).
 */
function* inodeHolderSteps(
  inodes: ReadonlySet<number>,
  socketUids: ReadonlySet<number>,
  hintPids: readonly number[],
  unfoundTtlMs = 0,
): Generator<void, Map<number, number[]>> {
  const holders = new Map<number, number[]>();
  if (inodes.size === 0) return holders;
  const check = (inode: number) => {
    const seen = lastSeen.get(inode);
    if (!seen) return;
    const link = tryRead(() => fs.readlinkSync(`/proc/${seen.pid}/fd/${seen.fd}`));
    if (link === `socket:[${inode}]`) addHolder(holders, inode, seen.pid);
    else {
      lastSeen.delete(inode);
      memoryDirty = true;
    }
  };
  // One readlink per remembered socket: thousands of listeners are thousands of syscalls, so a pause every few dozen.
  let checked = 0;
  for (const inode of inodes) {
    check(inode);
    if (++checked % STEP === 0) yield;
  }
  if (holders.size < inodes.size && !memoryLoaded) {
    loadMemory();
    for (const inode of inodes) {
      if (holders.has(inode)) continue;
      check(inode);
      if (++checked % STEP === 0) yield;
    }
  }
  const now = Date.now();
  const missing = () => [...inodes].filter((inode) => !holders.has(inode));
  const recentlyUnfound = (inode: number) => now - (unfound.get(inode) ?? -Infinity) < unfoundTtlMs;
  if (holders.size < inodes.size && !missing().every(recentlyUnfound)) {
    let complete = true;
    for (const pid of scanOrder(hintPids, socketUids)) {
      if (pid === TICK) {
        yield;
        continue;
      }
      let fds: string[];
      try {
        fds = fs.readdirSync(`/proc/${pid}/fd`);
      } catch (err) {
        const code = errorCode(err);
        if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM') continue;
        throw err;
      }
      let found = false;
      let looked = 0;
      for (const fd of fds) {
        // A process with thousands of descriptors (a browser, an editor) is several slices' worth of readlinks.
        if (++looked % STEP === 0) yield;
        let link: string;
        try {
          link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue; // fd closed (or process gone) between readdir and readlink
        }
        if (!link.startsWith('socket:[')) continue;
        const inode = Number(link.slice(8, -1));
        if (!inodes.has(inode)) continue;
        remember(inode, pid, fd);
        addHolder(holders, inode, pid);
        found = true;
      }
      if (found && holders.size === inodes.size) {
        complete = false;
        break;
      }
      yield;
    }
    if (complete) {
      if (unfound.size >= LAST_SEEN_MAX) unfound.clear();
      for (const inode of missing()) unfound.set(inode, now);
    }
  }
  saveMemory();
  return holders;
}

/**
 * Maps socket inodes to the PIDs holding them, stopping as soon as every inode has at least one holder. Holders
 * remembered from the last scan (in this process, else from the state folder's file) are checked first (one
 * readlink each). Processes that exit mid-scan and fd tables we may not read (another user's process when not
 * root) are skipped.
 */
export function findInodeHolders(inodes: ReadonlySet<number>, socketUids: ReadonlySet<number>, hintPids: readonly number[] = []): Map<number, number[]> {
  return runNow(inodeHolderSteps(inodes, socketUids, hintPids));
}

/** {@link findInodeHolders} in slices that give the event loop a turn every few milliseconds. */
export function findInodeHoldersAsync(inodes: ReadonlySet<number>, socketUids: ReadonlySet<number>, hintPids: readonly number[] = []): Promise<Map<number, number[]>> {
  return runSliced(inodeHolderSteps(inodes, socketUids, hintPids));
}

/**
 * The socket inodes of `inodes` that process `pid` holds (empty when it holds none, has exited, or its fd table
 * cannot be read). Used to find the other holders of a socket shared across fork (a cluster's primary and workers)
 * among a holder's relatives, without another scan of every process.
 */
export function inodesHeldBy(pid: number, inodes: ReadonlySet<number>): number[] {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const held: number[] = [];
  for (const fd of fds) {
    let link: string;
    try {
      link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (!link.startsWith('socket:[')) continue;
    const inode = Number(link.slice(8, -1));
    if (inodes.has(inode) && !held.includes(inode)) held.push(inode);
  }
  return held;
}

/**
 * Listeners of one port, or of every port, with the processes that hold them. A socket whose processes cannot be
 * read (another user's, when not root) is still reported, with empty `pids` and its `ownerUid`: never as free.
 *
 * @example
 * linuxListeners(3000); // [{ port: 3000, address: '::', pids: [4321], processes: [...], ownerUid: 1000 }]
 */
export function linuxListeners(port?: number, options: { hintPids?: readonly number[] } = {}): Listener[] {
  return linuxListenerSockets(port, options).listeners;
}

/**
 * {@link linuxListeners} in slices that give the event loop a turn every few milliseconds (what an editor's poll
 * calls): the same answer, never one long synchronous stretch.
 *
 * @example
 * await linuxListenersAsync(); // every listener, as linuxListeners()
 */
export async function linuxListenersAsync(port?: number, options: SocketOptions = {}): Promise<Listener[]> {
  const rows = await readListenRowsAsync(options.families);
  return (await runSliced(listenerSocketSteps(port, options, rows))).listeners;
}

type SocketOptions = { hintPids?: readonly number[]; families?: { v4: boolean; v6: boolean } };

/** {@link linuxListeners}, with the socket inodes of the rows (the killer looks for their other holders). */
export function linuxListenerSockets(port?: number, options: SocketOptions = {}): { listeners: Listener[]; inodes: Set<number> } {
  return runNow(listenerSocketSteps(port, options));
}

function* listenerSocketSteps(port: number | undefined, options: SocketOptions, all?: ProcNetListenRow[]): Generator<void, { listeners: Listener[]; inodes: Set<number> }> {
  const rows = (all ?? readListenRows(options.families)).filter((row) => port === undefined || row.port === port);
  yield;
  // Listing every port (the view's poll): a socket whose holder a whole scan could not see is not searched again
  // for a while (it is still reported, with empty pids). A look-up of one port always searches.
  const holders = yield* inodeHolderSteps(
    new Set(rows.map((row) => row.inode)),
    new Set(rows.map((row) => row.uid)),
    options.hintPids ?? [],
    port === undefined ? UNFOUND_TTL_MS : 0,
  );
  const infoCache = new Map<number, ProcessInfo | undefined>();
  const byKey = new Map<string, Listener>();
  let n = 0;
  for (const row of rows) {
    if (++n % 256 === 0) yield;
    const key = `${row.port} ${row.address}`;
    let listener = byKey.get(key);
    if (!listener) {
      listener = { port: row.port, address: row.address, pids: [], processes: [], ownerUid: row.uid };
      byKey.set(key, listener);
    }
    for (const pid of holders.get(row.inode) ?? []) {
      if (listener.pids.includes(pid)) continue;
      if (!infoCache.has(pid)) {
        infoCache.set(pid, readLinuxProcessInfo(pid));
        yield;
      }
      const info = infoCache.get(pid);
      // A process that exited between the fd scan and now no longer holds the socket.
      if (!info) continue;
      listener.pids.push(pid);
      listener.processes.push(info);
    }
  }
  for (const listener of byKey.values()) {
    listener.pids.sort((a, b) => a - b);
    listener.processes.sort((a, b) => a.pid - b.pid);
  }
  return { listeners: [...byKey.values()], inodes: new Set(rows.map((row) => row.inode)) };
}

function* portPidSteps(port: number, families?: { v4: boolean; v6: boolean }, all?: ProcNetListenRow[]): Generator<void, number[]> {
  const rows = (all ?? readListenRows(families)).filter((row) => row.port === port);
  yield;
  const holders = yield* inodeHolderSteps(new Set(rows.map((row) => row.inode)), new Set(rows.map((row) => row.uid)), []);
  return [...new Set([...holders.values()].flat())].sort((a, b) => a - b);
}

/**
 * PIDs listening on `port`, sorted: {@link linuxListeners} without reading each holder's command line and cwd.
 *
 * @example
 * linuxPortPids(3000); // [4321]
 */
export function linuxPortPids(port: number, families?: { v4: boolean; v6: boolean }): number[] {
  return runNow(portPidSteps(port, families));
}

/**
 * {@link linuxPortPids} in slices that give the event loop a turn every few milliseconds. `syncHead` is a
 * process's first call (the CLI's only one): it reads the /proc/net heads on this thread (the threadpool's start
 * costs ~2 ms, measured) and goes on from slice to slice without the pause an editor's later calls take.
 */
export async function linuxPortPidsAsync(port: number, families?: { v4: boolean; v6: boolean }, syncHead = false): Promise<number[]> {
  if (syncHead) return runSliced(portPidSteps(port, families), { pause: false });
  return runSliced(portPidSteps(port, families, await readListenRowsAsync(families)));
}
