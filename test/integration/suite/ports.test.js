// Free Port, stale sweep, startup reconcile, and what the view and the status bar say about them.
'use strict';

const assert = require('node:assert/strict');
const vscode = require('vscode');
const h = require('./helpers');

describe('ports: free, sweep, reconcile, view and status bar', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));

  it('stops a foreign process tree with Free Port and force, and reports its PIDs', async () => {
    const port = await h.freeTestPort();
    const tree = await h.spawnForeignTree(port);
    const result = await h.run('devPorts.freePort', { port, force: true });
    assert.equal(result.port, port);
    assert.equal(result.free, true);
    assert.ok(result.killedPids.includes(tree.leaf), `killedPids ${result.killedPids} lacks the listener ${tree.leaf}`);
    assert.ok(result.killedPids.includes(tree.middle), `killedPids ${result.killedPids} lacks its parent ${tree.middle}`);
    assert.equal(h.alive(tree.leaf), false);
    assert.equal(h.alive(tree.middle), false);
    assert.equal(await h.core.isPortAvailable(port), true);
  });

  it('stops nothing and asks the user when code frees a foreign process\'s port without force', async () => {
    const port = await h.freeTestPort();
    const foreign = await h.spawnForeignServer(port);
    const result = await h.run('devPorts.freePort', port);
    assert.deepEqual(result, { port, killedPids: [], free: false });
    assert.equal(h.alive(foreign), true, 'nothing may be stopped without an answer');
    assert.match(api._test.lastConflictMessage(), new RegExp(`Port ${port} is held by PID ${foreign}: `));
  });

  it('answers free without stopping anything when nothing listens', async () => {
    const port = await h.freeTestPort();
    const result = await h.run('devPorts.freePort', port);
    assert.deepEqual(result, { port, killedPids: [], free: true });
  });

  it('rejects a port number outside 1-65535 with a clear message', async () => {
    await assert.rejects(h.run('devPorts.freePort', 70000), /not a port: a port is a whole number from 1 to 65535/);
    await assert.rejects(h.run('devPorts.freePort', { port: 0, force: true }), /not a port/);
  });

  it('frees the port of its own dev server by stopping that server', async () => {
    const started = await h.run('devPorts.startDevServer', h.projectId('web'));
    await h.waitFor(() => h.listening(started.port), 'web listening');
    const [serverPid] = await h.listenerPids(started.port);
    const result = await h.run('devPorts.freePort', started.port);
    assert.equal(result.free, true);
    assert.ok(result.killedPids.includes(serverPid));
    assert.equal(api._test.servers().length, 0);
    assert.equal(api.getAllocations().length, 0);
  });

  it('releases an allocation whose port is free in the stale sweep', async () => {
    const allocation = await api.allocate(h.projectId('api'));
    const reserved = await h.projectNode(api, 'api');
    assert.equal(reserved.port, allocation.port);
    assert.equal(reserved.note, 'reserved');
    const released = await api.cleanupStalePortAllocations({ olderThanMs: 0 });
    assert.deepEqual(released.map((a) => a.port), [allocation.port]);
    assert.equal(api.getAllocations().length, 0);
    const after = await h.projectNode(api, 'api');
    assert.equal(after.state, 'stopped');
    assert.equal(after.port, undefined);
  });

  it('releases a stale allocation on its own, by the interval timer, once the settings ask for a sweep', async () => {
    // User settings (the host's temporary profile), so the fixture's files stay untouched.
    const config = vscode.workspace.getConfiguration('devPorts');
    const allocation = await api.allocate(h.projectId('api'));
    try {
      await config.update('staleAfterMinutes', 0, vscode.ConfigurationTarget.Global);
      await config.update('sweepIntervalMinutes', 0.005, vscode.ConfigurationTarget.Global); // every 0.3 s
      await h.waitFor(() => api.getAllocations().length === 0, `the sweep timer releasing :${allocation.port}`);
    } finally {
      await config.update('sweepIntervalMinutes', undefined, vscode.ConfigurationTarget.Global);
      await config.update('staleAfterMinutes', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('keeps an allocation whose port is in use in the stale sweep', async () => {
    const allocation = await api.allocate(h.projectId('api'));
    await h.spawnForeignServer(allocation.port);
    const released = await h.run('devPorts.cleanupStalePorts', { olderThanMs: 0 });
    assert.deepEqual(released, { released: [] });
    assert.equal(api.getAllocations().length, 1);
  });

  it('releases, at reconcile, the allocation of a server that died while the editor was away, and keeps a live one', async () => {
    const deadPort = await h.freeTestPort(43150);
    const livePort = await h.freeTestPort(deadPort + 1);
    await api.allocate(h.projectId('web'), { preferredPort: deadPort });
    await api.allocate(h.projectId('api'), { preferredPort: livePort });
    const dead = await h.spawnForeignServer(deadPort);
    await h.spawnForeignServer(livePort);
    process.kill(dead, 'SIGKILL');
    await h.waitFor(async () => !(await h.listening(deadPort)), 'the dead server gone');

    const { kept, released } = await api._test.reconcile();
    assert.deepEqual(released.map((a) => a.projectId), [h.projectId('web')]);
    assert.deepEqual(kept.map((a) => a.projectId), [h.projectId('api')]);
    assert.deepEqual(api.getAllocations().map((a) => a.port), [livePort]);
  });

  it('counts allocations in the status bar and lists running projects in the view', async () => {
    const empty = await api._test.statusBar();
    assert.equal(empty.text, '$(plug) 0 ports');
    assert.equal(empty.visible, true);

    const web = await h.run('devPorts.startDevServer', h.projectId('web'));
    const apiServer = await h.run('devPorts.startDevServer', h.projectId('api'));
    await h.waitFor(() => h.listening(web.port), 'web listening');
    await h.waitFor(() => h.listening(apiServer.port), 'api listening');
    const node = await h.waitFor(async () => {
      const n = await h.projectNode(api, 'web');
      return n && n.state === 'running' && n;
    }, 'web running in the view');
    const [serverPid] = await h.listenerPids(web.port);
    assert.equal(node.port, web.port);
    assert.equal(node.pid, serverPid);
    const children = await api._test.tree(node);
    assert.ok(children.some((c) => c.kind === 'listener' && c.port === web.port && c.pids.includes(serverPid)));

    const bar = await api._test.statusBar();
    assert.equal(bar.text, '$(plug) 2 ports');
    assert.equal(bar.warning, false);
    assert.match(bar.tooltip, new RegExp(`web :${web.port} (listening|ready)`));

    await h.run('devPorts.stopDevServer', h.projectId('web'));
    const after = await api._test.statusBar();
    assert.equal(after.text, '$(plug) 1 port');
    assert.equal((await h.projectNode(api, 'web')).state, 'stopped');
  });

  it('says in the status bar that a server runs on after Release All dropped its reservation', async () => {
    const web = await h.run('devPorts.startDevServer', h.projectId('web'));
    await h.waitFor(() => h.listening(web.port), 'web listening');
    const { released } = await h.run('devPorts.releaseAllPorts');
    assert.ok(released >= 1);
    const bar = await h.waitFor(async () => {
      const b = await api._test.statusBar();
      return b.text.includes('running') && b;
    }, 'the status bar says web runs unreserved');
    assert.equal(bar.text, '$(plug) 0 ports · 1 running unreserved');
    assert.match(bar.tooltip, new RegExp(`web :${web.port} (starting|listening|ready) \\(its port is no longer reserved\\)`));
  });

  it('lists a listener in the range that no project owns under "Other listeners"', async () => {
    const port = await h.freeTestPort();
    const pid = await h.spawnForeignServer(port);
    const nodes = await api._test.tree();
    const group = nodes.find((n) => n.kind === 'group');
    assert.ok(group, 'no "Other listeners" group');
    assert.equal(group.label, 'Other listeners');
    const listener = group.listeners.find((l) => l.port === port);
    assert.ok(listener, `port ${port} not listed`);
    assert.deepEqual(listener.pids, [pid]);
    assert.equal(listener.address, '127.0.0.1');
  });

  it('releases every allocation with Release All when asked not to confirm', async () => {
    await api.allocate(h.projectId('web'));
    await api.allocate(h.projectId('api'));
    const result = await h.run('devPorts.releaseAllPorts', { confirm: false });
    assert.deepEqual(result, { released: 2 });
    assert.deepEqual(api.getAllocations(), []);
  });
});
