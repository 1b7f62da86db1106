import * as vscode from 'vscode';
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
  /** As written; the core's discovery validates each entry and logs what it ignores. */
  projects: Record<string, ProjectSetting | undefined>;
}

export const SECTION = 'devPorts';

const DEFAULT_RANGE: PortRange = { start: 3000, end: 3999 };

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

function toRange(value: unknown): PortRange | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { start, end } = value as { start?: unknown; end?: unknown };
  return isPort(start) && isPort(end) && start <= end ? { start, end } : undefined;
}

function toProjects(value: unknown): Record<string, ProjectSetting | undefined> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, ProjectSetting>) : {};
}

function nonNegative(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/**
 * Typed reader of the `devPorts.*` settings. Invalid values (a range whose start is after its end, a port
 * outside 1–65535) fall back to the default instead of reaching the allocator.
 *
 * @example
 * const config = new Config();
 * config.get().portRange; // { start: 3000, end: 3999 }
 * config.onDidChange((e) => e.affectsConfiguration('devPorts.sweepIntervalMinutes') && rearm());
 */
export class Config implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.ConfigurationChangeEvent>();
  private readonly listener: vscode.Disposable;
  /** Fires for changes that touch any `devPorts.*` setting. */
  readonly onDidChange = this.emitter.event;

  constructor() {
    this.listener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) this.emitter.fire(e);
    });
  }

  /** Settings for a scope (a workspace folder for per-folder values such as `projects`), else the window's. */
  get(scope?: vscode.Uri): Settings {
    const c = vscode.workspace.getConfiguration(SECTION, scope);
    const start = c.get<unknown>('portRange.start');
    const end = c.get<unknown>('portRange.end');
    const portRange = toRange({ start, end }) ?? DEFAULT_RANGE;
    const names = c.get<unknown>('devScriptNames');
    return {
      portRange,
      staleAfterMinutes: nonNegative(c.get('staleAfterMinutes'), 5),
      sweepIntervalMinutes: nonNegative(c.get('sweepIntervalMinutes'), 5),
      forceKillIfOccupied: c.get<boolean>('forceKillIfOccupied') === true,
      killGracePeriodMs: nonNegative(c.get('killGracePeriodMs'), 3000),
      devScriptNames:
        Array.isArray(names) && names.every((n) => typeof n === 'string') && names.length > 0
          ? (names as string[])
          : ['dev', 'start', 'serve'],
      projects: toProjects(c.get('projects')),
    };
  }

  /** True when a user-defined range or port was given but is invalid, so the caller can say so once. */
  rangeIsInvalid(scope?: vscode.Uri): boolean {
    const c = vscode.workspace.getConfiguration(SECTION, scope);
    return toRange({ start: c.get('portRange.start'), end: c.get('portRange.end') }) === undefined;
  }

  dispose(): void {
    this.listener.dispose();
    this.emitter.dispose();
  }
}
