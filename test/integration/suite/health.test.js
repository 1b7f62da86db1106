// Health states of a dev server in real VS Code: starting → listening → ready → unhealthy → exited, and an exit
// that never listened.
'use strict';

const assert = require('node:assert/strict');
const http = require('node:http');
const h = require('./helpers');

function get(port, path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
}

describe('dev server health', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));

  it('goes starting → listening → ready → unhealthy → exited, with the exit code', async () => {
    const id = h.projectId('health');
    const t0 = Date.now();
    const at = {};
    const sub = api.onDidChangeServers(() => {
      const s = api.getServers().find((x) => x.projectId === id);
      if (s && at[s.state] === undefined) at[s.state] = Date.now() - t0;
    });
    try {
      const started = await h.run('devPorts.startDevServer', id);
      await h.waitFor(() => at.listening !== undefined, 'listening');
      await h.waitFor(() => at.ready !== undefined, 'ready (an HTTP answer)');
      // The fixture listens at once but answers HTTP only after its warm-up: listening is seen first, ready after.
      assert.ok(at.listening < at.ready, `listening at ${at.listening} ms, ready at ${at.ready} ms`);
      const [pid] = await h.listenerPids(started.port);
      assert.equal(api.getServers().find((x) => x.projectId === id).pid, pid);
      const tClose = Date.now();
      await get(started.port, '/close');
      await h.waitFor(() => api.getServers().find((x) => x.projectId === id)?.state === 'unhealthy', 'unhealthy after it stopped listening');
      const unhealthyMs = Date.now() - tClose;
      assert.match(api._test.servers().find((x) => x.projectId === id).note, /stopped listening/);
      const tKill = Date.now();
      process.kill(pid, 'SIGKILL');
      const exited = await h.waitFor(() => {
        const s = api.getServers().find((x) => x.projectId === id);
        return s && s.state === 'exited' && s.exitCode !== undefined && s;
      }, 'exited with its code');
      const exitedMs = Date.now() - tKill;
      assert.equal(exited.exitCode, 137);
      assert.equal(api.getAllocations().some((a) => a.projectId === id), false, 'the exit released the port');
      console.log(`      listening at ${at.listening} ms, ready at ${at.ready} ms after start; unhealthy ${unhealthyMs} ms after it stopped listening; exited ${exitedMs} ms after SIGKILL`);
    } finally {
      sub.dispose();
    }
  });

  it('takes a server that says it listens and exits 0 without listening as an exit with a message', async () => {
    const id = h.projectId('quits');
    await h.run('devPorts.startDevServer', id);
    const s = await h.waitFor(() => api._test.servers().find((x) => x.projectId === id && x.state === 'exited' && x.exitCode !== undefined), 'the exit and its code');
    assert.equal(s.exitCode, 0);
    assert.match(s.note, /without listening/);
    assert.equal(api.getAllocations().some((a) => a.projectId === id), false);
  });

  it('does not count the exit after its own Stop as a failure, and leaves no record', async () => {
    const id = h.projectId('web');
    const started = await h.run('devPorts.startDevServer', id);
    await h.waitFor(() => h.listening(started.port), 'web listening');
    await h.run('devPorts.stopDevServer', id);
    await h.sleep(300);
    assert.equal(api._test.servers().some((x) => x.projectId === id), false);
  });
});
