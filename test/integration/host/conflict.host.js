// The conflict message as a person sees it: in the browser host without the smoke-test driver, the notification
// toast with its buttons is in the page; clicking "Use Port N" starts the project there. Also saves the README's
// screenshots of the notification and of the Servers view in the default sidebar width (DEV_PORTS_SCREENSHOT_DIR).
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const { Host, waitFor, listening, holdPort, killListeners, copyWorkspace, freeRangePort } = require('./harness');

describe('host: the conflict notification as a person sees it', function () {
  this.timeout(180000);
  /** @type {Host} */
  let vscodeHost;
  /** @type {import('./harness').Window} */
  let win;
  let workspace = '';

  before(async () => {
    vscodeHost = await Host.start();
    workspace = copyWorkspace(path.join(vscodeHost.tmp, 'workspace'));
    win = await vscodeHost.openWindow(workspace);
  });
  after(async () => {
    killListeners();
    if (vscodeHost) await vscodeHost.stop();
  });

  it('shows a toast naming the port and its holder with Free Port and Use Port N; Use Port N starts there', async () => {
    const api = path.join(workspace, 'apps', 'api');
    const port = await freeRangePort();
    await win.ask('allocate', { projectId: api, options: { preferredPort: port } });
    const holder = await holdPort(port);

    // From code, a conflict is a notification the person answers, and a rejection for the caller.
    const start = win.command('devPorts.startDevServer', api).then(
      () => undefined,
      (e) => e,
    );
    const toast = win.toast(`Port ${port}`);
    await toast.waitFor({ state: 'visible', timeout: 30000 });
    const text = await toast.innerText();
    assert.match(text, new RegExp(`PID ${holder}`), `the toast names the holder's PID: ${text}`);
    const buttons = (await toast.locator('.monaco-button').allInnerTexts()).map((b) => b.trim());
    assert.ok(buttons.includes('Free Port'), `a Free Port button: ${buttons.join(', ')}`);
    const useNext = buttons.find((b) => /^Use Port \d+$/.test(b));
    assert.ok(useNext, `a Use Port N button: ${buttons.join(', ')}`);
    const next = Number(/** @type {string} */ (useNext).slice('Use Port '.length));
    assert.notEqual(next, port);
    const rejected = await start;
    assert.ok(rejected instanceof Error && rejected.message.includes(String(port)), 'the caller got the conflict as a rejection');

    const box = await toast.boundingBox();
    if (box) {
      const margin = 12;
      await win.screenshot('conflict-notification', {
        x: Math.max(0, box.x - margin),
        y: Math.max(0, box.y - margin),
        width: box.width + 2 * margin,
        height: box.height + 2 * margin,
      });
    }

    await toast.getByRole('button', { name: useNext }).click();
    await waitFor(() => listening(next), `api listening on ${next} after "${useNext}"`, 60000);
    const servers = await waitFor(async () => {
      const list = await win.ask('servers');
      return list.some((/** @type {any} */ s) => s.projectId === api && s.port === next) && list;
    }, `Dev Ports running api on ${next}`);
    assert.ok(servers);
    assert.equal(await listening(port), true, 'the test\'s own listener was not touched');
    assert.equal(await waitFor(async () => !(await win.toast(`Port ${port}`).isVisible()), 'the toast to close'), true);

    // The Servers view in the default sidebar width, with the running server.
    await win.command('devPorts.ports.focus');
    await waitFor(async () => {
      const roots = await win.tree();
      return roots.some((/** @type {any} */ n) => n.projectId === api && n.port === next && n.state !== 'stopped');
    }, 'the view to show api running');
    await new Promise((r) => setTimeout(r, 1500));
    const sidebar = await win.page.locator('#workbench\\.parts\\.sidebar').boundingBox();
    if (sidebar) await win.screenshot('servers-view', { x: 0, y: 0, width: Math.ceil(sidebar.x + sidebar.width + 4), height: 420 });

    await win.command('devPorts.stopDevServer', api);
    await waitFor(async () => !(await listening(next)), `port ${next} free after Stop`, 30000);
  });
});
