import * as fs from 'fs';

/**
 * One read of `read` shared by every caller while `version()` stays the same (the view and the status bar look at
 * the ledger in the same moment after one event); read again when it changes, when it is undefined (unknown, or
 * too recent to trust), after `changed` fires (this window's own allocations), or after `maxAgeMs`.
 *
 * @example
 * const reservations = sharedRead(() => reservationsIn(ledger), { version: folderVersion(ledger.portsDir), changed: allocator.onDidChange });
 */
export function sharedRead<T>(read: () => T, options: { version: () => unknown; changed?: (listener: () => void) => unknown; maxAgeMs?: number }): () => T {
  const maxAgeMs = options.maxAgeMs ?? 2000;
  let last: { at: number; version: unknown; value: T } | undefined;
  options.changed?.(() => (last = undefined));
  return () => {
    const now = Date.now();
    const version = options.version();
    if (last && version !== undefined && last.version === version && now - last.at < maxAgeMs) return last.value;
    const value = read();
    last = { at: now, version, value };
    return value;
  };
}

/**
 * A folder's version for {@link sharedRead}: its mtime, which moves with every file created, renamed over or
 * removed in it (the ledger writes entries by rename). Undefined while the mtime is within `settleMs` of now: file
 * times are coarse (a clock tick), so two changes inside one tick would share an mtime.
 */
export function folderVersion(dir: string, settleMs = 100): () => string | undefined {
  return () => {
    try {
      const st = fs.statSync(dir, { bigint: true });
      if (Date.now() - Number(st.mtimeMs) < settleMs) return undefined;
      return `${st.mtimeNs}:${st.ino}`;
    } catch {
      return undefined;
    }
  };
}
