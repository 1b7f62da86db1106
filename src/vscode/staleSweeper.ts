import * as vscode from 'vscode';
import type { PortAllocator } from '../core/allocator';
import type { Logger } from '../core/types';
import type { Config } from './config';
import { errorMessage } from './log';

/**
 * Runs the stale sweep every `devPorts.sweepIntervalMinutes` (0 = off) and re-arms itself when that setting
 * changes. A sweep releases allocations older than `devPorts.staleAfterMinutes` whose port is free at the OS level.
 *
 * @example
 * context.subscriptions.push(new StaleSweeper(allocator, config, log.for('sweep')));
 */
export class StaleSweeper implements vscode.Disposable {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly allocator: PortAllocator,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    this.arm();
    this.disposables.push(
      config.onDidChange((e) => {
        if (e.affectsConfiguration('devPorts.sweepIntervalMinutes')) this.arm();
      }),
    );
  }

  /** Minutes between sweeps now in effect; 0 when off. */
  get intervalMinutes(): number {
    return this.config.get().sweepIntervalMinutes;
  }

  private arm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const minutes = this.intervalMinutes;
    if (minutes <= 0) {
      this.logger.info('stale sweep is off (devPorts.sweepIntervalMinutes = 0)');
      return;
    }
    this.timer = setInterval(() => void this.sweep(), minutes * 60_000);
    // An interval must never keep a process alive on its own (the extension host exits on its own schedule).
    this.timer.unref?.();
    this.logger.info(`stale sweep every ${minutes} min`);
  }

  /** One sweep now; resolves to what it released. Overlapping calls share nothing and the second one is skipped. */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      // A dev server Dev Ports runs has its shell's PID recorded; the allocator keeps allocations whose PID lives,
      // so a server that is still installing (port not yet listening) survives the sweep.
      const olderThanMs = this.config.get().staleAfterMinutes * 60_000;
      if (this.allocator.getAllocations().length === 0) return 0;
      const released = await this.allocator.cleanupStalePortAllocations({ olderThanMs });
      for (const a of released) this.logger.info(`released stale allocation :${a.port} of ${a.projectId}`);
      return released.length;
    } catch (error) {
      this.logger.error(`stale sweep failed: ${errorMessage(error)}`);
      return 0;
    } finally {
      this.running = false;
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const d of this.disposables) d.dispose();
  }
}
