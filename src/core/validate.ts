/**
 * Input checks of the core, done up front so a bad value never reaches the ledger or the OS. They throw
 * `InvalidInputError` (the CLI turns it into exit code 2) with one sentence naming the bad value.
 */
import { InvalidInputError } from './errors';
import type { PortRange } from './types';

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return typeof value;
  }
}

/**
 * True for an integer TCP port from 1 to 65535.
 *
 * @example
 * isValidPort(3000); // true
 * isValidPort(3000.5); // false
 */
export function isValidPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/**
 * Throws unless `port` is an integer from 1 to 65535.
 *
 * @example
 * assertValidPort(3000); // ok
 * assertValidPort(70000); // InvalidInputError: Port must be an integer from 1 to 65535, got 70000.
 */
export function assertValidPort(port: unknown, what = 'Port'): asserts port is number {
  if (!isValidPort(port)) throw new InvalidInputError(`${what} must be an integer from 1 to 65535, got ${show(port)}.`);
}

/**
 * Throws unless both ends are valid ports and `start <= end`.
 *
 * @example
 * assertValidRange({ start: 3000, end: 3999 }); // ok
 * assertValidRange({ start: 4000, end: 3000 }); // InvalidInputError: inverted
 */
export function assertValidRange(range: unknown): asserts range is PortRange {
  if (typeof range !== 'object' || range === null) {
    throw new InvalidInputError(`A port range must be { start, end }, got ${show(range)}.`);
  }
  const { start, end } = range as Partial<PortRange>;
  assertValidPort(start, 'The start of the port range');
  assertValidPort(end, 'The end of the port range');
  if (start > end) throw new InvalidInputError(`The port range ${start}-${end} is inverted: its start must not be above its end.`);
}

/**
 * Throws unless `projectId` is a non-empty string.
 *
 * @example
 * assertProjectId('/home/me/shop/apps/web'); // ok
 */
export function assertProjectId(projectId: unknown): asserts projectId is string {
  if (typeof projectId !== 'string' || projectId.trim() === '') {
    throw new InvalidInputError(`A project id must be a non-empty string (a project folder or name), got ${show(projectId)}.`);
  }
}

/**
 * Throws unless `pid` is a positive integer.
 *
 * @example
 * assertPid(process.pid); // ok
 */
export function assertPid(pid: unknown): asserts pid is number {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) {
    throw new InvalidInputError(`A PID must be a positive integer, got ${show(pid)}.`);
  }
}

/**
 * Throws unless `ms` is a finite number of milliseconds, zero or more.
 *
 * @example
 * assertDuration(5 * 60_000, 'The stale age'); // ok
 */
export function assertDuration(ms: unknown, what: string): asserts ms is number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new InvalidInputError(`${what} must be a number of milliseconds, zero or more, got ${show(ms)}.`);
  }
}
