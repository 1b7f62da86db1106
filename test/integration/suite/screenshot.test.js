// Not a test: with DEV_PORTS_SCREENSHOT_DIR set, a root `after` hook sets up a scene for the README (two dev
// servers running, a foreign listener in the range, the Ports view open) and asks the host for screenshots by
// printing `DEV_PORTS_SCREENSHOT_NOW <file> [x,y,width,height]`: the extension host must still be alive when the
// picture is taken (after the run it is gone, and the view shows its welcome page). Then it stops what it started.
'use strict';

const path = require('node:path');
const vscode = require('vscode');
const h = require('./helpers');

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
    console.log(`DEV_PORTS_SCREENSHOT_NOW ${path.join(dir, 'ports-view.png')}`);
    await h.sleep(1500);
    console.log(`DEV_PORTS_SCREENSHOT_NOW ${path.join(dir, 'statusbar.png')} 0,860,520,40`);
    await h.sleep(1500);
    await h.cleanUp(api);
  });
}
