import { LazyProcessTable, lazyProcessTable, type ProcessEntry, type ProcessTable } from '../os/processTable';

/**
 * A process table for reading a few trees (a poll of the servers' own processes): on Linux it reads only what is
 * asked (/proc/<pid>/task/<tid>/children and one stat per process of those trees), not the whole table.
 *
 * @example
 * const table = await treeTable(); childEntries(table, shellPid); // the shell's children, nothing else read
 */
export function treeTable(): Promise<ProcessTable> {
  return lazyProcessTable();
}

/** The entries of `pid`'s children in `table`, read from the children files when the table is lazy. */
export function childEntries(table: ProcessTable, pid: number): ProcessEntry[] {
  if (table instanceof LazyProcessTable) {
    const out: ProcessEntry[] = [];
    for (const child of table.childrenOf(pid)) {
      const entry = table.get(child);
      if (entry && entry.ppid === pid) out.push(entry);
    }
    return out;
  }
  const out: ProcessEntry[] = [];
  for (const entry of table.values()) if (entry.ppid === pid && entry.pid !== pid) out.push(entry);
  return out;
}
