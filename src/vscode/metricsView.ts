import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import type { Metrics } from '../core/metrics';
import { extras } from './lazy';

/** What the panel needs: the current figures and a change event. */
export interface MetricsSource {
  snapshot(): Metrics;
  onDidChange(listener: () => void): { dispose(): void };
}

/**
 * One panel (revealed again if open), redrawn at most every 250 ms while figures change.
 *
 * @example
 * const view = new MetricsView(metrics, () => config.get().killGracePeriodMs);
 * view.show();
 */
export class MetricsView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly since = new Date();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly sub: { dispose(): void };

  constructor(
    private readonly source: MetricsSource,
    private readonly gracePeriodMs: () => number,
  ) {
    this.sub = source.onDidChange(() => this.schedule());
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal(undefined, true);
      this.render();
      return;
    }
    this.panel = vscode.window.createWebviewPanel('devPorts.metrics', 'Dev Ports Metrics', { viewColumn: vscode.ViewColumn.Active, preserveFocus: true }, {
      enableScripts: false,
      localResourceRoots: [],
    });
    this.panel.onDidDispose(() => (this.panel = undefined));
    this.render();
  }

  private schedule(): void {
    if (!this.panel || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.render();
    }, 250);
  }

  private render(): void {
    if (!this.panel) return;
    // The page's HTML is in dist/extras.js, loaded on the first Show Metrics.
    this.panel.webview.html = extras().metricsHtml(this.source.snapshot(), this.gracePeriodMs(), randomBytes(16).toString('base64'), this.since);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.sub.dispose();
    this.panel?.dispose();
  }
}
