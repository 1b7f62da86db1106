/**
 * Reading a dev server's terminal output for the port it really listens on. Frameworks move to another port by
 * themselves when theirs is taken (see FIELD-NOTES, "What frameworks do on an occupied port") and only say so in
 * their output. Pure text handling, no `vscode` and no OS calls: what is found here is a hint that the caller
 * confirms against the OS before acting on it.
 */

/**
 * Escape sequences a terminal stream carries besides text. Order matters: OSC and string sequences first (their
 * payload may hold `[`), then CSI, then the short two-byte escapes.
 * - OSC (`ESC ]`), ended by BEL or ST (`ESC \`): shell integration's `633;…` (VS Code), `133;…` (FinalTerm),
 *   window titles, `8;;url` hyperlinks. Left unterminated (the chunk ended inside it), it runs to the next ESC.
 * - DCS/PM/APC (`ESC P`, `ESC ^`, `ESC _`), also ended by ST.
 * - CSI (`ESC [` parameters, intermediates, final byte): colours, cursor moves, erase.
 * - Anything else `ESC` + intermediates + final byte: charset selection, keypad mode, save/restore cursor.
 */
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[P^_][^\u001b]*(?:\u001b\\)?|\u001b\[[0-?]*[ -/]*([@-~])|\u001b[ -/]*[0-~]/g;

/**
 * `text` without terminal escape sequences. A cursor move stands for the whitespace it replaces: ConPTY (Windows)
 * writes a run of spaces as "cursor forward" (`ESC [ 3 C`) and starts repainted lines with "cursor position"
 * (`ESC [ 5 ; 1 H`), so dropping them would glue words (`listening onport`) or a port to the next line's text.
 *
 * @example
 * stripAnsi('\u001b[32mLocal:\u001b[39m   http://localhost:\u001b[1m5174\u001b[22m/'); // 'Local:   http://localhost:5174/'
 */
export function stripAnsi(text: string): string {
  return text.replace(ESCAPES, (_all, final: string | undefined) => {
    if (final === 'C') return ' ';
    if (final !== undefined && 'ABEFHdf'.includes(final)) return '\n';
    return '';
  });
}

/** Any host a dev server prints in a URL or after "listening on": a name, IPv4, or a bracketed IPv6 (with zone). */
const HOST = String.raw`(?:\[[0-9A-Za-z:.%]*\]|[\w.-]+)`;

/**
 * What dev servers print once they listen, or when they move away from a taken port. Each captures the port
 * that is (or will be) listened on, never the taken one: Vite's "Port 5173 is in use, trying another one...",
 * Next's "Port 3000 is in use", Nuxt's "(tried 3000)", CRA's "Something is already running on port 3000" and
 * Node's "EADDRINUSE … :::3000" name the port the server did NOT get.
 */
const PATTERNS: readonly RegExp[] = [
  // Vite/Astro/Nuxt/CRA/Remix `Local: http://localhost:5174/`, webpack-dev-server `Loopback: http://localhost:8080/`,
  // Angular `open your browser on http://localhost:4200/`, Express-like `Server running at http://127.0.0.1:3000/`.
  new RegExp(String.raw`\bhttps?://${HOST}:(\d{2,5})\b`, 'gi'),
  // Next.js 14+: `⚠ Port 3000 is in use, using available port 3001 instead.`
  /\busing available port:? (\d{2,5})\b/gi,
  // Next.js 13 and older: `- warn Port 3000 is in use, trying 3001 instead.`
  /\btrying (\d{2,5}) instead\b/gi,
  // Nuxt (nuxi, get-port-please): `[get-port] Unable to find an available port (tried 3000). Using alternative port: 3001`;
  // newer get-port-please: `(tried 3000-3010 on host "localhost"). Using alternative port 3011.`, then `Using random port 41234`.
  /\busing (?:alternative|random) port:? (\d{2,5})\b/gi,
  // Angular (webpack builder): `** Angular Live Development Server is listening on localhost:4200, open your …`,
  // Express-like `Example app listening on port 3000`, `Listening on 0.0.0.0:3000`, `listening at [::]:3000`.
  // The lookahead keeps `listening on 127.0.0.1` (no port) from reading as port 127.
  new RegExp(String.raw`\blistening (?:on|at):?\s+(?:port\s*:?\s*|${HOST}:|:)?(\d{2,5})\b(?![.:]\d)`, 'gi'),
  // `Server is running on port 3000`, `Server started on port 3000`; not CRA's `Something is already running on port 3000`.
  /\b(?<!already )(?:running|started|serving) (?:on|at) port:? (\d{2,5})\b/gi,
];

/**
 * Ports a dev server announces in its output, in the order they appear, each once: `Local: http://localhost:5174/`,
 * `using available port 3001`, `trying 3001 instead`, `Using alternative port: 3001`, `Using random port 41234`,
 * `listening on localhost:4200`, `listening on port 3000`. Terminal escape sequences are removed first.
 * A URL may be another service's (an API the app talks to), so the caller must check that the port listens.
 *
 * @example
 * announcedPorts('\u001b[32m➜  Local:   http://localhost:\u001b[1m5174\u001b[22m/\u001b[39m'); // [5174]
 * announcedPorts('⚠ Port 3000 is in use, using available port 3001 instead.'); // [3001]
 */
export function announcedPorts(text: string): number[] {
  const plain = stripAnsi(text);
  const hits: { index: number; port: number }[] = [];
  for (const re of PATTERNS) {
    for (const m of plain.matchAll(re)) {
      const port = Number(m[1]);
      if (port >= 1 && port <= 65535) hits.push({ index: m.index ?? 0, port });
    }
  }
  hits.sort((a, b) => a.index - b.index);
  return [...new Set(hits.map((h) => h.port))];
}

// MINIMAL portTrouble (replaced at merge)
/** A dev server's output saying its port is taken, or asking whether to use another one. */
export interface PortTrouble {
  kind: 'inUse' | 'prompt';
  port?: number;
  line: string;
}

const IN_USE: readonly RegExp[] = [
  // Node: `Error: listen EADDRINUSE: address already in use :::3000` / `127.0.0.1:3000`.
  /\bEADDRINUSE\b.*?(?::(\d{2,5}))?\s*$/i,
  // Vite/VitePress strict: `Error: Port 5173 is already in use`; Angular `Port 4200 is already in use.`
  /\bport (\d{2,5}) is already in use\b/i,
  // Rsbuild strict: `Port 3000 is occupied, please choose another one.`
  /\bport (\d{2,5}) is occupied\b/i,
  // Parcel: `Error: Port "1234" could not be used`
  /\bport "?(\d{2,5})"? could not be used\b/i,
  /\baddress already in use\b.*?(?::(\d{2,5}))?\s*$/i,
];

const PROMPTS: readonly RegExp[] = [
  // CRA, Docusaurus, Gatsby: `Something is already running on port 3000.` … `run the app on another port instead? (Y/n)`
  /\bsomething is already running on port (\d{2,5})\b/i,
  // Angular: `Would you like to use a different port? (Y/n)`; Storybook: `Would you like to run Storybook on port 6007 instead?`
  /\bwould you like to (?:use a different port|run .{0,40}? on (?:another )?port(?: \d{2,5})? instead)\b/i,
];

/**
 * The first sign in `text` that the server's port is taken: an "already in use" error, or a framework's prompt for
 * another port. Escape sequences are removed first.
 *
 * @example
 * portTrouble('Error: listen EADDRINUSE: address already in use :::3000'); // { kind: 'inUse', port: 3000, line: '…' }
 */
export function portTrouble(text: string): PortTrouble | undefined {
  for (const raw of stripAnsi(text).split(/\r?\n|\r/)) {
    const line = raw.trim();
    if (!line) continue;
    for (const [kind, patterns] of [['prompt', PROMPTS], ['inUse', IN_USE]] as const) {
      for (const re of patterns) {
        const m = re.exec(line);
        if (!m) continue;
        const trouble: PortTrouble = { kind, line };
        const port = m[1] !== undefined ? Number(m[1]) : undefined;
        if (port !== undefined && port >= 1 && port <= 65535) trouble.port = port;
        return trouble;
      }
    }
  }
  return undefined;
}
