// Dev servers that leave their terminal's process tree, and a start that follows a close at once.
'use strict';

const assert = require('node:assert/strict');
const vscode = require('vscode');
const h = require('./helpers');

describe('dev server lifecycle edges', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));

  it('keeps the port of a server its script daemonised, and Stop still frees it', async () => {
    const started = await h.run('devPorts.startDevServer', h.projectId('daemon'));
    await h.waitFor(() => h.listening(started.port), 'the daemonised server listening');
    const [daemonPid] = await h.listenerPids(started.port);
    h.spawned.add(daemonPid);
    // The script has returned: the terminal's command ended, yet the project's own server holds the port.
    const record = await h.waitFor(() => api._test.servers().find((s) => s.projectId === h.projectId('daemon') && /daemonised/.test(s.note || '')), 'the end of the dev script noticed');
    assert.notEqual(record.state, 'exited', 'a daemonised server is not an exit');
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(
      api.getAllocations().filter((a) => a.projectId === h.projectId('daemon')).map((a) => a.port),
      [started.port],
      'the port was released while the server still serves it',
    );

    const stopped = await h.run('devPorts.stopDevServer', h.projectId('daemon'));
    assert.deepEqual(stopped, { projectId: h.projectId('daemon'), port: started.port, released: true });
    assert.equal(h.alive(daemonPid), false, 'the daemonised server survived Stop');
    assert.equal(await h.core.isPortAvailable(started.port), true);
  });

  it('tracks a server started right after its previous terminal was closed', async () => {
    const first = await h.run('devPorts.startDevServer', h.projectId('ignores-hup'));
    await h.waitFor(() => h.listening(first.port), 'ignores-hup listening');
    const terminal = vscode.window.terminals.find((t) => t.name === first.terminalName);
    assert.ok(terminal);
    terminal.dispose();
    // No wait: the clean-up of the closed terminal (a grace period long, for this server) is still running.
    const second = await h.run('devPorts.startDevServer', { projectId: h.projectId('ignores-hup'), onConflict: 'fail' });
    await h.waitFor(() => h.listening(second.port), 'the new ignores-hup listening');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(api._test.servers().map((s) => [s.projectId, s.port]), [[h.projectId('ignores-hup'), second.port]]);
    assert.deepEqual(
      api.getAllocations().filter((a) => a.projectId === h.projectId('ignores-hup')).map((a) => a.port),
      [second.port],
    );
  });
});
