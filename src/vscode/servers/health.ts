/**
 * Health of a running dev server, from what the OS shows: starting → listening (its own tree holds a listening
 * socket on its port) → ready (an HTTP answer from 127.0.0.1 or ::1, for HTTP servers) → unhealthy (it stopped
 * listening, or it is alive but has not listened after {@link NOT_LISTENING_AFTER_MS}) → exited (its job ended).
 * The timeout only names a state for the user; whether the server exists is never decided by time.
 */
import * as http from 'http';

/** "Alive but not listening" becomes unhealthy after this long: slow builds (Next, Angular) listen within it. */
export const NOT_LISTENING_AFTER_MS = 60_000;
/** One HTTP probe's budget: a dev server that accepts but does not answer is not ready yet. */
const PROBE_TIMEOUT_MS = 1500;

/**
 * True when something answers HTTP on the port (any status, even 404 or 500: the server is up). Asks `::1` when
 * the server listens only there, else 127.0.0.1; never another address.
 *
 * @example
 * await answersHttp(3000, '::'); // true once `next dev` serves
 */
export function answersHttp(port: number, address: string | undefined): Promise<boolean> {
  const host = address === '::1' ? '::1' : '127.0.0.1';
  return new Promise((resolve) => {
    const request = http.get({ host, port, path: '/', timeout: PROBE_TIMEOUT_MS, headers: { 'user-agent': 'dev-ports-health' } }, (response) => {
      response.resume();
      resolve(true);
    });
    request.on('timeout', () => {
      request.destroy();
      resolve(false);
    });
    request.on('error', () => resolve(false));
  });
}

/** The row's note for a state reached by a fact, e.g. 'not listening after 60 s'. */
export function notListeningNote(ms: number): string {
  return `not listening after ${Math.round(ms / 1000)} s`;
}

/** Exit codes that mean someone meant the stop: Ctrl+C (130), a TERM from outside (143). */
export function isDeliberateExit(code: number | undefined): boolean {
  return code === 130 || code === 143;
}

/** ` with code N` for a known exit code, else nothing: `web exited with code 1`, `web exited`. */
export function codeText(code: number | undefined): string {
  return code === undefined ? '' : ` with code ${code}`;
}

/**
 * The warning for an exit nobody asked for, or undefined when there is nothing to say: Ctrl+C and a TERM from
 * outside are not failures, nor is an exit 0 of a server that listened; an unknown code of a server that listened
 * says nothing yet (its code may come later with shell integration's end event, and is judged then).
 *
 * @example
 * exitReportText({ name: 'web', port: 3000, code: 1, seenListening: true }); // 'web stopped (exit code 1); port 3000 was released.'
 */
export function exitReportText(exit: { name: string; port: number; code: number | undefined; seenListening: boolean }): string | undefined {
  const { name, port, code } = exit;
  if (isDeliberateExit(code)) return undefined;
  if (!exit.seenListening && (code === 0 || code === undefined)) {
    return `${name} ended${codeText(code)} without ever listening on port ${port} (it may have printed that it listens, or its port was taken); port ${port} was released.`;
  }
  if (code !== undefined && code !== 0) return `${name} stopped (exit code ${code}); port ${port} was released.`;
  return undefined;
}
