/**
 * What the CLI knows of a VS Code workspace's settings: the port range of `devPorts.portRange.start/end`, read
 * from the nearest `.vscode/settings.json` at or above a project folder, so `dev-ports reserve` hands out ports
 * of the same range as the window that has that folder open. Nothing here imports `vscode`.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { PortRange } from './types';
import { isValidPort } from './validate';

/** The contract's defaults, used for an end the settings file leaves out. */
const DEFAULT_START = 3000;
const DEFAULT_END = 3999;

/**
 * Turns JSONC (what VS Code accepts in settings.json: `//` and `/* *\/` comments, trailing commas) into JSON,
 * leaving strings untouched. Returns the JSON text; it may still be invalid JSON.
 *
 * @example
 * JSON.parse(stripJsonc('{ "a": 1, // one\n }')); // { a: 1 }
 */
export function stripJsonc(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '"') {
      // Copy a whole string, escapes included.
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close === -1 ? n : close + 2;
    } else {
      out += c;
      i++;
    }
  }
  // Second pass, comments gone: outside strings, drop a comma whose next non-space character closes an object or array.
  let result = '';
  let inString = false;
  for (let k = 0; k < out.length; k++) {
    const ch = out[k];
    if (inString) {
      result += ch;
      if (ch === '\\') {
        result += out[k + 1] ?? '';
        k++;
      } else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      result += ch;
      continue;
    }
    if (ch === ',') {
      let m = k + 1;
      while (m < out.length && /\s/.test(out[m])) m++;
      if (out[m] === '}' || out[m] === ']') continue;
    }
    result += ch;
  }
  return result;
}

/** The settings object of one settings.json, or a problem. */
function readSettings(file: string): { settings?: Record<string, unknown>; problem?: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    return { problem: `cannot read ${file}: ${(e as Error).message}` };
  }
  let data: unknown;
  try {
    data = JSON.parse(stripJsonc(text.replace(/^\uFEFF/, '')));
  } catch {
    return { problem: `${file} is not valid JSON with comments` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { problem: `${file} is not a JSON object` };
  return { settings: data as Record<string, unknown> };
}

/** The two ends as the settings give them: flat keys (`devPorts.portRange.start`) or an object (`devPorts.portRange`). */
function rangeValues(settings: Record<string, unknown>): { start?: unknown; end?: unknown } | undefined {
  const object = settings['devPorts.portRange'];
  const nested = typeof object === 'object' && object !== null ? (object as Record<string, unknown>) : {};
  const start = settings['devPorts.portRange.start'] ?? nested.start;
  const end = settings['devPorts.portRange.end'] ?? nested.end;
  if (start === undefined && end === undefined) return undefined;
  return { start, end };
}

/**
 * The port range that VS Code would use for a project: `devPorts.portRange.start/end` of the nearest
 * `.vscode/settings.json`, looking in the project folder and then each parent folder, that sets either end
 * (an end left out takes the default, 3000 or 3999). Comments and trailing commas are allowed, as VS Code allows
 * them. Undefined when no settings file sets a range, or when the one that does is invalid (not integers in
 * 1–65535, or inverted): `report` is then told why, in one sentence, and the caller uses its default.
 *
 * @example
 * readWorkspacePortRange('/home/me/shop/apps/web'); // { start: 43000, end: 43999 } from /home/me/shop/.vscode/settings.json
 */
export function readWorkspacePortRange(projectDir: string, report?: (problem: string) => void): PortRange | undefined {
  let dir = path.resolve(projectDir);
  for (;;) {
    const file = path.join(dir, '.vscode', 'settings.json');
    const { settings, problem } = readSettings(file);
    if (problem) {
      report?.(`Ignoring ${problem}.`);
    } else if (settings) {
      const values = rangeValues(settings);
      if (values) {
        const start = values.start ?? DEFAULT_START;
        const end = values.end ?? DEFAULT_END;
        if (!isValidPort(start) || !isValidPort(end)) {
          report?.(`Ignoring the port range of ${file}: devPorts.portRange.start and .end must be integers from 1 to 65535, got ${JSON.stringify(start)} and ${JSON.stringify(end)}.`);
          return undefined;
        }
        if (start > end) {
          report?.(`Ignoring the port range ${start}-${end} of ${file}: it is inverted.`);
          return undefined;
        }
        return { start, end };
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
