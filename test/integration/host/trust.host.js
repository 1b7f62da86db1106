// Workspace Trust on, the folder untrusted (Restricted Mode, as after "Don't Trust"): Start refuses with a message
// that says why, as a toast; listing and freeing still work.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const host = require('../../host/server');
const { Host, waitFor, listening, holdPort, killListeners, copyWorkspace, freeRangePort, flatten } = require('./harness');

describe('host: an untrusted workspace', function () {
  this.timeout(180000);
  /** @type {Host} */
  let vscodeHost;
  /** @type {import('./harness').Window} */
  let win;
  let workspace = '';

  before(async () => {
    vscodeHost = await Host.start({ workspaceTrust: true });
    workspace = copyWorkspace(path.join(vscodeHost.tmp, 'workspace'));
    win = await vscodeHost.openWindow(workspace);
  });
  after(async () => {
    killListeners();
    if (vscodeHost) await vscodeHost.stop();
  });

  it('opens in Restricted Mode', async () => {
    const info = await win.ask('info');
    assert.equal(info.trusted, false, 'vscode.workspace.isTrusted');
    await win.page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ state: 'visible', timeout: 20000 });
  });

  it('refuses to start a dev server, saying why in a toast, and starts nothing', async () => {
    const web = path.join(workspace, 'apps', 'web');
    const outcome = await win.command('devPorts.startDevServer', web).then(
      () => 'started',
      (/** @type {Error} */ e) => e.message,
    );
    assert.notEqual(outcome, 'started');
    assert.match(outcome, /trust/i, `the refusal says the workspace is not trusted: ${outcome}`);
    const toast = win.toast(/trust/i);
    await toast.waitFor({ state: 'visible', timeout: 20000 });
    const text = await toast.innerText();
    assert.match(text, /web/, `the toast names the project: ${text}`);
    assert.match(text, /not trusted/i, `the toast says why: ${text}`);
    assert.deepEqual(await win.ask('servers'), [], 'no dev server runs');
    const allocations = await win.ask('allocations');
    assert.equal(allocations.filter((/** @type {any} */ a) => a.projectId === web).length, 0, 'no port was reserved for it');
  });

  it('lists the projects and a listener in the range, and frees its port', async () => {
    const port = await freeRangePort(70);
    const holder = await holdPort(port);
    const nodes = await waitFor(async () => {
      const all = flatten(await win.tree());
      return all.some((n) => n.port === port) && all;
    }, `the view to list the listener on ${port}`);
    const projects = nodes.filter((n) => n.kind === 'project').map((n) => n.name);
    assert.ok(projects.includes('web') && projects.includes('api'), `projects listed: ${projects.join(', ')}`);
    const listener = nodes.find((n) => n.kind === 'listener' && n.port === port);
    assert.ok(listener && listener.pids.includes(holder), `the listener names PID ${holder}`);

    const result = await win.command('devPorts.freePort', { port, force: true });
    assert.equal(result.free, true, `freed: ${JSON.stringify(result)}`);
    assert.ok(result.killedPids.includes(holder));
    assert.equal(host.alive(holder), false, 'the holder was stopped');
    assert.equal(await listening(port), false, `port ${port} is free`);
  });
});
