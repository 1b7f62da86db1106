// Real windows: a window reload with a dev server running, and a second window (a second extension host on the
// same ledger, same DEV_PORTS_HOME) on another folder that holds the same project.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const { Host, waitFor, listening, killListeners, copyWorkspace, flatten } = require('./harness');

/** States in which a server counts as running (CONTRACT.md's ServerState, and the view's older 'running'). */
const RUNNING = ['running', 'listening', 'ready', 'unhealthy'];

describe('host: window reload and a second window', function () {
  this.timeout(180000);
  /** @type {Host} */
  let vscodeHost;
  /** @type {import('./harness').Window} */
  let first;
  let workspace = '';
  let web = '';
  let port = 0;

  before(async function () {
    // Every test here needs the merge: without it, start nothing (they are listed as pending).
    vscodeHost = await Host.start();
    workspace = copyWorkspace(path.join(vscodeHost.tmp, 'workspace'));
    web = path.join(workspace, 'apps', 'web');
    first = await vscodeHost.openWindow(workspace);
  });

  /** Web running from the first window (each test may find it stopped by the one before). */
  async function ensureRunning() {
    if (port && (await listening(port))) return;
    const started = await first.command('devPorts.startDevServer', web);
    port = started.port;
    await waitFor(() => listening(port), `web listening on ${port}`, 60000);
  }
  after(async () => {
    killListeners();
    if (vscodeHost) await vscodeHost.stop();
  });

  it('a second window on another folder shows the first window\'s server as the first window\'s', async () => {
    await ensureRunning();
    // Another folder holding the same project: apps/web opened by itself (same range in its .vscode/settings.json).
    const second = await vscodeHost.openWindow(web);
    assert.notEqual(second.pid, first.pid, 'a second extension host');
    const nodes = await waitFor(async () => {
      const all = flatten(await second.tree());
      return all.some((n) => n.port === port) && all;
    }, `the second window's view to list port ${port}`, 30000).catch(async (e) => {
      const roots = await second.tree().catch(() => []);
      throw new Error(`${e.message}\nsecond window's view: ${JSON.stringify(roots.map(summary))}`);
    });
    const underOthers = nodes.filter((n) => n.parent && n.parent.kind === 'group' && n.port === port);
    assert.deepEqual(underOthers.map(summary), [], `port ${port} is not under "${underOthers[0]?.parent?.label}" in the second window`);
    const project = nodes.find((n) => n.kind === 'project' && n.projectId === web && n.port === port);
    assert.ok(project, `the second window lists web on ${port}: ${JSON.stringify(nodes.map(summary))}`);
    assert.notEqual(project.managed, true, 'the second window did not start it');
    // Said as the first window's: its row names the other window and its extension host's PID, the reservation's
    // owner in the ledger (INTERFACES.md: owner { pid, kind: 'vscode' }, ownerIsThisWindow false; branch ui's row
    // says `another window (PID 4242)`).
    const said = [project.reservedBy, project.note, project.description].filter(Boolean).join(' | ');
    assert.match(said, /window/i, `the row says it runs in another window: ${JSON.stringify(summary(project))}`);
    assert.match(said, new RegExp(`PID ${first.pid}\\b`), `the row names the first window's PID ${first.pid}: ${said}`);
    // And the first window still has it as its own.
    const mine = (await first.tree()).find((/** @type {any} */ r) => r.kind === 'project' && r.projectId === web);
    assert.ok(mine && mine.port === port, 'the first window still lists web on its port');
  });
  it('after a window reload, the view shows the server running and its port held', async () => {
    await ensureRunning();
    const before = first.pid;
    await first.reload();
    assert.notEqual(first.pid, before, 'a new extension host after the reload');
    assert.equal(await listening(port), true, 'the dev server survived the reload (its terminal is persistent)');
    const node = await waitFor(async () => {
      const roots = await first.tree();
      const n = roots.find((/** @type {any} */ r) => r.kind === 'project' && r.projectId === web);
      return n && n.port === port && RUNNING.includes(n.state) && n;
    }, `the reloaded view to show web running on ${port}`, 30000).catch(async (e) => {
      const roots = await first.tree().catch(() => []);
      throw new Error(`${e.message}\nview after the reload: ${JSON.stringify(roots.map(summary))}`);
    });
    assert.equal(node.port, port);
    const allocations = await first.ask('allocations');
    assert.ok(
      allocations.some((/** @type {any} */ a) => a.projectId === web && a.port === port),
      `the port is still allocated to web: ${JSON.stringify(allocations)}`,
    );
  });

});

/** @param {any} n */
function summary(n) {
  return { kind: n.kind, label: n.label || n.name, projectId: n.projectId, port: n.port, state: n.state, note: n.note, reservedBy: n.reservedBy, description: n.description, managed: n.managed, parent: n.parent && (n.parent.label || n.parent.kind) };
}
