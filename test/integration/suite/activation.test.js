// Activation: cheap, and measured. The figures are printed (and written for `npm run bench` when
// DEV_PORTS_ACTIVATION_OUT names a file), never asserted: timings belong in the benchmark.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');
const h = require('./helpers');

describe('activation', function () {
  it('activates without spawning anything and returns the contract API', async () => {
    const api = await h.getApi();
    for (const name of ['getAllocations', 'allocate', 'releasePortForProject', 'cleanupStalePortAllocations', 'releaseAllPortAllocations', 'getServers', 'getMetrics']) {
      assert.equal(typeof api[name], 'function', name);
    }
    assert.equal(typeof api.onDidChangeAllocations, 'function');
    assert.equal(typeof api.onDidChangeServers, 'function');
    assert.deepEqual(api.getServers(), []);
    const metrics = api.getMetrics();
    assert.deepEqual(Object.keys(metrics).filter((k) => k !== 'medianTimeToFreeMs').sort(), ['allocations', 'conflicts', 'drifts', 'kills', 'releases', 'sweeps']);

    // Loading the bundle again (module top level only: activate() is not called twice) gives its load cost.
    const main = require.resolve(path.join(vscode.extensions.getExtension('dev-ports.dev-ports').extensionPath, 'dist', 'extension.js'));
    const cached = require.cache[main];
    delete require.cache[main];
    const t0 = performance.now();
    require(main);
    const loadMs = performance.now() - t0;
    if (cached) require.cache[main] = cached;

    const figures = { ms: api._test.activationMs, loadMs, date: new Date().toISOString(), vscode: vscode.version, host: vscode.env.appName };
    console.log(`      activate(): ${figures.ms.toFixed(2)} ms; loading dist/extension.js: ${loadMs.toFixed(2)} ms`);
    if (process.env.DEV_PORTS_ACTIVATION_OUT) fs.writeFileSync(process.env.DEV_PORTS_ACTIVATION_OUT, JSON.stringify(figures));
    assert.ok(Number.isFinite(figures.ms) && figures.ms >= 0);
  });
});
