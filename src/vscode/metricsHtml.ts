/**
 * The Show Metrics page as HTML, from the figures alone (no `vscode` import, so the unit tests read it).
 */
import type { Metrics } from '../core/metrics';

const ROWS: { key: Exclude<keyof Metrics, 'medianTimeToFreeMs'>; label: string; color: string; hint: string }[] = [
  { key: 'allocations', label: 'Allocations', color: '--vscode-charts-blue', hint: 'ports handed to projects' },
  { key: 'releases', label: 'Releases', color: '--vscode-charts-green', hint: 'ports given back' },
  { key: 'conflicts', label: 'Conflicts', color: '--vscode-charts-orange', hint: 'a wanted port was taken' },
  { key: 'kills', label: 'Kills', color: '--vscode-charts-red', hint: 'ports freed or servers stopped by signal' },
  { key: 'sweeps', label: 'Sweeps', color: '--vscode-charts-purple', hint: 'stale clean-ups run' },
  { key: 'drifts', label: 'Drifts', color: '--vscode-charts-yellow', hint: 'a server moved to another port' },
];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page: one bar per counter (widths relative to the largest), and the median time-to-free as a number
 * with a gauge against the kill grace period. Theme colours only, no script, no external resource; the CSP
 * allows nothing but the page's own nonce'd style.
 *
 * @example
 * panel.webview.html = metricsHtml(metrics.snapshot(), 3000, nonce);
 */
export function metricsHtml(m: Metrics, gracePeriodMs: number, nonce: string, since: Date): string {
  const max = Math.max(1, ...ROWS.map((r) => m[r.key]));
  // Widths and colours go into the nonce'd sheet as one class per bar: the CSP allows no style attribute.
  const rules: string[] = [];
  const bars = ROWS.map((r) => {
    const value = m[r.key];
    const width = value === 0 ? 0 : Math.max(2, Math.round((value / max) * 100));
    rules.push(`.bar-${r.key} { width: ${width}%; background: var(${r.color}); }`);
    return `<div class="row" title="${escapeHtml(r.hint)}">
  <span class="label">${r.label}</span>
  <span class="track" role="img" aria-label="${r.label}: ${value}"><span class="bar bar-${r.key}"></span></span>
  <span class="value">${value}</span>
</div>`;
  }).join('\n');
  const median = m.medianTimeToFreeMs;
  const gauge = median === undefined ? 0 : Math.min(100, Math.round((median / Math.max(1, gracePeriodMs)) * 100));
  const freeing =
    median === undefined
      ? `<p class="muted">No port was freed yet. When Dev Ports stops what holds a port, the time until the port is free shows here.</p>`
      : `<p class="big">${median} ms</p>
<p class="muted">median time from the first signal until the port was free</p>
<span class="track wide" role="img" aria-label="${gauge}% of the ${gracePeriodMs} ms grace period"><span class="bar bar-free"></span></span>
<p class="muted">${gauge}% of the ${gracePeriodMs} ms grace period before SIGKILL</p>`;
  rules.push(`.bar-free { width: ${Math.max(gauge, 1)}%; background: var(--vscode-charts-green); }`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Dev Ports Metrics</title>
<style nonce="${nonce}">
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 12px 20px; max-width: 640px; }
  h1 { font-size: 1.3em; font-weight: 600; margin: 0 0 2px; }
  h2 { font-size: 1.05em; font-weight: 600; margin: 24px 0 8px; }
  .muted { color: var(--vscode-descriptionForeground); margin: 4px 0; }
  .row { display: grid; grid-template-columns: 7em 1fr 3.5em; align-items: center; gap: 10px; margin: 7px 0; }
  .label { color: var(--vscode-foreground); }
  .value { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
  .track { display: block; height: 12px; border-radius: 3px; background: var(--vscode-editorWidget-background, rgba(128,128,128,0.15)); border: 1px solid var(--vscode-widget-border, transparent); overflow: hidden; }
  .track.wide { max-width: 360px; margin: 8px 0 4px; }
  .bar { display: block; height: 100%; }
  ${rules.join('\n  ')}
  .big { font-size: 2.2em; font-weight: 600; margin: 4px 0 0; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>Dev Ports</h1>
<p class="muted">Since ${escapeHtml(since.toLocaleString())} (this window's activation)</p>
<h2>Events</h2>
${bars}
<h2>Freeing a port</h2>
${freeing}
</body>
</html>`;
}

