import { ancestors, lazyProcessTable } from '../os/index';

/**
 * The editor's own processes: this extension host, its parent and every ancestor (the VS Code server, its port
 * forwarder, the desktop app). Dev Ports never signals them and never offers them for stopping. Read once (they
 * do not change while the extension host lives); until then, and if the process table cannot be read, the
 * extension host and its parent.
 *
 * @example
 * const editor = new EditorProcesses();
 * await editor.pids(); // [4242, 4200, 4100, 1]
 */
export class EditorProcesses {
  private cache: number[] | undefined;
  private reading: Promise<number[]> | undefined;

  /** Known now without a process-table read (for callers that must not wait). */
  known(): number[] {
    return this.cache ?? [process.pid, process.ppid];
  }

  pids(): Promise<number[]> {
    if (this.cache) return Promise.resolve(this.cache);
    // A walk up from this process: on Linux one /proc/<pid>/stat per ancestor, not the whole table.
    this.reading ??= lazyProcessTable()
      .then((table) => {
        this.cache = [...new Set([process.pid, process.ppid, ...ancestors(table, process.pid)])];
        return this.cache;
      })
      .catch(() => {
        this.reading = undefined;
        return [process.pid, process.ppid];
      });
    return this.reading;
  }
}
