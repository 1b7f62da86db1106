import * as vscode from 'vscode';
import type { Logger } from '../core/types';
import { checkSettings, type RawSettings, type SettingProblem, type Settings } from './settingsCheck';

export type { Settings } from './settingsCheck';

export const SECTION = 'devPorts';

const KEYS: (keyof RawSettings)[] = [
  'portRange.start',
  'portRange.end',
  'staleAfterMinutes',
  'sweepIntervalMinutes',
  'forceKillIfOccupied',
  'killGracePeriodMs',
  'devScriptNames',
  'projects',
];

const OPEN_SETTINGS = 'Open Settings';

/**
 * Typed reader of the `devPorts.*` settings. A value of the wrong type or range is not used; instead the user
 * gets one warning per problem naming the setting and what is used instead, with an Open Settings button (and
 * a line in the log). The same problem is not shown again until it was fixed and made anew.
 *
 * @example
 * const config = new Config(log.for('settings'));
 * config.get().portRange; // { start: 3000, end: 3999 }
 * config.onDidChange((e) => e.affectsConfiguration('devPorts.sweepIntervalMinutes') && rearm());
 */
export class Config implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.ConfigurationChangeEvent>();
  private readonly listener: vscode.Disposable;
  private readonly cache = new Map<string, Settings>();
  /** Problems shown since they last appeared (message → problem). */
  private readonly current = new Map<string, SettingProblem>();
  /** Every warning shown, for the tests. */
  readonly warnings: string[] = [];
  /** Fires for changes that touch any `devPorts.*` setting. */
  readonly onDidChange = this.emitter.event;

  constructor(private readonly logger?: Logger) {
    this.listener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      this.cache.clear();
      // Problems that are gone may be shown again if they come back.
      const before = new Set(this.current.keys());
      this.current.clear();
      this.check();
      for (const message of before) if (!this.current.has(message)) this.logger?.info(`fixed: ${message}`);
      this.emitter.fire(e);
    });
  }

  /** Settings for a scope (a workspace folder for per-folder values such as `projects`), else the window's. */
  get(scope?: vscode.Uri): Settings {
    const key = scope?.toString() ?? '';
    const cached = this.cache.get(key);
    if (cached) return cached;
    const c = vscode.workspace.getConfiguration(SECTION, scope);
    const raw: RawSettings = {};
    for (const k of KEYS) raw[k] = c.get<unknown>(k);
    const { settings, problems } = checkSettings(raw);
    this.cache.set(key, settings);
    for (const p of problems) this.report(p);
    return settings;
  }

  /** Reads the settings of the window and of each workspace folder now, so their problems are shown. */
  check(): void {
    this.get();
    for (const folder of vscode.workspace.workspaceFolders ?? []) this.get(folder.uri);
  }

  private report(problem: SettingProblem): void {
    if (this.current.has(problem.message)) return;
    this.current.set(problem.message, problem);
    this.warnings.push(problem.message);
    this.logger?.warn(problem.message);
    void vscode.window.showWarningMessage(problem.message, OPEN_SETTINGS).then((choice) => {
      if (choice === OPEN_SETTINGS) void vscode.commands.executeCommand('workbench.action.openSettings', problem.key);
    });
  }

  dispose(): void {
    this.listener.dispose();
    this.emitter.dispose();
  }
}
