/**
 * Checks the `devPorts.*` settings as written (any JSON a user can type) and says, for each problem, which
 * setting is wrong and what is used instead. No `vscode` import: the Config adapter reads the raw values and
 * shows the problems; the unit tests call this directly.
 */
import type { ProjectSetting } from '../core/projects';
import type { PortRange } from '../core/types';

/** Every `devPorts.*` setting, checked and with defaults filled in. */
export interface Settings {
  portRange: PortRange;
  staleAfterMinutes: number;
  sweepIntervalMinutes: number;
  forceKillIfOccupied: boolean;
  killGracePeriodMs: number;
  devScriptNames: string[];
  /** Only the valid parts of each entry (a wrong field is dropped and reported). */
  projects: Record<string, ProjectSetting | undefined>;
}

/** One wrong setting: `key` is what Open Settings searches for; `message` one sentence ending in what is used. */
export interface SettingProblem {
  key: string;
  message: string;
}

export const DEFAULTS: Readonly<Settings> = Object.freeze({
  portRange: Object.freeze({ start: 3000, end: 3999 }),
  staleAfterMinutes: 5,
  sweepIntervalMinutes: 5,
  forceKillIfOccupied: false,
  killGracePeriodMs: 3000,
  devScriptNames: Object.freeze(['dev', 'start', 'serve']) as unknown as string[],
  projects: Object.freeze({}) as Record<string, ProjectSetting | undefined>,
});

/** The values as read from the configuration (`undefined` when not set anywhere). */
export type RawSettings = Partial<Record<
  'portRange.start' | 'portRange.end' | 'staleAfterMinutes' | 'sweepIntervalMinutes' | 'forceKillIfOccupied' | 'killGracePeriodMs' | 'devScriptNames' | 'projects',
  unknown
>>;

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** A value as a user wrote it, short enough for a notification. */
function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

/**
 * The settings to use and the problems found. Nothing is changed silently: every value that is not used as
 * written gives one problem naming the setting and what is used instead.
 *
 * @example
 * checkSettings({ 'portRange.start': 43000, 'portRange.end': 3999 }).problems;
 * // [{ key: 'devPorts.portRange', message: 'devPorts.portRange.start (43000) is after devPorts.portRange.end (3999): Dev Ports uses 3000–3999 instead.' }]
 */
export function checkSettings(raw: RawSettings): { settings: Settings; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const problem = (key: string, message: string) => problems.push({ key, message });

  const port = (name: 'portRange.start' | 'portRange.end', fallback: number): number => {
    const value = raw[name];
    if (value === undefined || isPort(value)) return value ?? fallback;
    problem(`devPorts.${name}`, `devPorts.${name} must be a whole number from 1 to 65535, not ${shown(value)}: Dev Ports uses ${fallback} instead.`);
    return fallback;
  };
  let start = port('portRange.start', DEFAULTS.portRange.start);
  let end = port('portRange.end', DEFAULTS.portRange.end);
  if (start > end) {
    problem(
      'devPorts.portRange',
      `devPorts.portRange.start (${start}) is after devPorts.portRange.end (${end}): Dev Ports uses ${DEFAULTS.portRange.start}–${DEFAULTS.portRange.end} instead.`,
    );
    start = DEFAULTS.portRange.start;
    end = DEFAULTS.portRange.end;
  }

  const amount = (name: 'staleAfterMinutes' | 'sweepIntervalMinutes' | 'killGracePeriodMs', unit: string, fallback: number): number => {
    const value = raw[name];
    if (value === undefined) return fallback;
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
    problem(`devPorts.${name}`, `devPorts.${name} must be a number of ${unit} of at least 0, not ${shown(value)}: Dev Ports uses ${fallback} instead.`);
    return fallback;
  };

  let forceKillIfOccupied = DEFAULTS.forceKillIfOccupied;
  if (raw.forceKillIfOccupied !== undefined) {
    if (typeof raw.forceKillIfOccupied === 'boolean') forceKillIfOccupied = raw.forceKillIfOccupied;
    else problem('devPorts.forceKillIfOccupied', `devPorts.forceKillIfOccupied must be true or false, not ${shown(raw.forceKillIfOccupied)}: Dev Ports uses false (it asks) instead.`);
  }

  return {
    settings: {
      portRange: { start, end },
      staleAfterMinutes: amount('staleAfterMinutes', 'minutes', DEFAULTS.staleAfterMinutes),
      sweepIntervalMinutes: amount('sweepIntervalMinutes', 'minutes', DEFAULTS.sweepIntervalMinutes),
      forceKillIfOccupied,
      killGracePeriodMs: amount('killGracePeriodMs', 'milliseconds', DEFAULTS.killGracePeriodMs),
      devScriptNames: scriptNames(raw.devScriptNames, problem),
      projects: projectSettings(raw.projects, problem),
    },
    problems,
  };
}

function scriptNames(value: unknown, problem: (key: string, message: string) => void): string[] {
  const fallback = [...DEFAULTS.devScriptNames];
  const key = 'devPorts.devScriptNames';
  if (value === undefined) return fallback;
  if (!Array.isArray(value)) {
    problem(key, `${key} must be a list of script names such as ["dev", "start"], not ${shown(value)}: Dev Ports uses ${shown(fallback)} instead.`);
    return fallback;
  }
  const names = value.filter((n): n is string => typeof n === 'string' && n.trim() !== '');
  if (names.length === 0) {
    problem(key, `${key} has no script name in it: Dev Ports uses ${shown(fallback)} instead.`);
    return fallback;
  }
  if (names.length < value.length) {
    const bad = value.filter((n) => !names.includes(n as string));
    problem(key, `${key} may only hold non-empty strings; ${bad.map(shown).join(', ')} ${bad.length === 1 ? 'is' : 'are'} left out: Dev Ports uses ${shown(names)}.`);
  }
  return names;
}

function projectSettings(value: unknown, problem: (key: string, message: string) => void): Record<string, ProjectSetting | undefined> {
  const key = 'devPorts.projects';
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problem(key, `${key} must be an object whose keys are project folders (relative to the workspace folder), not ${shown(value)}: Dev Ports ignores it.`);
    return {};
  }
  const out: Record<string, ProjectSetting | undefined> = {};
  for (const [folder, entry] of Object.entries(value as Record<string, unknown>)) {
    const name = `${key}[${JSON.stringify(folder)}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problem(key, `${name} must be an object such as { "port": 3001 }, not ${shown(entry)}: Dev Ports ignores it.`);
      continue;
    }
    const e = entry as Record<string, unknown>;
    const setting: ProjectSetting = {};
    if (e.port !== undefined) {
      if (isPort(e.port)) setting.port = e.port;
      else problem(key, `${name}.port must be a whole number from 1 to 65535, not ${shown(e.port)}: Dev Ports takes a port from the range instead.`);
    }
    if (e.portRange !== undefined) {
      const r = e.portRange as { start?: unknown; end?: unknown } | null;
      if (r && typeof r === 'object' && isPort(r.start) && isPort(r.end) && r.start <= r.end) setting.portRange = { start: r.start, end: r.end };
      else problem(key, `${name}.portRange must be { "start": n, "end": n } with ports from 1 to 65535 and start ≤ end, not ${shown(e.portRange)}: Dev Ports uses devPorts.portRange instead.`);
    }
    if (e.command !== undefined) {
      if (typeof e.command === 'string' && e.command.trim() !== '') setting.command = e.command;
      else problem(key, `${name}.command must be a non-empty command line, not ${shown(e.command)}: Dev Ports runs the project's dev script instead.`);
    }
    const unknown = Object.keys(e).filter((k) => k !== 'port' && k !== 'portRange' && k !== 'command');
    if (unknown.length > 0) problem(key, `${name} has ${unknown.map((k) => JSON.stringify(k)).join(', ')}, which Dev Ports does not know (port, portRange, command): ignored.`);
    out[folder] = setting;
  }
  return out;
}
