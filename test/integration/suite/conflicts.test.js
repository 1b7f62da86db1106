// A port held by a process Dev Ports did not start: the message names it, and each path out of it works.
'use strict';

const assert = require('node:assert/strict');
const h = require('./helpers');

describe('port conflicts when starting', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));

  /** The api project reserved on a port that a foreign server then takes. */
  async function occupiedReservation() {
    const port = await h.freeTestPort();
    await api.allocate(h.projectId('api'), { preferredPort: port });
    const foreign = await h.spawnForeignServer(port);
    return { port, foreign };
  }

  it('names the foreign holder, its PID and command, in the conflict message', async () => {
    const { port, foreign } = await occupiedReservation();
    await assert.rejects(h.run('devPorts.startDevServer', { projectId: h.projectId('api'), onConflict: 'fail' }), /in use/);
    const message = api._test.lastConflictMessage();
    assert.match(message, new RegExp(`Port ${port} for api is in use by `));
    assert.match(message, new RegExp(`PID ${foreign}`));
    assert.match(message, /-e require\('http'\)/);
    assert.equal(h.alive(foreign), true, 'the fail path must not touch the holder');
  });

  it('rejects a start from code at once, naming the holder, instead of waiting on the message', async () => {
    const { port, foreign } = await occupiedReservation();
    // A project id alone (no onConflict): the user gets the message with its buttons, the caller a rejection.
    await assert.rejects(h.run('devPorts.startDevServer', h.projectId('api')), (e) => e.message.includes(`PID ${foreign}`));
    assert.match(api._test.lastConflictMessage(), new RegExp(`Port ${port} for api is in use by `));
    assert.equal(h.alive(foreign), true, 'nothing is stopped without an answer');
    assert.equal(api._test.servers().length, 0, 'no terminal is left behind');
  });

  it('shows the project in conflict in the view and warns in the status bar', async () => {
    const { port, foreign } = await occupiedReservation();
    const node = await h.waitFor(async () => {
      const n = await h.projectNode(api, 'api');
      return n && n.state === 'conflict' && n;
    }, 'the api project in conflict');
    assert.equal(node.port, port);
    assert.equal(node.pid, foreign);
    const bar = await api._test.statusBar();
    assert.equal(bar.warning, true);
    assert.match(bar.tooltip, new RegExp(`api :${port} conflict`));
  });

  it('frees the port and starts there when the caller chose "free"', async () => {
    const { port, foreign } = await occupiedReservation();
    const result = await h.run('devPorts.startDevServer', { projectId: h.projectId('api'), onConflict: 'free' });
    assert.equal(result.port, port);
    assert.equal(h.alive(foreign), false, 'the foreign holder still runs');
    await h.waitFor(() => h.listening(port), 'api listening on the freed port');
    const [pid] = await h.listenerPids(port);
    assert.notEqual(pid, foreign);
  });

  it('starts on the next free port and leaves the holder alone when the caller chose "useNext"', async () => {
    const { port, foreign } = await occupiedReservation();
    const result = await h.run('devPorts.startDevServer', { projectId: h.projectId('api'), onConflict: 'useNext' });
    assert.notEqual(result.port, port);
    assert.equal(h.alive(foreign), true);
    await h.waitFor(() => h.listening(result.port), 'api listening on the next port');
    assert.deepEqual(
      api.getAllocations().filter((a) => a.projectId === h.projectId('api')).map((a) => a.port),
      [result.port],
    );
  });

  it('says the project runs from another VS Code window instead of offering to kill that window\'s server', async () => {
    // Another window: a live process that holds the project's reservation in the machine-wide ledger (the runner
    // gives this host its own DEV_PORTS_HOME), and that window's server listening on the port.
    await h.withOtherWindow('web', async ({ port, otherHost, ledger }) => {
      const server = await h.spawnForeignServer(port);
      await assert.rejects(h.run('devPorts.startDevServer', h.projectId('web')), /already runs on port \d+ from another VS Code window/);
      assert.equal(h.alive(server), true, 'the other window\'s server must be left alone');
      assert.equal(ledger.findByProject(h.projectId('web')).owner.pid, otherHost.pid, 'the reservation stays the other window\'s');
    });
  });

  it('refuses a port reserved by another project when asked for it explicitly', async () => {
    const port = await h.freeTestPort();
    await api.allocate(h.projectId('web'), { preferredPort: port });
    await assert.rejects(
      h.run('devPorts.startDevServer', { projectId: h.projectId('api'), port, onConflict: 'fail' }),
      (e) => /reserved for/.test(e.message) && e.message.includes(h.projectId('web')),
    );
  });
});
