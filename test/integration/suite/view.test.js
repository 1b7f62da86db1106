// What the user sees: the Servers view (title, menus by state, rows refreshed one by one), Show Metrics,
// Start All, and the warning for a wrong setting.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const vscode = require('vscode');
const h = require('./helpers');

const manifest = () => vscode.extensions.getExtension('dev-ports.dev-ports').packageJSON;

/** Does a `viewItem =~ /…/` or `viewItem == x` clause of a menu entry's `when` accept this contextValue? */
function menuShows(entry, contextValue) {
  const regex = /viewItem =~ \/(.*?)\/(?: |$)/.exec(entry.when);
  if (regex) return new RegExp(regex[1]).test(contextValue);
  const equal = /viewItem == (\S+)/.exec(entry.when);
  return equal ? equal[1] === contextValue : true;
}

/** Commands of the view's item menus (inline or context) shown for a contextValue. */
function commandsFor(contextValue, inline) {
  return manifest()
    .contributes.menus['view/item/context'].filter((e) => e.group.startsWith('inline') === inline && menuShows(e, contextValue))
    .map((e) => e.command)
    .sort();
}

describe('the Servers view, metrics, Start All and settings', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));

  it('is titled "Servers" and Free Port has no trash-can icon', () => {
    const { views, commands } = manifest().contributes;
    assert.equal(views.devPorts.find((v) => v.id === 'devPorts.ports').name, 'Servers');
    assert.notEqual(commands.find((c) => c.command === 'devPorts.freePort').icon, '$(trash)');
  });

  it('offers Open in Browser only on a listening project, and Start but no Stop on a stopped one', async () => {
    const stopped = await h.projectNode(api, 'api');
    assert.equal(stopped.contextValue, 'project.stopped');
    assert.deepEqual(commandsFor(stopped.contextValue, false), ['devPorts.startDevServer', 'devPorts.startWithDebugger']);
    assert.deepEqual(commandsFor(stopped.contextValue, true), ['devPorts.startDevServer']);

    const web = await h.run('devPorts.startDevServer', h.projectId('web'));
    await h.waitFor(() => h.listening(web.port), 'web listening');
    const running = await h.waitFor(async () => {
      const n = await h.projectNode(api, 'web');
      return n && n.state === 'running' && n;
    }, 'web running in the view');
    assert.equal(running.contextValue, 'project.running.open');
    assert.ok(running.description.startsWith(`:${web.port} · `), running.description);
    assert.deepEqual(commandsFor(running.contextValue, true), ['devPorts.openInBrowser', 'devPorts.restartDevServer', 'devPorts.stopDevServer']);
    assert.ok(commandsFor(running.contextValue, false).includes('devPorts.openInBrowser'));
    assert.ok(!commandsFor(running.contextValue, false).includes('devPorts.startDevServer'));
  });

  it('offers Start and Free Port inline on a conflict row, and Stop inline on a stale one', async () => {
    const allocation = await api.allocate(h.projectId('api'));
    await h.spawnForeignServer(allocation.port);
    const conflict = await h.waitFor(async () => {
      const n = await h.projectNode(api, 'api');
      return n && n.state === 'conflict' && n;
    }, 'api in conflict');
    assert.deepEqual(commandsFor(conflict.contextValue, true), ['devPorts.freePort', 'devPorts.startDevServer']);
    assert.match(conflict.description, new RegExp(`^:${allocation.port} · conflict · held by node \\(PID \\d+\\)`));
    assert.deepEqual(commandsFor('project.stale', true), ['devPorts.stopDevServer']);
  });

  it("labels the editor's own listener and does not offer Free Port for it", async () => {
    const editorPid = process.pid;
    const port = await h.freeTestPort();
    // A listener inside the extension host itself: held by this editor.
    const server = require('node:net').createServer();
    await new Promise((r) => server.listen(port, '127.0.0.1', r));
    try {
      const nodes = await api._test.tree();
      const group = nodes.find((n) => n.kind === 'group' && n.label === 'Other listeners');
      const row = group && group.listeners.find((l) => l.port === port);
      assert.ok(row, `:${port} not listed`);
      assert.ok(row.pids.includes(editorPid));
      assert.equal(row.holderText, 'held by this editor');
      assert.equal(row.contextValue, 'listener.editor');
      assert.deepEqual(commandsFor(row.contextValue, true), []);
      await assert.rejects(h.run('devPorts.freePort', { port, force: true }), /held by this editor/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("shows a CLI reservation of a workspace project as the CLI's, with no Start or Stop", async () => {
    const ledger = new h.core.Ledger();
    const port = await h.freeTestPort();
    assert.ok(ledger.tryClaim({ projectId: h.projectId('api'), port, allocatedAt: Date.now() }), 'the CLI-like reservation');
    try {
      const node = await h.waitFor(async () => {
        const n = await h.projectNode(api, 'api');
        return n && n.state === 'elsewhere' && n;
      }, 'api reserved elsewhere');
      assert.equal(node.port, port);
      assert.equal(node.description, `:${port} · the CLI · nothing listens yet`);
      assert.deepEqual(commandsFor(node.contextValue, true), []);
    } finally {
      ledger.release(port, h.projectId('api'));
    }
  });

  it('redraws only the changed rows on a refresh, not the whole tree', async () => {
    await api._test.tree();
    const before = api._test.redraws();
    await api._test.tree();
    await api._test.tree();
    assert.deepEqual(api._test.redraws(), before, 'nothing changed, nothing redrawn');
    await api.allocate(h.projectId('api'));
    await h.waitFor(async () => (await h.projectNode(api, 'api')).state === 'reserved', 'api reserved');
    const after = api._test.redraws();
    assert.equal(after.whole, before.whole, 'a new allocation redraws its row only');
    assert.ok(after.rows > before.rows);
  });

  it('resolves Show Metrics to the contract shape, counting what happened', async () => {
    const before = await h.run('devPorts.showMetrics');
    for (const key of ['allocations', 'releases', 'conflicts', 'kills', 'sweeps', 'drifts']) assert.equal(typeof before[key], 'number', key);
    await api.allocate(h.projectId('api'));
    await api.releasePortForProject(h.projectId('api'));
    const port = await h.freeTestPort();
    await h.spawnForeignServer(port);
    await h.run('devPorts.freePort', { port, force: true });
    const after = await h.run('devPorts.showMetrics');
    assert.equal(after.allocations, before.allocations + 1);
    assert.equal(after.releases, before.releases + 1);
    assert.ok(after.kills >= before.kills + 1);
    assert.equal(typeof after.medianTimeToFreeMs, 'number');
    assert.deepEqual(api.getMetrics(), after);
  });

  it('starts every server of a folder with Start All, each on its own port', async () => {
    const result = await h.run('devPorts.startAll', vscode.Uri.file(path.join(h.workspaceRoot(), 'apps', 'web')));
    assert.deepEqual(Object.keys(result).sort(), ['failed', 'started']);
    assert.deepEqual(result.failed, []);
    assert.deepEqual(result.started.map((s) => s.projectId), [h.projectId('web')]);
    const [web] = result.started;
    assert.equal(typeof web.port, 'number');
    assert.equal(typeof web.terminalName, 'string');
    await h.waitFor(() => h.listening(web.port), 'web listening');
    const servers = api.getServers();
    assert.ok(servers.some((s) => s.projectId === h.projectId('web') && s.port === web.port && ['starting', 'listening', 'ready'].includes(s.state)));
    await assert.rejects(h.run('devPorts.startAll', 42), /takes no argument, or the Uri of a workspace folder/);
  });

  it('warns once about a negative stale age, naming the setting and the value used instead', async () => {
    const config = vscode.workspace.getConfiguration('devPorts');
    try {
      await config.update('staleAfterMinutes', -3, vscode.ConfigurationTarget.Global);
      const message = 'devPorts.staleAfterMinutes must be a number of minutes of at least 0, not -3: Dev Ports uses 5 instead.';
      await h.waitFor(() => api._test.settingsWarnings().includes(message), 'the settings warning');
      await h.run('devPorts.refresh');
      assert.equal(api._test.settingsWarnings().filter((m) => m === message).length, 1, 'shown once');
    } finally {
      await config.update('staleAfterMinutes', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});

// Not a test: with DEV_PORTS_SCREENSHOT_DIR set, a picture of the Show Metrics panel for the README.
if (process.env.DEV_PORTS_SCREENSHOT_DIR) {
  after(async function () {
    this.timeout(60000);
    const { screenshot } = require('./index');
    const api = await h.getApi();
    for (const app of ['web', 'api']) {
      await api.allocate(h.projectId(app));
      await api.releasePortForProject(h.projectId(app));
    }
    const port = await h.freeTestPort();
    await h.spawnForeignServer(port);
    await h.run('devPorts.freePort', { port, force: true });
    await h.run('devPorts.showMetrics');
    await h.sleep(1500);
    await screenshot('metrics');
    await h.cleanUp(api);
  });
}
