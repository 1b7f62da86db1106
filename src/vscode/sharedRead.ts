/**
 * One read of `read` shared by every caller within `maxAgeMs` (the view and the status bar look at the ledger in
 * the same moment after one event), read again at once after `changed` fires (this window's own allocations).
 *
 * @example
 * const reservations = sharedRead(() => reservationsIn(ledger), allocator.onDidChange);
 */
export function sharedRead<T>(read: () => T, changed?: (listener: () => void) => unknown, maxAgeMs = 1000): () => T {
  let last: { at: number; value: T } | undefined;
  changed?.(() => (last = undefined));
  return () => {
    const now = Date.now();
    if (last && now - last.at < maxAgeMs) return last.value;
    const value = read();
    last = { at: now, value };
    return value;
  };
}
