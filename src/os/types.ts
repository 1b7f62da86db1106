/**
 * Types shared by the OS layer. Nothing here imports `vscode`.
 */

/** A process as the OS layer describes it. */
export interface ProcessInfo {
  pid: number;
  /** Parent PID, when known. */
  ppid?: number;
  /** Short name (e.g. `node`); on Linux derived from argv[0] of /proc/<pid>/cmdline because `comm` reads `MainThread` for Node 24. */
  name: string;
  /** Full command line, arguments joined by spaces. */
  command: string;
  /** Working directory, when readable. */
  cwd?: string;
  /** Numeric user id, when known (not on Windows). */
  uid?: number;
  /** User name of the owner, when known. */
  user?: string;
}

/** One listening TCP socket set (all sockets of one local address and port). */
export interface Listener {
  port: number;
  /** Local address as the OS shows it: `0.0.0.0`, `127.0.0.1`, `::`, `::1`, ... */
  address: string;
  /** PIDs holding a listening socket on it (may be empty when the owner cannot be read, see `ownerUid`). */
  pids: number[];
  processes: ProcessInfo[];
  /** uid that owns the socket (Linux), so "held by another user" can be said even when its PIDs are unreadable. */
  ownerUid?: number;
}

export interface KillOptions {
  /** Time between SIGTERM and SIGKILL. Default 3000. */
  gracePeriodMs?: number;
  /** Skip SIGTERM and send SIGKILL at once. Default false. */
  force?: boolean;
  /** How long to wait, after the kill, for the port to be free. Default gracePeriodMs + 2000. */
  timeoutMs?: number;
  /** PIDs that must never be signalled besides PID 1, this process and its ancestors (e.g. the editor's processes). */
  protectedPids?: number[];
  /**
   * `killProcessesOnPort` only: the root of the server's process tree when the caller knows it (a server it
   * started). That tree is stopped without a lookup by port first; the port is still checked afterwards.
   */
  treeRootPid?: number;
}

/** A process that was stopped, with whose it was. */
export interface StoppedProcess {
  pid: number;
  /** Short name (`node`, `sh`). */
  name: string;
  /** Full command line. */
  command: string;
  /** Owner's user name, when known. */
  user?: string;
  /** Owner's numeric uid, when known (not on Windows). */
  uid?: number;
}

export interface KillResult {
  port: number;
  /**
   * Every PID that was signalled (holders and their trees). `killProcessesOnPort` resolves once the port is free:
   * the holders are gone, the rest of each tree may still be exiting; its non-enumerable `settled` tells when all are.
   */
  killedPids: number[];
  /** True when the port is free on every local address afterwards. */
  free: boolean;
  /**
   * What was stopped (the same PIDs as `killedPids`), with name, command line and owner, read before the kill.
   * `killProcessesOnPort` always sets it; optional so results built elsewhere (a command that stopped nothing) still fit.
   */
  stopped?: StoppedProcess[];
}

export interface WaitOptions {
  /** Default 5000. */
  timeoutMs?: number;
  /** Poll interval. Default 25. */
  intervalMs?: number;
}

/**
 * The OS operations the core depends on; `src/os/index.ts` provides the real implementation, tests of the core may
 * pass the real one too (the OS is never faked in OS-layer tests).
 */
export interface PortOs {
  isPortAvailable(port: number): Promise<boolean>;
  findProcessesOnPort(port: number): Promise<number[]>;
  listListeners(port?: number): Promise<Listener[]>;
  /** One snapshot of every listening TCP port (no process attribution: cheap). */
  listeningPorts(): Promise<Set<number>>;
  killProcessesOnPort(port: number, options?: KillOptions): Promise<KillResult>;
  waitForPortAvailable(port: number, options?: WaitOptions): Promise<boolean>;
  findAvailablePort(start: number, end: number, options?: { exclude?: Iterable<number> }): Promise<number | undefined>;
  /** True when a process with this PID exists (signal 0; EPERM counts as alive). */
  isProcessAlive(pid: number): boolean;
  /** Kill a process tree rooted at pid: TERM, grace, KILL. Resolves to the PIDs that were signalled and are gone. */
  killProcessTree(pid: number, options?: KillOptions): Promise<number[]>;
}
