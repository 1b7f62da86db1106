import * as assert from 'assert';
import { metricsHtml } from '../../../src/vscode/metricsHtml';

const ZERO = { allocations: 0, releases: 0, conflicts: 0, kills: 0, sweeps: 0, drifts: 0 };

describe('metricsHtml', () => {
  it('allows nothing but its own nonced style sheet, loads nothing and runs no script', () => {
    const html = metricsHtml({ ...ZERO, allocations: 3 }, 3000, 'abc123', new Date(0));
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-abc123';">/);
    assert.doesNotMatch(html, /<script|https?:\/\/|style="/);
    assert.match(html, /<style nonce="abc123">/);
  });

  it('draws each bar relative to the largest count, in theme colours, with the count as text', () => {
    const html = metricsHtml({ ...ZERO, allocations: 4, releases: 2, kills: 1 }, 3000, 'n', new Date(0));
    assert.match(html, /\.bar-allocations \{ width: 100%; background: var\(--vscode-charts-blue\); \}/);
    assert.match(html, /\.bar-releases \{ width: 50%;/);
    assert.match(html, /\.bar-kills \{ width: 25%;/);
    assert.match(html, /\.bar-sweeps \{ width: 0%;/);
    assert.match(html, /aria-label="Allocations: 4"/);
  });

  it('shows the median time-to-free against the grace period, or says none was measured', () => {
    assert.match(metricsHtml(ZERO, 3000, 'n', new Date(0)), /No port was freed yet/);
    const html = metricsHtml({ ...ZERO, kills: 1, medianTimeToFreeMs: 150 }, 3000, 'n', new Date(0));
    assert.match(html, /<p class="big">150 ms<\/p>/);
    assert.match(html, /5% of the 3000 ms grace period/);
  });
});
