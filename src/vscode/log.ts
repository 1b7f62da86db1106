import * as vscode from 'vscode';
import type { Logger } from '../core/types';

/**
 * The one "Dev Ports" log channel. Every area (allocator, terminals, sweep, ...) writes through its own `Logger`
 * whose lines start with `[area]`, so a user can tell what failed without reading code.
 *
 * @example
 * const log = new Log();
 * log.for('terminals').info('web started on :3000');
 */
export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor() {
    this.channel = vscode.window.createOutputChannel('Dev Ports', { log: true });
  }

  /**
   * For the core, whose messages already start with their area (`[allocator] ...`). The ledger is the allocator's
   * storage: each of its "Reserved port …"/"Released port …" lines restates the allocator's line for the same
   * event, so in the window they go to the debug level (one line per event); its warnings stay warnings.
   */
  get core(): Logger {
    const channel = this.channel;
    return {
      info: (message) => (message.startsWith('[ledger] ') ? channel.debug(message) : channel.info(message)),
      warn: (message) => channel.warn(message),
      error: (message) => channel.error(message),
      debug: (message) => channel.debug(message),
    };
  }

  /** A core `Logger` that prefixes every line with `[area]`. */
  for(area: string): Logger {
    const channel = this.channel;
    return {
      info: (message) => channel.info(`[${area}] ${message}`),
      warn: (message) => channel.warn(`[${area}] ${message}`),
      error: (message) => channel.error(`[${area}] ${message}`),
      debug: (message) => channel.debug(`[${area}] ${message}`),
    };
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}

/** One line for the log from anything thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
