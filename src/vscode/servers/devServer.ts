/**
 * The record of one dev server Dev Ports started, and the shapes the manager's callers see. A record follows facts
 * only: the terminal's process tree, the shell-integration execution Dev Ports started, the listening socket.
 */
import type * as vscode from 'vscode';
import type { Project } from '../../core/projects';
import type { ConflictMode } from '../conflicts';
import type { TerminalJob } from './terminalJob';

/** CONTRACT.md `DevServerInfo.state`. */
export type ServerState = 'starting' | 'listening' | 'ready' | 'unhealthy' | 'exited';

/** The model/tree input (INTERFACES.md "Servers"); the view renders it, `getServers()` is built from it. */
export interface ServerInfo {
  projectId: string;
  port: number;
  state: ServerState;
  /** 'waiting' = a conflict question is open (the tree says "waiting for your answer"); 'stopping' while a stop runs. */
  phase?: 'waiting' | 'stopping';
  /** The process that listens, else the job's root (never the shell). */
  pid?: number;
  shellPid?: number;
  startedAt: number;
  exitCode?: number;
  extraPorts?: number[];
  commandLine: string;
  terminalName: string;
  /** Short fact for the row, e.g. 'moved from 3000', 'exited with code 1', 'not listening after 60 s'. */
  note?: string;
}

/** CONTRACT.md `DevServerInfo` (the API's `getServers()`). */
export interface DevServerInfo {
  projectId: string;
  port: number;
  state: ServerState;
  pid?: number;
  startedAt: number;
  exitCode?: number;
  extraPorts?: number[];
}

export type { MetricKind, MetricsSink } from '../../core/metrics';

/** A dev server Dev Ports runs in an integrated terminal. */
export interface DevServer {
  readonly project: Project;
  readonly terminal: vscode.Terminal;
  readonly terminalName: string;
  port: number;
  state: ServerState;
  phase?: 'stopping';
  /** PID of the terminal's shell; the dev server is the job it runs. */
  shellPid?: number;
  readonly startedAt: number;
  /** The command line that was sent, for the tree's tooltip. */
  readonly commandLine: string;
  /** Which processes are the server: the execution Dev Ports started and its process tree. */
  readonly job: TerminalJob;
  /** The process seen listening on `port`. */
  listenerPid?: number;
  /** Other ports the server's tree listens on (HMR, inspector). */
  extraPorts: number[];
  /** The port was seen listening (held by the server's own tree) at least once. */
  seenListening: boolean;
  /** When the port was last seen listening. */
  listeningSince?: number;
  exitCode?: number;
  note?: string;
  /** The server's script handed it to a process outside the terminal (nohup, setsid, a process manager). */
  daemonPids?: number[];
  /** Ports it announced in its output, in order (a hint for which of its tree's ports it serves on). */
  announced: number[];
  /** An HTTP probe is under way. */
  probing?: boolean;
  /** Its job's end was handled (it is seen by the end event, the output stream and the process tree). */
  jobEndHandled?: boolean;
  /** A conflict was raised from its output: its exit is not reported a second time. */
  conflictRaised?: boolean;
  /** Its exit was reported to the user (once, whether its code came with the end or after it). */
  exitReported?: boolean;
  /** Runs in a JavaScript Debug Terminal. */
  readonly debug: boolean;
}

export interface StartOptions {
  /** What to do when the port is held by a process Dev Ports did not start; default `ask`. */
  onConflict?: ConflictMode;
  /** Port to ask for (a restart keeps its port); a conflict on it goes through `onConflict`. */
  port?: number;
  /** Run the dev server in a JavaScript Debug Terminal (VS Code's js-debug), so breakpoints in server code bind. */
  debug?: boolean;
}

export interface StartResult {
  projectId: string;
  port: number;
  terminalName: string;
}

export interface StopResult {
  projectId: string;
  port: number | undefined;
  released: boolean;
  /** Processes that were stopped (beyond the contract's shape, for Free Port on a port of our own server). */
  killedPids?: number[];
}

/** The record as the view and the API see it. */
export function toServerInfo(server: DevServer): ServerInfo {
  const info: ServerInfo = {
    projectId: server.project.id,
    port: server.port,
    state: server.state,
    startedAt: server.startedAt,
    commandLine: server.commandLine,
    terminalName: server.terminalName,
  };
  if (server.phase) info.phase = server.phase;
  const pid = server.listenerPid ?? server.daemonPids?.[0] ?? server.job.rootPid();
  if (pid !== undefined) info.pid = pid;
  if (server.shellPid !== undefined) info.shellPid = server.shellPid;
  if (server.exitCode !== undefined) info.exitCode = server.exitCode;
  if (server.extraPorts.length > 0) info.extraPorts = [...server.extraPorts];
  if (server.note) info.note = server.note;
  return info;
}

/** CONTRACT.md's `DevServerInfo` of a `ServerInfo` (the manager's extra fields dropped). */
export function toDevServerInfo(info: ServerInfo): DevServerInfo {
  const out: DevServerInfo = { projectId: info.projectId, port: info.port, state: info.state, startedAt: info.startedAt };
  if (info.pid !== undefined) out.pid = info.pid;
  if (info.exitCode !== undefined) out.exitCode = info.exitCode;
  if (info.extraPorts?.length) out.extraPorts = [...info.extraPorts];
  return out;
}
