/**
 * Input checks of the OS layer. They throw plain `TypeError` / `RangeError` with one sentence naming the bad value;
 * the core maps them to its own errors (the OS layer does not depend on the core).
 */

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

/**
 * Throws unless `port` is an integer from 1 to 65535: `TypeError` when it is not an integer number at all,
 * `RangeError` when it is an integer outside 1–65535.
 *
 * @example
 * assertPort(3000);    // ok
 * assertPort('abc');   // TypeError: Port must be an integer between 1 and 65535, got "abc".
 * assertPort(70000);   // RangeError: Port must be an integer between 1 and 65535, got 70000.
 */
export function assertPort(port: unknown, what = 'Port'): asserts port is number {
  const message = `${what} must be an integer between 1 and 65535, got ${show(port)}.`;
  if (typeof port !== 'number' || !Number.isInteger(port)) throw new TypeError(message);
  if (port < 1 || port > 65535) throw new RangeError(message);
}

/**
 * Throws unless both ends are valid ports and `start <= end` (an inverted range is a `RangeError`).
 *
 * @example
 * assertRange(3000, 3999); // ok
 * assertRange(4000, 3000); // RangeError: The port range 4000-3000 is inverted: its start must not be above its end.
 */
export function assertRange(start: unknown, end: unknown): asserts start is number {
  assertPort(start, 'The start of the port range');
  assertPort(end, 'The end of the port range');
  if (start > (end as number)) {
    throw new RangeError(`The port range ${start}-${end} is inverted: its start must not be above its end.`);
  }
}

/**
 * Throws a `TypeError` unless `pid` is a positive integer.
 *
 * @example
 * assertPid(1234); // ok
 * assertPid(-1);   // TypeError: A PID must be a positive integer, got -1.
 */
export function assertPid(pid: unknown): asserts pid is number {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) {
    throw new TypeError(`A PID must be a positive integer, got ${show(pid)}.`);
  }
}
