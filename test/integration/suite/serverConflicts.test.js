// Conflicts are never silent, drift is followed, and other windows' and the CLI's reservations are theirs.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vscode = require('vscode');
const h = require('./helpers');

/** Resolves once the `late` fixture runs and waits for its go (see its server.js). */
function fixtureWaiting(port) {
  return h.waitFor(() => fs.existsSync(path.join(os.tmpdir(), `dev-ports-waiting-${port}`)), `the late fixture running on ${port}`, 30000);
}

/** Lets the `late` fixture go on: it binds its port now, in the given mode. */
function go(port, mode) {
  fs.writeFileSync(path.join(os.tmpdir(), `dev-ports-go-${port}`), mode);
}

describe('conflicts, drift and reservations made elsewhere', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));

  it('says so, naming the holder, when the last port of a project is taken, instead of quietly moving', async () => {
    const id = h.projectId('api');
    const first = await h.run('devPorts.startDevServer', id);
    await h.waitFor(() => h.listening(first.port), 'api listening');
    await h.run('devPorts.stopDevServer', id);
    const foreign = await h.spawnForeignServer(first.port);
    await assert.rejects(h.run('devPorts.startDevServer', id), (e) => e.message.includes(`PID ${foreign}`));
    assert.match(api._test.lastConflictMessage(), new RegExp(`Port ${first.port} for api is in use by node \\(PID ${foreign}`));
    assert.equal(h.alive(foreign), true);
    // "Use Port N" from code: the project moves, and says nothing more the next time.
    const moved = await h.run('devPorts.startDevServer', { projectId: id, onConflict: 'useNext' });
    assert.notEqual(moved.port, first.port);
  });

  it("shows 'waiting for your answer' while the conflict question is open", async () => {
    const id = h.projectId('api');
    const port = await h.freeTestPort();
    await api.allocate(id, { preferredPort: port });
    await h.spawnForeignServer(port);
    const pending = h.run('devPorts.startDevServer', { projectId: id, onConflict: 'ask' }).then(
      (r) => r,
      (e) => e,
    );
    const node = await h.waitFor(async () => {
      const n = await h.projectNode(api, 'api');
      return n && n.state === 'waiting' && n;
    }, 'the project waiting for the answer');
    assert.match(node.description, /waiting for your answer/);
    // Dismiss the question as a person would; the start then ends without a terminal.
    await vscode.commands.executeCommand('notifications.clearAll');
    assert.equal(await pending, undefined);
    assert.equal(api._test.servers().length, 0);
  });

  it('raises the conflict message when the terminal says its port is already in use', async function () {
    // The output reaches the extension host through the terminal's shell integration, which a loaded machine can
    // delay by seconds (measured 80 ms–3.4 s); a run that saw no output at all is tried again from a fresh start.
    this.retries(2);
    const id = h.projectId('late');
    const started = await h.run('devPorts.startDevServer', id);
    const foreign = await h.spawnForeignServer(started.port);
    await fixtureWaiting(started.port);
    const before = api._test.lastConflictMessage();
    const t0 = Date.now();
    go(started.port, 'inuse');
    await h.waitFor(() => api._test.lastConflictMessage() !== before && api._test.lastConflictMessage(), 'the conflict message', 30000, 10);
    const ms = Date.now() - t0;
    assert.match(api._test.lastConflictMessage(), new RegExp(`Port ${started.port} for late is in use by node \\(PID ${foreign}`));
    // How long it took is measured, not asserted (timings belong in benchmarks): most of it is the terminal's
    // output travelling to the extension host.
    console.log(`      "EADDRINUSE" in the terminal → conflict message in ${ms} ms`);
    // The exit code comes with shell integration's end event; when the machine is loaded the end can be seen
    // first from the job's processes being gone (no code yet): the code, when known, must be the crash's.
    const s = await h.waitFor(() => api._test.servers().find((x) => x.projectId === id && x.state === 'exited'), 'the crash', 30000);
    if (s.exitCode !== undefined) assert.equal(s.exitCode, 1);
  });

  it('raises the conflict message when the terminal asks for another port', async function () {
    // The output reaches the extension host through the terminal's shell integration, which a loaded machine can
    // delay by seconds (measured 80 ms–3.4 s); a run that saw no output at all is tried again from a fresh start.
    this.retries(2);
    const id = h.projectId('late');
    const started = await h.run('devPorts.startDevServer', id);
    const foreign = await h.spawnForeignServer(started.port);
    await fixtureWaiting(started.port);
    const before = api._test.lastConflictMessage();
    const t0 = Date.now();
    go(started.port, 'prompt');
    await h.waitFor(() => api._test.lastConflictMessage() !== before && api._test.lastConflictMessage(), 'the conflict message', 30000, 10);
    console.log(`      prompt in the terminal → conflict message in ${Date.now() - t0} ms`);
    assert.match(api._test.lastConflictMessage(), new RegExp(`PID ${foreign}`));
    assert.match(api._test.servers().find((x) => x.projectId === id).note, /asks in its terminal/);
  });

  it('follows a server to the port its own tree listens on while an intruder holds the old one, and shows its extra ports', async () => {
    const id = h.projectId('late');
    const started = await h.run('devPorts.startDevServer', { projectId: id, onConflict: 'useNext' });
    const intruder = await h.spawnForeignServer(started.port);
    const extra = await h.freeTestPort(43190);
    await fixtureWaiting(started.port);
    const t0 = Date.now();
    go(started.port, `drift:${extra}`);
    const moved = started.port + 1;
    await h.waitFor(() => api.getAllocations().some((a) => a.projectId === id && a.port === moved), `the allocation moved to ${moved}`, 15000, 10);
    const ms = Date.now() - t0;
    const s = await h.waitFor(() => {
      const x = api.getServers().find((y) => y.projectId === id);
      return x && x.extraPorts && x.extraPorts.includes(extra) && x;
    }, 'the extra port shown');
    assert.equal(s.port, moved);
    assert.match(api._test.servers().find((x) => x.projectId === id).note, new RegExp(`moved from ${started.port}`));
    assert.equal(h.alive(intruder), true);
    console.log(`      drift followed ${ms} ms after the server moved`);
    const stopped = await h.run('devPorts.stopDevServer', id);
    assert.equal(stopped.port, moved);
    assert.equal(await h.core.isPortAvailable(moved), true);
    assert.equal(h.alive(intruder), true, 'Stop must not touch the intruder');
  });

  it("lists another window's server as that window's, never under Other listeners", async () => {
    await h.withOtherWindow('web', async ({ port, otherHost }) => {
      const server = await h.spawnForeignServer(port);
      const nodes = await api._test.tree();
      const web = nodes.find((n) => n.kind === 'project' && n.projectId === h.projectId('web'));
      assert.equal(web.port, port);
      assert.equal(web.state, 'elsewhere');
      assert.match(web.reservedBy, new RegExp(`another window \\(PID ${otherHost.pid}\\)`));
      assert.match(web.description, new RegExp(`another window \\(PID ${otherHost.pid}\\)`));
      assert.equal(web.note, 'running there');
      assert.equal(web.pid, server);
      const others = nodes.filter((n) => n.kind === 'group').flatMap((g) => g.listeners);
      assert.equal(others.some((l) => l.port === port), false, 'listed under Other listeners');
    });
  });

  it("asks before freeing another window's server as that window's, not as a stranger's process", async () => {
    await h.withOtherWindow('web', async ({ port, otherHost }) => {
      const server = await h.spawnForeignServer(port);
      const result = await h.run('devPorts.freePort', port);
      assert.deepEqual(result, { port, killedPids: [], free: false });
      assert.equal(h.alive(server), true, 'nothing may be stopped without an answer');
      const text = api._test.lastConflictMessage();
      assert.match(text, new RegExp(`Port ${port} is held by PID ${server}: .*the port of web reserved by another window \\(PID ${otherHost.pid}\\); stopping it here stops it in that window`));
      assert.doesNotMatch(text, /did not start/);
    });
  });

  it("asks before freeing a port the CLI reserved as the CLI's", async () => {
    const port = await h.freeTestPort();
    const ledger = new h.core.Ledger();
    assert.ok(ledger.tryClaim({ projectId: h.projectId('api'), port, allocatedAt: Date.now() }));
    try {
      const server = await h.spawnForeignServer(port);
      const result = await h.run('devPorts.freePort', port);
      assert.deepEqual(result, { port, killedPids: [], free: false });
      assert.match(api._test.lastConflictMessage(), new RegExp(`Port ${port} is held by PID ${server}: .*the port of api reserved by the CLI\\. Stop it\\?`));
    } finally {
      ledger.release(port, h.projectId('api'));
    }
  });

  it("reuses the project's CLI reservation on start, and Release All releases the workspace's CLI reservations", async () => {
    const ledger = new h.core.Ledger();
    const port = await h.freeTestPort();
    assert.ok(ledger.tryClaim({ projectId: h.projectId('web'), port, allocatedAt: Date.now() }));
    const cliOnly = await h.freeTestPort(port + 1);
    assert.ok(ledger.tryClaim({ projectId: h.projectId('api'), port: cliOnly, allocatedAt: Date.now() }));
    const started = await h.run('devPorts.startDevServer', h.projectId('web'));
    assert.equal(started.port, port, "the start dropped the CLI's reservation");
    const node = await h.projectNode(api, 'api');
    assert.equal(node.port, cliOnly);
    assert.equal(node.state, 'elsewhere');
    assert.match(node.reservedBy, /the CLI/);
    await h.run('devPorts.stopDevServer', h.projectId('web'));
    const result = await h.run('devPorts.releaseAllPorts');
    assert.equal(result.released, 1);
    assert.equal(ledger.findByProject(h.projectId('api')), undefined);
  });
});

describe('Start with Debugger', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));

  it('runs the dev server in a JavaScript Debug Terminal on its allocated port', async () => {
    const hasJsDebug = !!vscode.extensions.getExtension('ms-vscode.js-debug');
    if (!hasJsDebug) {
      console.log('      this host has no js-debug: Start with Debugger says so (checked below)');
      await assert.rejects(h.run('devPorts.startWithDebugger', h.projectId('api')), /JavaScript debugger/);
      return;
    }
    const started = await h.run('devPorts.startWithDebugger', h.projectId('api'));
    assert.ok(started.port >= 43100 && started.port <= 43199);
    await h.waitFor(() => h.listening(started.port), `api listening on ${started.port} in the debug terminal`, 40000);
    const s = await h.waitFor(() => api.getServers().find((x) => x.projectId === h.projectId('api') && x.state !== 'starting'), 'the record listening', 20000);
    assert.equal(s.port, started.port);
    const terminal = vscode.window.terminals.find((t) => t.name === started.terminalName);
    assert.ok(terminal, `no terminal named ${started.terminalName}`);
    await h.waitFor(() => vscode.debug.activeDebugSession, 'a debug session attached to the dev server', 20000);
    const stopped = await h.run('devPorts.stopDevServer', h.projectId('api'));
    assert.equal(stopped.released, true);
    assert.equal(await h.core.isPortAvailable(started.port), true, `still held by ${await h.listenerPids(started.port)} after Stop`);
  });
});
