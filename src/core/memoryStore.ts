import type { StateStore } from './types';

/** A `StateStore` kept in memory, with a peek at the raw values (tests use it to plant corrupted data). */
export interface MemoryStore extends StateStore {
  /** The raw stored values, as a VS Code Memento would persist them (JSON copies). */
  readonly values: Map<string, unknown>;
}

function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/**
 * An in-memory `StateStore` for library users and tests. Like VS Code's Memento it keeps JSON copies, so a caller
 * mutating what it read or wrote never changes the stored value; `update(key, undefined)` removes the key.
 *
 * @example
 * const allocator = new PortAllocator({ store: createMemoryStore(), ledger: new Ledger(), os: nodeOs });
 */
export function createMemoryStore(initial: Record<string, unknown> = {}): MemoryStore {
  const values = new Map<string, unknown>();
  for (const [key, value] of Object.entries(initial)) values.set(key, jsonCopy(value));
  function get<T>(key: string): T | undefined;
  function get<T>(key: string, defaultValue: T): T;
  function get<T>(key: string, defaultValue?: T): T | undefined {
    return values.has(key) ? jsonCopy(values.get(key) as T) : defaultValue;
  }
  return {
    values,
    get,
    update(key: string, value: unknown): Promise<void> {
      if (value === undefined) values.delete(key);
      else values.set(key, jsonCopy(value));
      return Promise.resolve();
    },
  };
}
