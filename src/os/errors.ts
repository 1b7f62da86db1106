/**
 * Plain errors of the OS layer. They carry a Node-style `code` plus the facts a caller needs to speak to the user
 * (PID, owner, command, port); the core maps them to its own error classes.
 */

/** What an {@link OsAccessError} knows about the process or socket it could not touch. */
export interface OsAccessDetails {
  /** `EPERM`: signalling another user's process; `EACCES`: a privileged port, or another user's socket that cannot be inspected. */
  code: 'EPERM' | 'EACCES';
  port?: number;
  pid?: number;
  uid?: number;
  user?: string;
  command?: string;
}

/**
 * Permission problem of the OS layer: a process of another user, a socket whose owner cannot be seen, or a
 * privileged port that cannot be bind-checked.
 *
 * @example
 * try { await killProcessTree(42); } catch (e) { if (e instanceof OsAccessError) console.error(e.message, e.user); }
 */
export class OsAccessError extends Error implements OsAccessDetails {
  readonly code: 'EPERM' | 'EACCES';
  readonly port?: number;
  readonly pid?: number;
  readonly uid?: number;
  readonly user?: string;
  readonly command?: string;

  constructor(message: string, details: OsAccessDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OsAccessError';
    this.code = details.code;
    this.port = details.port;
    this.pid = details.pid;
    this.uid = details.uid;
    this.user = details.user;
    this.command = details.command;
  }
}

/** `err.code` of a Node system error, if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * Asked to signal a process that must never be signalled: PID 1, this process, one of its ancestors (the editor,
 * the terminal) or a PID the caller protected.
 *
 * @example
 * await killProcessTree(process.pid); // throws ProtectedProcessError
 */
export class ProtectedProcessError extends Error {
  readonly code = 'EPROTECTED';

  constructor(
    message: string,
    readonly pid: number,
  ) {
    super(message);
    this.name = 'ProtectedProcessError';
  }
}
