/**
 * Which processes in a terminal are the dev server. The terminal's shell runs the command Dev Ports sent as one job
 * (bash with job control gives it its own process group); the job is recognised by facts only:
 * - the shell-integration execution Dev Ports started (the object `executeCommand` returned, or the one VS Code
 *   reports for exactly the command line that was sent) and no other execution of that terminal;
 * - the shell's children after that execution started (or, typed without shell integration, the children whose
 *   command line runs the program that was sent), and their process group.
 * The job has ended when its execution ended, or when every process of it seen running is gone. Never a guess
 * from "the shell has no child right now": a prompt hook's subshell or a slow start-up file would fake that.
 */
import type * as vscode from 'vscode';
import { readLinuxProcessInfo, type ProcessEntry, type ProcessTable } from '../../os/index';
import { childEntries, descendants } from '../../os/index';
import type { KillOptions, PortOs } from '../../os/types';

function isLive(entry: ProcessEntry | undefined): boolean {
  return entry !== undefined && entry.state !== 'Z' && entry.state !== 'X';
}

/** The program a command line starts: `npm` for `npm run dev`, `vite` for `/x/node_modules/.bin/vite --port 1`. */
export function programOf(command: string): string {
  const trimmed = command.trim();
  const quoted = /^(["'])(.*?)\1/.exec(trimmed);
  const first = quoted ? quoted[2] : (trimmed.split(/\s+/)[0] ?? '');
  // Either separator: a Windows path is read the same on every platform.
  const base = first.split(/[\\/]/).pop() ?? '';
  return base.replace(/\.(cmd|exe|bat|ps1|js|cjs|mjs)$/i, '').toLowerCase();
}

/** True when a process's command line runs `program` (as argv[0], or as the script node runs: `node /usr/bin/npm`). */
export function runsProgram(commandLine: string, program: string): boolean {
  if (!program) return false;
  return commandLine
    .split(/\s+/)
    .slice(0, 3)
    .some((word) => programOf(word) === program);
}

export class TerminalJob {
  /** The execution Dev Ports started; undefined when the command was typed (no shell integration). */
  execution: vscode.TerminalShellExecution | undefined;
  /** Our execution's start was reported (or the command was typed). */
  started = false;
  ended = false;
  exitCode: number | undefined;
  /** An execution VS Code reported for our command line was taken as ours (see isOurs). */
  private adopted = false;
  /** Process group of the job (POSIX), once seen. */
  private pgid: number | undefined;
  /** Processes of the job seen running: the shell's children in the job's process group. */
  private readonly members = new Set<number>();

  constructor(
    readonly shellPid: number | undefined,
    /** The command line as sent, to recognise our execution when VS Code reports it as a new object. */
    readonly sentCommandLine: string,
    readonly program: string,
  ) {}

  /**
   * True when `execution` is the one Dev Ports started. VS Code matches an `executeCommand` execution to what the
   * shell reports by exact command line; when the shell reports it differently it hands out a new object, which
   * is adopted here only if its command line is exactly the one sent and ours has not started.
   */
  isOurs(execution: vscode.TerminalShellExecution): boolean {
    if (execution === this.execution) return true;
    // Typed (shell integration came late) or handed out anew: adopted once, by exact command line.
    if (this.adopted || this.ended) return false;
    if (execution.commandLine.value.trim() !== this.sentCommandLine.trim()) return false;
    this.execution = execution;
    this.adopted = true;
    return true;
  }

  /** The job's first process (npm for `npm run dev`), never the shell. */
  rootPid(): number | undefined {
    return this.members.size ? Math.min(...this.members) : undefined;
  }

  /** Every process of the job in `table`, with their descendants. */
  pids(table: ProcessTable): number[] {
    const out = new Set<number>();
    for (const pid of this.members) {
      if (!isLive(table.get(pid))) continue;
      out.add(pid);
      for (const d of descendants(table, pid)) out.add(d);
    }
    return [...out];
  }

  /**
   * Updates the job from one process-table snapshot: records its processes, and marks it ended when every one
   * seen is gone. Returns true when it just ended.
   */
  observe(table: ProcessTable): boolean {
    if (this.shellPid === undefined || this.ended) return false;
    const children = childEntries(table, this.shellPid).filter(isLive);
    for (const child of children) {
      if (this.members.has(child.pid)) continue;
      if (this.pgid !== undefined) {
        if (child.pgid === this.pgid) this.members.add(child.pid);
        continue;
      }
      if (this.isJobProcess(child)) {
        this.members.add(child.pid);
        this.pgid = child.pgid;
      }
    }
    if (this.members.size > 0 && [...this.members].every((pid) => !isLive(table.get(pid)))) {
      this.ended = true;
      return true;
    }
    return false;
  }

  /**
   * A child of the shell is the job when our execution has started (bash runs one foreground job at a time, and
   * prompt hooks run before the start is reported), or when its command line runs the program that was sent.
   */
  private isJobProcess(child: ProcessEntry): boolean {
    const command = child.command ?? readLinuxProcessInfo(child.pid)?.command ?? '';
    if (runsProgram(command, this.program)) return true;
    // Between fork and exec the child still reads as the shell: wait for the exec.
    if (this.started && this.execution && command && !/\b(ba|z|fi|k|da)?sh\b/.test(programOf(command))) return true;
    return false;
  }

  markEnded(exitCode: number | undefined): void {
    this.ended = true;
    if (exitCode !== undefined) this.exitCode = exitCode;
  }

  /**
   * Stops every job of the shell as a process tree (TERM, grace, KILL; the OS layer also finds members
   * re-parented away but still in the job's process group). The shell itself is left to `terminal.dispose()`: an
   * interactive bash ignores SIGTERM, so killing it would always cost the whole grace period.
   */
  async kill(os: PortOs, table: ProcessTable, options: KillOptions): Promise<{ killed: number[]; failed: { pid: number; error: unknown }[] }> {
    const roots = new Set<number>();
    if (this.shellPid !== undefined) for (const e of childEntries(table, this.shellPid)) if (isLive(e)) roots.add(e.pid);
    for (const pid of this.members) if (isLive(table.get(pid))) roots.add(pid);
    const list = [...roots];
    const results = await Promise.allSettled(list.map((pid) => os.killProcessTree(pid, options)));
    const killed: number[] = [];
    const failed: { pid: number; error: unknown }[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') killed.push(...r.value);
      else failed.push({ pid: list[i], error: r.reason });
    });
    return { killed: [...new Set(killed)].sort((a, b) => a - b), failed };
  }
}
