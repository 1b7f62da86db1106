// Dev servers in real integrated terminals on the fixture workspace: start, stop, crash, repeated starts.
'use strict';

const assert = require('node:assert/strict');
const vscode = require('vscode');
const h = require('./helpers');

describe('dev servers in terminals', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));

  it('starts a project on a port of the configured range, in a terminal named after it', async () => {
    const result = await h.run('devPorts.startDevServer', h.projectId('web'));
    assert.equal(result.projectId, h.projectId('web'));
    assert.ok(result.port >= 43100 && result.port <= 43199, `port ${result.port} is outside the fixture range`);
    assert.equal(result.terminalName, `web :${result.port}`);
    await h.waitFor(() => h.listening(result.port), `web listening on ${result.port}`);
    assert.equal(vscode.window.terminals.filter((t) => t.name === result.terminalName).length, 1);
  });

  it('takes a Uri of the project folder, and an id relative to the workspace folder, for the same project', async () => {
    const started = await h.run('devPorts.startDevServer', vscode.Uri.file(h.projectId('api')));
    assert.equal(started.projectId, h.projectId('api'));
    await h.waitFor(() => h.listening(started.port), 'api listening');
    const stopped = await h.run('devPorts.stopDevServer', 'apps/api');
    assert.deepEqual(stopped, { projectId: h.projectId('api'), port: started.port, released: true });
    assert.equal(await h.core.isPortAvailable(started.port), true);
  });

  it('frees the port on stop and gives the project the same port on the next start', async () => {
    const first = await h.run('devPorts.startDevServer', h.projectId('web'));
    await h.waitFor(() => h.listening(first.port), 'web listening');
    const stopped = await h.run('devPorts.stopDevServer', h.projectId('web'));
    assert.deepEqual(stopped.projectId, h.projectId('web'));
    assert.equal(stopped.port, first.port);
    assert.equal(stopped.released, true);
    assert.equal(await h.core.isPortAvailable(first.port), true, 'the port is still in use after stop');
    assert.equal(api.getAllocations().filter((a) => a.projectId === h.projectId('web')).length, 0);

    const second = await h.run('devPorts.startDevServer', h.projectId('web'));
    assert.equal(second.port, first.port);
    await h.waitFor(() => h.listening(second.port), 'web listening again');
  });

  it('starts again after the server was killed with SIGKILL, with nothing stale in the way', async () => {
    const first = await h.run('devPorts.startDevServer', h.projectId('api'));
    await h.waitFor(() => h.listening(first.port), 'api listening');
    const [pid] = await h.listenerPids(first.port);
    assert.ok(pid, 'no listener PID found');
    process.kill(pid, 'SIGKILL');
    await h.waitFor(() => api._test.servers().some((s) => s.projectId === h.projectId('api') && s.state === 'exited'), 'the crash noticed');
    await h.waitFor(() => !api.getAllocations().some((a) => a.projectId === h.projectId('api')), 'the port released after the crash');

    const second = await h.run('devPorts.startDevServer', h.projectId('api'));
    await h.waitFor(() => h.listening(second.port), 'api listening after the restart');
    assert.equal(api.getAllocations().filter((a) => a.projectId === h.projectId('api')).length, 1);
  });

  it('opens one terminal and makes one allocation when started five times at once', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => h.run('devPorts.startDevServer', h.projectId('web'))));
    const ports = new Set(results.map((r) => r.port));
    assert.equal(ports.size, 1, `different ports: ${[...ports].join(', ')}`);
    assert.equal(vscode.window.terminals.filter((t) => t.name.startsWith('web :')).length, 1);
    assert.equal(api.getAllocations().filter((a) => a.projectId === h.projectId('web')).length, 1);
    const again = await h.run('devPorts.startDevServer', h.projectId('web'));
    assert.equal(again.port, results[0].port);
    assert.equal(vscode.window.terminals.filter((t) => t.name.startsWith('web :')).length, 1);
  });

  it('restarts a project on the port it had', async () => {
    const first = await h.run('devPorts.startDevServer', h.projectId('web'));
    await h.waitFor(() => h.listening(first.port), 'web listening');
    const [before] = await h.listenerPids(first.port);
    const restarted = await h.run('devPorts.restartDevServer', h.projectId('web'));
    assert.equal(restarted.port, first.port);
    await h.waitFor(async () => {
      const [now] = await h.listenerPids(first.port);
      return now !== undefined && now !== before;
    }, 'a new server process on the same port');
  });
});

describe('a dev server that moves to another port', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));

  it('moves the allocation to the port the server announces and listens on', async () => {
    const started = await h.run('devPorts.startDevServer', h.projectId('drifts'));
    const moved = started.port + 1;
    await h.waitFor(() => h.listening(moved), `drifts listening on ${moved}`);
    await h.waitFor(
      () => api.getAllocations().some((a) => a.projectId === h.projectId('drifts') && a.port === moved),
      `the allocation moved to ${moved}`,
    );
    const node = await h.projectNode(api, 'drifts');
    assert.equal(node.port, moved);
    const stopped = await h.run('devPorts.stopDevServer', h.projectId('drifts'));
    assert.equal(stopped.port, moved);
    assert.equal(await h.core.isPortAvailable(moved), true);
  });
});
