/**
 * Pure output formatting of the `dev-ports` CLI: JSON shapes of the contract and aligned human tables. No I/O.
 */
import type { Listener } from '../os/types';
import type { Allocation } from '../core/types';
import type { LedgerEntry } from '../core/ledger';
import { isOutOfSight } from '../core/errors';

/** Control characters (C0, DEL, C1), line and paragraph separators, and bidirectional overrides. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes text from outside (another user's command line, a project id) safe to print on a terminal: control
 * characters become visible escapes (`\n`, `\t`, `\r`, `\x1b`, `\u202e`), so nothing can move the cursor, recolour
 * the terminal or fake a line of output.
 *
 * @example
 * escapeControl('evil\x1b[2J\nroot'); // 'evil\\x1b[2J\\nroot'
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** One row of `dev-ports list --json`, as CONTRACT.md shapes it. */
export interface ListEntry {
  port: number;
  address: string;
  pids: number[];
  processes: { pid: number; command: string; cwd?: string }[];
  allocation?: Allocation;
}

/**
 * Pretty JSON followed by a newline, the form every `--json` output takes.
 *
 * @example
 * formatJson({ port: 3000 }); // '{\n  "port": 3000\n}\n'
 */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Only the contract's Allocation fields, so internal ledger fields (the owner) never leak into the CLI's JSON.
 *
 * @example
 * toAllocation({ projectId: '/w/web', port: 3000, allocatedAt: 1, owner: { pid: 9, kind: 'cli' } } as never);
 * // { projectId: '/w/web', port: 3000, allocatedAt: 1 }
 */
export function toAllocation(entry: Allocation): Allocation {
  const allocation: Allocation = { projectId: entry.projectId, port: entry.port, allocatedAt: entry.allocatedAt };
  if (entry.pid !== undefined) allocation.pid = entry.pid;
  return allocation;
}

/**
 * Builds the `list --json` rows: listeners sorted by port then address, each with its ledger allocation if any.
 *
 * @example
 * toListEntries(await listListeners(), ledger.entries());
 * // [{ port: 3000, address: '127.0.0.1', pids: [1234], processes: [{ pid: 1234, command: 'node server.js', cwd: '/w/web' }],
 * //    allocation: { projectId: '/w/web', port: 3000, allocatedAt: 1718000000000 } }]
 */
export function toListEntries(listeners: readonly Listener[], allocations: readonly Allocation[]): ListEntry[] {
  const byPort = new Map<number, Allocation>();
  for (const a of allocations) byPort.set(a.port, a);
  return [...listeners]
    .sort((a, b) => a.port - b.port || a.address.localeCompare(b.address))
    .map((listener) => {
      const entry: ListEntry = {
        port: listener.port,
        address: listener.address,
        pids: [...listener.pids],
        processes: listener.processes.map((p) => (p.cwd !== undefined ? { pid: p.pid, command: p.command, cwd: p.cwd } : { pid: p.pid, command: p.command })),
      };
      const allocation = byPort.get(listener.port);
      if (allocation) entry.allocation = toAllocation(allocation);
      return entry;
    });
}

/**
 * Cuts `text` to `width` characters, ending with `…` when cut.
 *
 * @example
 * truncate('node server.js --port 3000', 10); // 'node serv…'
 */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return '…';
  return `${text.slice(0, width - 1)}…`;
}

/** Like `truncate` but keeps the end, for paths: `…/apps/web`. */
export function truncateStart(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return '…';
  return `…${text.slice(text.length - width + 1)}`;
}

export interface TableOptions {
  /** Total width available (the terminal's columns); no limit when undefined. */
  maxWidth?: number;
  /** Columns that give up characters, in order, when the table is wider than maxWidth: index and the least width kept. */
  shrink?: { column: number; min: number; keep?: 'start' | 'end' }[];
}

const GAP = '  ';

/**
 * Aligns rows under headers, columns separated by two spaces, no trailing spaces. With `maxWidth`, the `shrink`
 * columns are cut (with `…`) until the table fits or they reach their minimum.
 *
 * @example
 * formatTable(['PORT', 'COMMAND'], [['3000', 'node server.js']]);
 * // 'PORT  COMMAND\n3000  node server.js\n'
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const cells = rows.map((row) => headers.map((_, i) => escapeControl(row[i] ?? '').replace(/\s+/g, ' ')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
  if (options.maxWidth !== undefined) {
    let excess = widths.reduce((sum, w) => sum + w, 0) + GAP.length * (headers.length - 1) - options.maxWidth;
    for (const { column, min } of options.shrink ?? []) {
      if (excess <= 0) break;
      const floor = Math.max(min, headers[column].length);
      const cut = Math.min(excess, Math.max(0, widths[column] - floor));
      widths[column] -= cut;
      excess -= cut;
    }
  }
  const keepStart = new Set((options.shrink ?? []).filter((s) => s.keep === 'start').map((s) => s.column));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => {
        const fitted = keepStart.has(i) ? truncateStart(cell, widths[i]) : truncate(cell, widths[i]);
        return i === row.length - 1 ? fitted : fitted.padEnd(widths[i]);
      })
      .join(GAP)
      .trimEnd();
  return [line(headers), ...cells.map(line)].map((l) => `${l}\n`).join('');
}

/**
 * Human table of `dev-ports list`: one row per process on each listening socket.
 *
 * @example
 * formatListTable(listeners, ledger.entries(), 100, process.getuid?.());
 * // PORT  ADDRESS    PID   USER  COMMAND         PROJECT
 * // 3000  127.0.0.1  1234  me    node server.js  /w/web
 */
export function formatListTable(
  listeners: readonly Listener[],
  allocations: readonly Allocation[],
  maxWidth?: number,
  /** uid of the user running the CLI: a socket of ours without visible PIDs lives in another PID namespace. */
  ownUid?: number,
): string {
  if (listeners.length === 0) return 'No TCP port is listening.\n';
  const byPort = new Map<number, Allocation>();
  for (const a of allocations) byPort.set(a.port, a);
  const rows: string[][] = [];
  const sorted = [...listeners].sort((a, b) => a.port - b.port || a.address.localeCompare(b.address));
  for (const listener of sorted) {
    const project = byPort.get(listener.port)?.projectId ?? '';
    const socketUser = listener.ownerUid !== undefined ? String(listener.ownerUid) : '';
    const seen = new Set<number>();
    for (const p of listener.processes) {
      seen.add(p.pid);
      const user = p.user ?? (p.uid !== undefined ? String(p.uid) : socketUser);
      rows.push([String(listener.port), listener.address, String(p.pid), user, p.command || p.name, project]);
    }
    for (const pid of listener.pids) {
      // A PID without details exited between the socket scan and the process read.
      if (!seen.has(pid)) rows.push([String(listener.port), listener.address, String(pid), socketUser, '(exited)', project]);
    }
    if (listener.pids.length === 0) {
      const who =
        listener.ownerUid === undefined
          ? '(unknown process)'
          : isOutOfSight(listener.ownerUid, ownUid)
            ? '(not visible from here: another PID namespace, container or VM)'
            : "(another user's process: run as that user or root to see it)";
      rows.push([String(listener.port), listener.address, '-', socketUser, who, project]);
    }
  }
  return formatTable(['PORT', 'ADDRESS', 'PID', 'USER', 'COMMAND', 'PROJECT'], rows, {
    maxWidth,
    shrink: [
      { column: 4, min: 20 },
      { column: 5, min: 16, keep: 'start' },
    ],
  });
}

/**
 * Short age such as `45 s`, `12 min`, `3 h`, `2 d`.
 *
 * @example
 * formatAge(90_000); // '1 min'
 */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

/**
 * Who made a reservation, for people: `cli`, `VS Code (PID 4242)`, `library`; entries of a newer Dev Ports and
 * unreadable ones say so. Entries without an owner were made by a CLI or a script of an older version.
 *
 * @example
 * madeBy({ projectId: '/w/web', port: 3000, allocatedAt: 1, owner: { pid: 4242, kind: 'vscode' } }); // 'VS Code (PID 4242)'
 */
export function madeBy(entry: Allocation & Pick<LedgerEntry, 'owner' | 'foreign'>): string {
  if (entry.foreign === 'newer-version') return 'a newer Dev Ports';
  if (entry.foreign === 'unreadable') return '(cannot read)';
  if (!entry.owner) return 'cli or library';
  if (entry.owner.kind === 'vscode') return `VS Code (PID ${entry.owner.pid})`;
  return entry.owner.kind;
}

/**
 * Human table of `dev-ports allocations`: port, project, age, the dev server's PID and who made the reservation.
 *
 * @example
 * formatAllocationsTable([{ projectId: '/w/web', port: 3000, allocatedAt: now - 60_000, owner: { pid: 9, kind: 'cli' } }], now);
 * // PORT  PROJECT  AGE    PID  BY
 * // 3000  /w/web   1 min       cli
 */
export function formatAllocationsTable(
  allocations: readonly (Allocation & Pick<LedgerEntry, 'owner' | 'foreign'>)[],
  now: number,
  maxWidth?: number,
): string {
  if (allocations.length === 0) return 'No port is reserved.\n';
  const rows = [...allocations]
    .sort((a, b) => a.port - b.port)
    .map((a) => [
      String(a.port),
      a.projectId,
      // Stamped in the future: the clock was stepped back since; say so rather than print a negative age.
      a.allocatedAt > now + 60_000 ? 'in the future' : a.foreign === 'unreadable' ? '?' : formatAge(now - a.allocatedAt),
      a.pid !== undefined ? String(a.pid) : '',
      madeBy(a),
    ]);
  return formatTable(['PORT', 'PROJECT', 'AGE', 'PID', 'BY'], rows, { maxWidth, shrink: [{ column: 1, min: 16, keep: 'start' }] });
}
