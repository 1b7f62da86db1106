// Not a test: with DEV_PORTS_SCREENSHOT_DIR set, a root `after` hook sets up a scene for the README (two dev
// servers running, a foreign listener in the range, the Ports view open) and asks the web host for screenshots
// (index.js `screenshot()`): the extension host must still be alive when the picture is taken (after the run it is
// gone, and the view shows its welcome page). Then it stops what it started.
// Regenerate: DEV_PORTS_SCREENSHOT_DIR=$PWD/media/screenshots node test/integration/runTest.js
'use strict';

const vscode = require('vscode');
const h = require('./helpers');
const { screenshot } = require('./index');

const dir = process.env.DEV_PORTS_SCREENSHOT_DIR;

if (dir) {
  after(async function () {
    this.timeout(60000);
    const api = await h.getApi();
    const web = await h.run('devPorts.startDevServer', h.projectId('web'));
    const apiServer = await h.run('devPorts.startDevServer', h.projectId('api'));
    await h.waitFor(() => h.listening(web.port), 'web listening');
    await h.waitFor(() => h.listening(apiServer.port), 'api listening');
    await h.spawnForeignServer(43180);
    await vscode.commands.executeCommand('devPorts.ports.focus');
    await h.waitFor(async () => {
      const nodes = await api._test.tree();
      return nodes.filter((n) => n.kind === 'project' && n.state === 'running').length === 2;
    }, 'both servers running in the view');
    await vscode.commands.executeCommand('devPorts.refresh');
    await h.sleep(4000);
    await screenshot('ports-view');
    await screenshot('statusbar', { x: 0, y: 860, width: 520, height: 40 });
    await h.cleanUp(api);
  });
}
