/**
 * A process table for one stop of a tree: the lazy table of processTable.ts, remembering each process's children
 * once read, so the walks of one kill (the holder's relatives, the climb to the root, the tree, the roots'
 * nesting) read /proc/<pid>/task/<tid>/children once per process instead of once per walk. It answers as of its
 * first read: it is for one pass, not to keep (the confirmation after the grace reads a fresh table).
 */
import { LazyProcessTable, lazyProcessTable, type ProcessTable } from './processTable';

export class TreeTable extends LazyProcessTable {
  private readonly childrenCache = new Map<number, number[]>();

  override childrenOf(pid: number): number[] {
    let children = this.childrenCache.get(pid);
    if (!children) {
      children = super.childrenOf(pid);
      this.childrenCache.set(pid, children);
    }
    return children;
  }
}

/**
 * A {@link TreeTable} where the lazy table works (Linux with /proc/<pid>/task/<tid>/children), else what
 * {@link lazyProcessTable} gives (a full snapshot).
 *
 * @example
 * const table = await treeTable(); descendants(table, rootPid); descendants(table, rootPid); // one read per process
 */
export async function treeTable(): Promise<ProcessTable> {
  const table = await lazyProcessTable();
  return table instanceof LazyProcessTable ? new TreeTable() : table;
}
