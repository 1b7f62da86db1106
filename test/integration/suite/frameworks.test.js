// Real frameworks from npm (test/fixtures/frameworks-workspace, installed by scripts/test-all.sh) started through
// the command, each checked to listen on the port Dev Ports allocated: none of their defaults (3000, 5173) is in
// the fixture's range 43200-43299. Runs only when that workspace is open:
//   npm ci --prefix test/fixtures/frameworks-workspace
//   DEV_PORTS_WORKSPACE=test/fixtures/frameworks-workspace DEV_PORTS_TEST_GREP='real frameworks' node test/integration/runTest.js
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');
const h = require('./helpers');

const APPS = [
  // [folder, what the dev script runs, how long its first start may take]
  ['vite-app', 'npm run dev:vite → vite (npm would keep --port for itself: run through npm exec)', 30000],
  ['next-app', 'next dev (reads PORT)', 90000],
  ['rsbuild-app', 'rsbuild dev (ignores PORT: --port N --strict-port)', 45000],
  ['vitepress-app', 'vitepress dev docs (ignores PORT: --port N --strictPort)', 45000],
  // Its only server script is `storybook`: discovered by that name, started with -p N --exact-port.
  ['storybook-app', 'storybook dev (ignores PORT: -p N --exact-port)', 60000],
];

function frameworksWorkspace() {
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  if (!folder || path.basename(folder.uri.fsPath) !== 'frameworks-workspace') return undefined;
  return fs.existsSync(path.join(folder.uri.fsPath, 'node_modules', '.bin', 'vite')) ? folder.uri.fsPath : undefined;
}

describe('real frameworks from npm', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));
  this.timeout(150000);

  before(function () {
    if (!frameworksWorkspace()) this.skip();
  });

  for (const [app, how, startMs] of APPS) {
    it(`starts ${app} (${how}) on its allocated port and stops it`, async () => {
      const id = h.projectId(app);
      const started = await h.run('devPorts.startDevServer', id);
      assert.equal(started.projectId, id);
      assert.ok(started.port >= 43200 && started.port <= 43299, `port ${started.port} is outside the fixture range`);
      await h.waitFor(() => h.listening(started.port), `${app} listening on ${started.port}`, startMs, 250);
      const pids = await h.listenerPids(started.port);
      assert.ok(pids.length > 0, `nothing listens on ${started.port}`);
      assert.equal(api.getAllocations().filter((a) => a.projectId === id).length, 1);
      const stopped = await h.run('devPorts.stopDevServer', id);
      assert.equal(stopped.port, started.port);
      assert.equal(stopped.released, true);
      await h.waitFor(async () => h.core.isPortAvailable(started.port), `${app}'s port free after stop`, 15000, 100);
    });
  }
});
