/**
 * Types shared by the core. Nothing here imports `vscode`.
 */

/** What CONTRACT.md calls an Allocation. More fields may be added. */
export interface Allocation {
  /** Absolute, normalised path of the project folder without trailing separator (the CLI may also use a plain name it resolves to such a path). */
  projectId: string;
  port: number;
  /** Epoch ms. */
  allocatedAt: number;
  /** Root process of the dev server when Dev Ports started it. */
  pid?: number;
}

/** The part of VS Code's `Memento` the core uses; `context.workspaceState` satisfies it. */
export interface StateStore {
  get<T>(key: string): T | undefined;
  get<T>(key: string, defaultValue: T): T;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** Injected time source so tests are exact. */
export interface Clock {
  now(): number;
}

/** Log sink with areas as prefixes; the VS Code adapter writes to a LogOutputChannel, the CLI to stderr (only with --verbose). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

export interface PortRange {
  start: number;
  end: number;
}

export const systemClock: Clock = { now: () => Date.now() };

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };
