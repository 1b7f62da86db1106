// Closing a dev server's terminal by hand gives its port back, even when the server ignores SIGHUP and SIGTERM.
'use strict';

const assert = require('node:assert/strict');
const vscode = require('vscode');
const h = require('./helpers');

describe('closing a dev server terminal by hand', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));

  for (const app of ['web', 'ignores-hup']) {
    it(`stops ${app} and releases its port`, async () => {
      const started = await h.run('devPorts.startDevServer', h.projectId(app));
      await h.waitFor(() => h.listening(started.port), `${app} listening`);
      const [serverPid] = await h.listenerPids(started.port);
      const terminal = vscode.window.terminals.find((t) => t.name === started.terminalName);
      assert.ok(terminal, 'the terminal is not open');

      const t0 = Date.now();
      terminal.dispose();
      await h.waitFor(async () => !(await h.listening(started.port)), `port ${started.port} free after the close`);
      const freeMs = Date.now() - t0;
      await h.waitFor(() => !api.getAllocations().some((a) => a.projectId === h.projectId(app)), 'the allocation released');
      console.log(`      ${app}: port free ${freeMs} ms and released ${Date.now() - t0} ms after terminal.dispose()`);
      assert.equal(h.alive(serverPid), false, `the server process ${serverPid} survived its terminal`);
      assert.equal(api._test.servers().length, 0);
    });
  }

  it('stops a server that ignores SIGHUP and SIGTERM with the Stop command', async () => {
    const started = await h.run('devPorts.startDevServer', h.projectId('ignores-hup'));
    await h.waitFor(() => h.listening(started.port), 'ignores-hup listening');
    const [serverPid] = await h.listenerPids(started.port);
    const stopped = await h.run('devPorts.stopDevServer', h.projectId('ignores-hup'));
    assert.equal(stopped.released, true);
    assert.deepEqual(stopped, { projectId: h.projectId('ignores-hup'), port: started.port, released: true });
    assert.equal(await h.core.isPortAvailable(started.port), true);
    assert.equal(h.alive(serverPid), false);
  });
});
