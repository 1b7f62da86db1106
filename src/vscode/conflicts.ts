import * as vscode from 'vscode';
import { isOutOfSight, OUT_OF_SIGHT, type PortInUseError } from '../core/errors';
import type { Project } from '../core/projects';
import type { Logger } from '../core/types';
import { descendants, listListeners, readLinuxProcessInfo, snapshotProcessTable, treeRoot } from '../os/index';
import type { Listener, ProcessInfo } from '../os/types';

/**
 * What a start does when its port is held by a process Dev Ports did not start: `ask` (a message with buttons,
 * waited for), `notify` (the same message, not waited for: the start fails at once and the buttons start again on
 * the path picked; for callers from code, who must not hang on a notification nobody clicks), or a path chosen up
 * front by a caller that cannot click (`free`, `useNext`, `fail`).
 */
export type ConflictMode = 'ask' | 'notify' | 'free' | 'useNext' | 'fail';

/** Starts the project again on the path the user picked from a `notify` message. */
export type ConflictRetry = (mode: 'free' | 'useNext') => void;
export type ConflictDecision = 'free' | 'useNext' | 'fail' | 'cancel';

/** One process that freeing a port would stop. */
export interface StopTarget {
  pid: number;
  command: string;
  /** The listening process itself (not a parent or child of it). */
  holder: boolean;
}

const FREE = 'Free Port';
const SHOW_LOG = 'Show Log';
const MAX_COMMAND = 120;

function short(command: string): string {
  const one = command.replace(/\s+/g, ' ').trim();
  return one.length > MAX_COMMAND ? `${one.slice(0, MAX_COMMAND - 1)}…` : one;
}

/**
 * `node (PID 1234: node server.js)`; several joined with commas.
 *
 * @example
 * describeProcesses([{ pid: 1234, name: 'node', command: 'node server.js' }]); // 'node (PID 1234: node server.js)'
 */
export function describeProcesses(processes: readonly ProcessInfo[]): string {
  return processes.map((p) => `${p.name || 'a process'} (PID ${p.pid}${p.command ? `: ${short(p.command)}` : ''})`).join(', ');
}

/**
 * A port that the machine-wide ledger holds for a project on behalf of someone other than this window: its
 * holder is Dev Ports' business elsewhere, not a stranger's process.
 */
export interface ReservedBy {
  /** The project's name (or its folder's). */
  project: string;
  /** `another window (PID 4242)`, `a closed window (PID 4242)`, `the CLI`, `a script (PID 77)`. */
  who: string;
  /** Another VS Code window that is still open runs it: stopping it here stops it there. */
  openWindow: boolean;
}

function reservedText(r: ReservedBy): string {
  const there = r.openWindow ? '; stopping it here stops it in that window' : '';
  return `the port of ${r.project} reserved by ${r.who}${there}`;
}

/**
 * The port-conflict dialogue: one warning naming who holds the port, with `Free Port` (after a modal
 * confirmation that lists every process to be stopped), `Use Port N` and `Show Log`. `lastMessage` keeps the text
 * of the last conflict for the integration tests, which cannot read notifications.
 *
 * @example
 * const decision = await conflicts.resolve(project, error, 'ask'); // 'free' | 'useNext' | 'fail' | 'cancel'
 */
export class Conflicts {
  /** Text of the last conflict message (shown or, for `free`/`useNext`/`fail`, only logged). */
  lastMessage: string | undefined;
  /** Errors already shown to the user by a `notify` message, so the command does not show them twice. */
  private readonly shown = new WeakSet<object>();

  constructor(
    private readonly logger: Logger,
    private readonly showLog: () => void,
    private readonly gracePeriodMs: () => number,
    private readonly protectedPids: () => Promise<number[]>,
  ) {}

  /** The sentence that names the holder of a project's port. */
  describe(project: Project, error: PortInUseError): string {
    const holders = error.holders;
    if (holders.length === 0) {
      const who =
        error.ownerUid === undefined
          ? 'a process Dev Ports cannot see'
          : isOutOfSight(error.ownerUid, process.getuid?.())
            ? OUT_OF_SIGHT
            : `a process of another user (uid ${error.ownerUid})`;
      return `Port ${error.port} for ${project.name} is held by ${who}; Dev Ports cannot stop it.`;
    }
    return `Port ${error.port} for ${project.name} is in use by ${describeProcesses(holders)}, which Dev Ports did not start.`;
  }

  async resolve(project: Project, error: PortInUseError, mode: ConflictMode, retry?: ConflictRetry): Promise<ConflictDecision> {
    const text = this.describe(project, error);
    this.lastMessage = text;
    const asking = mode === 'ask' || mode === 'notify';
    this.logger.warn(`${text} (${asking ? 'asking' : `caller chose "${mode}"`})`);
    if (!asking) return mode;
    const answer = this.ask(text, error);
    if (mode === 'ask') return answer;
    this.shown.add(error);
    void answer.then(
      (decision) => {
        if ((decision === 'free' || decision === 'useNext') && retry) retry(decision);
      },
      (e: unknown) => this.logger.error(`conflict message failed: ${(e as Error).message}`),
    );
    return 'fail';
  }

  /** True when a `notify` message already told the user about this error. */
  wasShown(error: unknown): boolean {
    return typeof error === 'object' && error !== null && this.shown.has(error);
  }

  private async ask(text: string, error: PortInUseError): Promise<ConflictDecision> {
    const useNext = error.suggestedPort !== undefined ? `Use Port ${error.suggestedPort}` : undefined;
    const canFree = error.holders.length > 0;
    const buttons = [...(canFree ? [FREE] : []), ...(useNext ? [useNext] : []), SHOW_LOG];
    const choice = await vscode.window.showWarningMessage(text, ...buttons);
    this.logger.info(`port ${error.port}: ${choice === undefined ? 'the question was closed without an answer' : `the answer was "${choice}"`}`);
    if (choice === FREE) {
      const agreed = await this.confirmStop(error.port, await this.stopPlan(error.port));
      if (!agreed) this.logger.info(`port ${error.port}: stopping its holder was cancelled`);
      return agreed ? 'free' : 'cancel';
    }
    if (choice !== undefined && choice === useNext) return 'useNext';
    if (choice === SHOW_LOG) this.showLog();
    return 'cancel';
  }

  /**
   * Every process freeing `port` would stop, as the OS layer's `killProcessesOnPort` picks them: from each holder
   * up to the root of its job (npm above sh above node), then that root's whole tree.
   */
  async stopPlan(port: number, listeners?: readonly Listener[]): Promise<StopTarget[]> {
    const held = listeners ?? (await listListeners(port));
    const table = await snapshotProcessTable();
    const guard = new Set(await this.protectedPids());
    const holderPids = new Set(held.flatMap((l) => l.pids));
    const info = new Map<number, ProcessInfo>();
    for (const l of held) for (const p of l.processes) info.set(p.pid, p);
    const targets = new Map<number, StopTarget>();
    for (const pid of holderPids) {
      const root = treeRoot(table, pid, guard);
      for (const p of [root, ...descendants(table, root)]) {
        if (targets.has(p) || guard.has(p)) continue;
        const entry = table.get(p);
        const command = info.get(p)?.command || readLinuxProcessInfo(p)?.command || entry?.command || entry?.name || '';
        targets.set(p, { pid: p, command, holder: holderPids.has(p) });
      }
    }
    return [...targets.values()];
  }

  /**
   * The same question as {@link confirmStop}, as a notification nobody waits for: its button frees the port
   * (`devPorts.freePort` with `force`, as the user has now answered).
   */
  offerStop(port: number, plan: readonly StopTarget[], reservedBy?: ReservedBy): void {
    const holders = plan.filter((t) => t.holder).map((t) => `PID ${t.pid}: ${short(t.command) || '(command unknown)'}`);
    const stop = plan.length === 1 ? 'Stop Process' : `Stop ${plan.length} Processes`;
    const whose = reservedBy ? `, ${reservedText(reservedBy)}` : ', which Dev Ports did not start';
    const text = `Port ${port} is held by ${holders.join(', ') || 'a process'}${whose}. Stop ${plan.length === 1 ? 'it' : `it and ${plan.length - 1} related process${plan.length === 2 ? '' : 'es'}`}?`;
    this.lastMessage = text;
    void vscode.window.showWarningMessage(text, stop, SHOW_LOG).then((choice) => {
      if (choice === stop) void vscode.commands.executeCommand('devPorts.freePort', { port, force: true }).then(undefined, () => undefined);
      if (choice === SHOW_LOG) this.showLog();
    });
  }

  /** A modal question that says exactly what will be stopped. True when the user agreed. */
  async confirmStop(port: number, plan: readonly StopTarget[], reservedBy?: ReservedBy): Promise<boolean> {
    const lines = plan.map((t) => `PID ${t.pid}${t.holder ? ' (listening)' : ''}: ${short(t.command) || '(command unknown)'}`);
    const detail = [
      `These processes will be stopped (SIGTERM, then SIGKILL after ${this.gracePeriodMs()} ms):`,
      ...lines,
      '',
      'Unsaved work in them is lost.',
    ].join('\n');
    const stop = plan.length === 1 ? 'Stop Process' : `Stop ${plan.length} Processes`;
    const title = reservedBy ? `Free port ${port}? It is ${reservedText(reservedBy)}.` : `Free port ${port}? Dev Ports did not start what holds it.`;
    const choice = await vscode.window.showWarningMessage(
      title,
      { modal: true, detail },
      stop,
    );
    return choice === stop;
  }
}
