import type * as vscode from 'vscode';
import type { StateStore } from '../core/types';

/**
 * The core's `StateStore` is the part of `Memento` it uses, so `workspaceState` is passed as is; this function
 * exists so the compiler checks that the two keep matching when either changes.
 *
 * @example
 * const store = mementoStore(context.workspaceState);
 * store.get<Allocation[]>('devPorts.allocations', []);
 */
export function mementoStore(memento: vscode.Memento): StateStore {
  return memento;
}
