#!/usr/bin/env node
// The browser half of `npm run try` (scripts/try.sh): runs the VS Code server from code-server as a
// person has it (the built extension installed in the server's extensions folder, no test payload, no
// smoke-test driver, so notifications show as toasts; Workspace Trust on) and prints the URL to open.
// With --check it opens that URL in headless Chromium instead, waits until the extension is active,
// saves a screenshot when DEV_PORTS_TRY_SCREENSHOT is set, prints "ok" and stops. See test/host/README.md.
//
//   node test/host/try.js [--check] [--workspace=<folder>] [--extension=<folder>]
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const host = require('./server');

const REPO = path.resolve(__dirname, '..', '..');
const FIRST_PORT = 8080;
const LAST_PORT = 8179;
const DEBUG = process.env.DEV_PORTS_TRY_DEBUG === '1';

/** @param {string} message */
function note(message) {
  process.stderr.write(`[try] ${message}\n`);
}

/**
 * @param {string[]} argv
 * @returns {{ check: boolean, workspace: string, extension: string }}
 */
function parseArgs(argv) {
  let check = false;
  let workspace = '';
  let extension = REPO;
  for (const arg of argv) {
    if (arg === '--check') check = true;
    else if (arg.startsWith('--workspace=')) workspace = path.resolve(arg.slice('--workspace='.length));
    else if (arg.startsWith('--extension=')) extension = path.resolve(arg.slice('--extension='.length));
    else throw new UsageError(`unknown argument "${arg}"; usage: try.js [--check] [--workspace=<folder>] [--extension=<folder>]`);
  }
  if (!workspace) {
    const sample = path.join(REPO, 'samples', 'monorepo');
    workspace = fs.existsSync(sample) ? sample : path.join(REPO, 'test', 'fixtures', 'workspace');
  }
  if (!fs.statSync(workspace, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`no folder ${workspace} to open`);
  if (!fs.existsSync(path.join(extension, 'package.json'))) throw new UsageError(`no extension (package.json) in ${extension}`);
  return { check, workspace, extension };
}

class UsageError extends Error {}

/**
 * The port to serve on: DEV_PORTS_TRY_PORT, which must be free, else the first free one from 8080.
 * @returns {Promise<{ port: number, chosen: boolean }>}
 */
async function pickPort() {
  const wanted = process.env.DEV_PORTS_TRY_PORT;
  if (wanted) {
    const port = Number(wanted);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`DEV_PORTS_TRY_PORT must be a port number (1-65535), not "${wanted}"`);
    if (!(await host.portIsFree(port))) {
      const holder = host.whoListens(port);
      throw new UsageError(
        `port ${port} (DEV_PORTS_TRY_PORT) is in use${holder ? ` by ${holder}` : ''}. ` +
          `Stop that process (node dist/cli.js free ${port}), choose another port, or unset DEV_PORTS_TRY_PORT to take the first free port from ${FIRST_PORT}.`,
      );
    }
    return { port, chosen: false };
  }
  return { port: await host.firstFreePort(FIRST_PORT, LAST_PORT), chosen: true };
}

/**
 * @typedef {{ userDataDir: string, extensionsDir: string, configFile: string, env: NodeJS.ProcessEnv, cwd: string }} Layout
 */

/**
 * Where the server keeps its state. The plain mode keeps settings and state in
 * ~/.cache/dev-ports-try (so they survive between runs) and runs with the real HOME, so terminals
 * and the Dev Ports ledger are the person's own. --check uses a fresh temporary folder for all of
 * it, its own HOME and ledger included, so a check neither reads nor changes anything of the person.
 * @param {boolean} check
 * @returns {Layout}
 */
function layout(check) {
  if (check) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-try-check-'));
    state.tmp = tmp;
    const home = path.join(tmp, 'home');
    fs.mkdirSync(home);
    const env = host.serverEnv(process.env, {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      XDG_RUNTIME_DIR: path.join(tmp, 'runtime'),
      TMPDIR: path.join(tmp, 'tmp'),
      DEV_PORTS_HOME: path.join(tmp, 'ledger'),
    });
    fs.mkdirSync(path.join(tmp, 'runtime'), { mode: 0o700 });
    fs.mkdirSync(path.join(tmp, 'tmp'));
    return { userDataDir: path.join(tmp, 'user-data'), extensionsDir: path.join(tmp, 'extensions'), configFile: path.join(tmp, 'code-server.yaml'), env, cwd: home };
  }
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const base = path.join(cache, 'dev-ports-try');
  const extensionsDir = path.join(base, 'extensions');
  fs.mkdirSync(extensionsDir, { recursive: true });
  // The server creates its IPC sockets (vscode-ipc-*.sock, vscode-git-*.sock) in XDG_RUNTIME_DIR,
  // else in /tmp, and leaves them behind when stopped, even gracefully. Without a runtime folder of
  // the person's, give it one of ours that goes at exit; with one, remove the dead sockets it added.
  /** @type {NodeJS.ProcessEnv} */
  const overrides = {};
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime && fs.existsSync(runtime)) {
    state.runtime = { dir: runtime, before: new Set(fs.readdirSync(runtime)) };
  } else {
    state.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-try-runtime-'));
    overrides.XDG_RUNTIME_DIR = state.tmp;
  }
  return {
    userDataDir: path.join(base, 'user-data'),
    extensionsDir,
    configFile: path.join(base, 'code-server.yaml'),
    env: host.serverEnv(process.env, overrides),
    cwd: os.homedir(),
  };
}

/**
 * Removes the VS Code sockets that appeared in `dir` during this run and that no process is bound to
 * any more (a bound socket's path is listed in /proc/net/unix): another VS Code's live sockets stay.
 * @param {string} dir
 * @param {Set<string>} before
 */
function removeDeadSockets(dir, before) {
  let bound = '';
  try {
    bound = fs.readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return;
  }
  for (const name of fs.readdirSync(dir)) {
    if (before.has(name) || !/^vscode-.*\.sock$/.test(name)) continue;
    const file = path.join(dir, name);
    if (bound.includes(` ${file}\n`)) continue;
    try {
      if (fs.lstatSync(file).isSocket()) fs.rmSync(file);
    } catch {
      // Gone already.
    }
  }
}

/**
 * Starts the server on the picked port. A port we picked ourselves can be taken before the server
 * binds it: then take the next free one.
 * @param {Layout} where
 */
async function start(where) {
  let { port, chosen } = await pickPort();
  for (let attempt = 1; ; attempt++) {
    try {
      return await host.startServer({
        ...where,
        port,
        smokeTestDriver: false,
        workspaceTrust: true,
        onOutput: (text) => {
          if (DEBUG) process.stderr.write(`[server] ${text}`);
        },
      });
    } catch (err) {
      if (!chosen || attempt >= 3 || !host.whoListens(port)) throw err;
      port = await host.firstFreePort(port + 1, LAST_PORT);
    }
  }
}

/**
 * Opens the workbench in headless Chromium and waits until the extension is active: a status-bar
 * item contributed by the extension (its DOM id starts with the extension's identifier; the manifest
 * alone shows the activity-bar icon, only running code adds a status-bar item). Then clicks it,
 * which runs the extension's command that opens the Ports view, and waits for the view's rows.
 * @param {string} url
 * @param {string} extensionPath
 * @param {string} home
 */
async function check(url, extensionPath, home) {
  const manifest = JSON.parse(fs.readFileSync(path.join(extensionPath, 'package.json'), 'utf8'));
  const extensionId = `${manifest.publisher}.${manifest.name}`;
  const timeout = Number(process.env.DEV_PORTS_TRY_TIMEOUT_MS) || 120_000;
  state.browser = await host.launchBrowser({ home });
  const page = await state.browser.browser.newPage({ viewport: { width: 1400, height: 900 } });
  /** @type {string[]} */
  const problems = [];
  // Without the smoke-test driver the workbench logs to the page's console; keep its errors for a failure report.
  page.on('console', (msg) => {
    if (DEBUG) process.stderr.write(`[workbench ${msg.type()}] ${msg.text()}\n`);
    if (msg.type() === 'error') problems.push(msg.text().split('\n')[0].slice(0, 300));
  });
  await page.goto(url);

  const item = page.locator(`.statusbar-item[id^="${extensionId}."]`).first();
  try {
    await item.waitFor({ state: 'visible', timeout });
  } catch {
    const shown = await page
      .locator('.statusbar-item')
      .evaluateAll((els) => els.map((e) => e.id).filter(Boolean).join(', '))
      .catch(() => '');
    throw new Error(
      `the extension ${extensionId} did not show its status-bar item within ${timeout / 1000} s: it did not activate, or ` +
        'the workspace has no project (the item hides then). ' +
        `Status-bar items present: ${shown || 'none'}.` +
        (problems.length ? `\nWorkbench errors:\n  ${problems.slice(-10).join('\n  ')}` : ''),
    );
  }
  const statusText = (await item.innerText()).trim();
  note(`extension active: status bar shows "${statusText}"`);
  // Workspace Trust is on and nobody trusted the folder: the workbench says so in the status bar.
  const restricted = await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).count();
  if (!restricted) throw new Error('Workspace Trust is not on: the status bar shows no "Restricted Mode" item for the untrusted folder');
  note('Workspace Trust is on: the folder opened in Restricted Mode');

  await item.click();
  const rows = page.locator('[id="workbench.view.extension.devPorts"] .monaco-list-row');
  try {
    await rows.first().waitFor({ state: 'visible', timeout: 30_000 });
  } catch {
    throw new Error('clicking the status-bar item did not open the Dev Ports view with any row in it');
  }
  const labels = await rows.evaluateAll((els) => els.map((e) => (e.getAttribute('aria-label') || e.textContent || '').trim()));
  note(`Dev Ports view shows ${labels.length} row(s): ${labels.join(' | ')}`);

  // As a person would, from the Command Palette: Stop Dev Server with nothing running says so in a notification.
  // Without the smoke-test driver it shows as a toast (with it, messages only reach the notification center, unseen).
  // (Start Dev Server is not in the palette in Restricted Mode: the manifest hides it while the folder is untrusted.)
  const toasts = page.locator('.notification-toast-container .notification-toast');
  const before = new Set(await toasts.allInnerTexts());
  await runFromPalette(page, 'Dev Ports: Stop Dev Server');
  /** @type {string | undefined} */
  let shown;
  for (const deadline = Date.now() + 30_000; !shown && Date.now() < deadline; await host.sleep(100)) {
    shown = (await toasts.allInnerTexts()).find((text) => !before.has(text));
  }
  if (!shown) {
    throw new Error('"Dev Ports: Stop Dev Server" with nothing running showed no notification toast: toasts do not show in this mode, or the command asked something else');
  }
  note(`a notification toast shows: "${shown.trim()}"`);

  const file = process.env.DEV_PORTS_TRY_SCREENSHOT;
  if (file) {
    // Tree rows fade in; give the icons a moment so the picture shows them.
    await host.sleep(500);
    await page.screenshot({ path: path.resolve(file) });
    note(`screenshot saved to ${path.resolve(file)}`);
  }
}

/**
 * Runs a command from the Command Palette with the keyboard, by its title as the palette shows it.
 * @param {import('playwright-core').Page} page
 * @param {string} title e.g. 'Dev Ports: Stop Dev Server'
 */
async function runFromPalette(page, title) {
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 10_000 });
  await page.keyboard.type(title);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  try {
    await row.waitFor({ state: 'visible', timeout: 10_000 });
  } catch {
    throw new Error(`the Command Palette does not offer "${title}"`);
  }
  await page.keyboard.press('Enter');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const missing = host.missingPieces();
  if (missing) throw new UsageError(missing);
  const where = layout(args.check);
  host.writeUserSettings(where.userDataDir, host.QUIET_SETTINGS);
  // QUIET_SETTINGS turns Workspace Trust off for the tests (and earlier versions of this command wrote that into
  // the kept settings): here it is on, as in a person's VS Code.
  host.writeUserSettings(where.userDataDir, { 'security.workspace.trust.enabled': true }, { override: true });

  // As a person's install: the built extension in the server's extensions folder, opened with no payload.
  host.installExtension(where.extensionsDir, args.extension);
  state.server = await start(where);
  const url = host.workbenchUrl({ port: state.server.port, folder: args.workspace });
  const port = state.server.port;

  if (args.check) {
    await check(url, args.extension, /** @type {string} */ (where.env.HOME));
    process.stdout.write('ok\n');
    return 0;
  }

  process.stdout.write(
    [
      '',
      `Dev Ports is running in VS Code ${serverVersion()} (browser). Open this URL in a browser:`,
      '',
      `  ${url}`,
      '',
      `On a remote machine, forward the port first, then open the URL locally:`,
      `  ssh -L ${port}:127.0.0.1:${port} <user>@<this machine>`,
      '',
      'Workspace Trust is on: the folder opens in Restricted Mode (listing and freeing ports work, starting dev',
      'servers does not) until you trust it (Manage in the banner, or the Restricted Mode item in the status bar).',
      `The extension is installed from ${args.extension} (a link in ${where.extensionsDir}); after`,
      '`npm run build`, reload the page. Settings and state: ' + `${path.dirname(where.userDataDir)}. Press Ctrl-C to stop.`,
      '',
    ].join('\n'),
  );
  // Run until a signal (handled below) or until the server dies by itself.
  const server = state.server;
  while (server.exitReason() === undefined && state.signalled === undefined) await host.sleep(500);
  if (state.signalled !== undefined) return state.signalled;
  note(`the VS Code server stopped (${server.exitReason()}). Its last output:\n${server.log.slice(-20).join('')}`);
  return 1;
}

/** The VS Code version code-server bundles, for the banner. */
function serverVersion() {
  try {
    const product = path.join(host.SERVER_DIR, 'node_modules', 'code-server', 'lib', 'vscode', 'package.json');
    return JSON.parse(fs.readFileSync(product, 'utf8')).version;
  } catch {
    return '';
  }
}

/**
 * @type {{
 *   tmp?: string, runtime?: { dir: string, before: Set<string> }, stopping?: Promise<void>, signalled?: number,
 *   server?: import('./server').RunningServer, browser?: import('./server').RunningBrowser,
 * }}
 */
const state = {};

function cleanup() {
  if (!state.stopping) {
    state.stopping = (async () => {
      await host.stopRun(state);
      if (state.runtime) removeDeadSockets(state.runtime.dir, state.runtime.before);
    })();
  }
  return state.stopping;
}

/** @param {number} code */
async function finish(code) {
  await cleanup().catch((err) => note(`cleanup failed: ${err && err.message}`));
  process.exit(code);
}

for (const [sig, code] of /** @type {[NodeJS.Signals, number][]} */ ([['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]])) {
  process.on(sig, () => {
    if (state.stopping) return;
    state.signalled = code;
    note(`${sig}: stopping the VS Code server`);
    void finish(code);
  });
}

// `npm run try` runs `sh -c "exec bash scripts/try.sh"`, and try.sh execs this process: npm's SIGINT and SIGTERM reach
// us directly. Should a shell in between not exec (another npm, another sh) or the parent be killed outright, the
// signal stops that parent, not us: once we are re-parented, stop as if signalled.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid === parent || state.stopping) return;
  state.signalled = 143;
  note(`the process that started this one (PID ${parent}) is gone: stopping the VS Code server`);
  void finish(143);
}, 500).unref();

main().then(finish, (err) => {
  // After a signal, the browser and server going away make the check fail: that is no news.
  if (state.signalled !== undefined) return;
  note(err instanceof UsageError ? err.message : `error: ${err instanceof Error ? err.message : String(err)}`);
  void finish(err instanceof UsageError ? 2 : 1);
});
