// The harness of the host-level tests (see README.md here): one VS Code server from the offline test host, run as
// a person has it (Dev Ports installed in the server's extensions folder, no test payload, no smoke-test driver, so
// notifications show as toasts), headless Chromium pages as windows, and a probe extension installed next to Dev
// Ports that answers questions from inside each window's extension host. Runs in plain Node 20 (mocha), outside
// VS Code: what it checks from outside (ports, processes) it checks with real sockets and /proc.
'use strict';

const childProcess = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const host = require('../../host/server');

const REPO = path.resolve(__dirname, '..', '..', '..');
const PROBE = path.join(__dirname, 'probe');
const FIXTURE = path.join(REPO, 'test', 'fixtures', 'workspace');
const DEBUG = process.env.DEV_PORTS_TEST_HOST_DEBUG === '1';

/**
 * Polls until `fn` returns something truthy; fails naming `what` after `timeoutMs`.
 * @template T
 * @param {() => T | Promise<T>} fn
 * @param {string} what
 * @param {number} [timeoutMs]
 * @returns {Promise<T>}
 */
async function waitFor(fn, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  /** @type {unknown} */
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return /** @type {T} */ (last);
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await host.sleep(100);
  }
}

/**
 * True when something accepts connections on 127.0.0.1:`port`.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** PIDs of listeners the tests started, killed by PID in `killListeners()`. */
const listeners = new Set();

/**
 * A listener of the test's own on 127.0.0.1:`port`, in its own session (never the server's group). Resolves with its
 * PID once it accepts connections.
 * @param {number} port
 * @returns {Promise<number>}
 */
async function holdPort(port) {
  const code = `require('http').createServer((q, s) => s.end('held by the test')).listen(${port}, '127.0.0.1')`;
  const child = childProcess.spawn(process.execPath, ['-e', code], { detached: true, stdio: 'ignore' });
  child.unref();
  const pid = /** @type {number} */ (child.pid);
  listeners.add(pid);
  await waitFor(() => listening(port), `the test's listener on ${port}`, 10000);
  return pid;
}

function killListeners() {
  for (const pid of listeners) host.signal(pid, 'SIGKILL');
  listeners.clear();
}

/**
 * The port range of the workspaces here: not the fixture's 43100–43199, which the in-host integration tests (run
 * alongside on a shared machine) use.
 */
const RANGE = { start: 47300, end: 47399 };

/**
 * A copy of the fixture workspace (test/fixtures/workspace: apps web, api, …) in `dir`, so tests may add files, with
 * the range {@link RANGE}. `apps/web` gets the same settings in its own `.vscode/settings.json`, for a window opened
 * on it.
 * @param {string} dir
 * @returns {string}
 */
function copyWorkspace(dir) {
  fs.cpSync(FIXTURE, dir, { recursive: true });
  const settings = JSON.stringify(
    { 'devPorts.portRange.start': RANGE.start, 'devPorts.portRange.end': RANGE.end, 'devPorts.killGracePeriodMs': 1000 },
    null,
    2,
  );
  fs.writeFileSync(path.join(dir, '.vscode', 'settings.json'), settings);
  fs.mkdirSync(path.join(dir, 'apps', 'web', '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'apps', 'web', '.vscode', 'settings.json'), settings);
  return dir;
}

/**
 * A free port of the range, from `offset` above its start up (the allocator hands out the first ports first).
 * @param {number} [offset]
 */
async function freeRangePort(offset = 50) {
  for (let port = RANGE.start + offset; port <= RANGE.end; port++) if (await host.portIsFree(port)) return port;
  throw new Error(`no free port left in ${RANGE.start + offset}-${RANGE.end}`);
}

/**
 * @typedef {object} HostOptions
 * @property {boolean} [workspaceTrust]  Workspace Trust on (folders open untrusted, in Restricted Mode). Default off.
 */

/**
 * One VS Code server with Dev Ports and the probe installed, and one Chromium. Windows share the server's
 * environment: one DEV_PORTS_HOME (ledger) for all of them, as windows of one person's VS Code.
 */
class Host {
  /** @param {HostOptions} [options] */
  static async start(options = {}) {
    const missing = host.missingPieces();
    if (missing) throw new Error(missing);
    const self = new Host();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-host-tests-'));
    self.tmp = tmp;
    const home = path.join(tmp, 'home');
    self.probeDir = path.join(tmp, 'probe');
    self.ledger = path.join(tmp, 'ledger');
    for (const dir of [home, self.probeDir, self.ledger, path.join(tmp, 'runtime')]) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const userDataDir = path.join(tmp, 'user-data');
    const extensionsDir = path.join(tmp, 'extensions');
    host.writeUserSettings(userDataDir, {
      ...host.QUIET_SETTINGS,
      'security.workspace.trust.enabled': !!options.workspaceTrust,
      // Untrusted means untrusted: no modal asking on every window (Restricted Mode, as after "Don't Trust").
      'security.workspace.trust.startupPrompt': 'never',
      // A person's default, said out loud: terminals survive a window reload.
      'terminal.integrated.enablePersistentSessions': true,
    });
    self.extensionId = host.installExtension(extensionsDir, REPO);
    host.installExtension(extensionsDir, PROBE);
    const env = host.serverEnv(process.env, {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      XDG_RUNTIME_DIR: path.join(tmp, 'runtime'),
      DEV_PORTS_HOME: self.ledger,
      DEV_PORTS_PROBE_DIR: self.probeDir,
    });
    try {
      self.server = await host.startServer({
        userDataDir,
        extensionsDir,
        configFile: path.join(tmp, 'code-server.yaml'),
        env,
        cwd: home,
        smokeTestDriver: false,
        workspaceTrust: !!options.workspaceTrust,
        onOutput: (text) => {
          if (DEBUG) process.stderr.write(`[server] ${text}`);
        },
      });
      self.browser = await host.launchBrowser({ home });
    } catch (err) {
      await self.stop();
      throw err;
    }
    return self;
  }

  constructor() {
    /** @type {string} */ this.tmp = '';
    /** @type {string} */ this.probeDir = '';
    /** @type {string} */ this.ledger = '';
    /** @type {string} */ this.extensionId = '';
    /** @type {import('../../host/server').RunningServer | undefined} */ this.server = undefined;
    /** @type {import('../../host/server').RunningBrowser | undefined} */ this.browser = undefined;
    /** @type {Window[]} */ this.windows = [];
  }

  /** Probe PIDs (one per extension host) that announced themselves so far. */
  announced() {
    return fs
      .readdirSync(this.probeDir)
      .filter((n) => n.endsWith('.window.json'))
      .map((n) => JSON.parse(fs.readFileSync(path.join(this.probeDir, n), 'utf8')));
  }

  /**
   * Opens a window (a page) on `folder` and resolves once its extension host's probe answers.
   * @param {string} folder
   * @returns {Promise<Window>}
   */
  async openWindow(folder) {
    const browser = /** @type {import('../../host/server').RunningBrowser} */ (this.browser);
    const page = await browser.browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (msg) => {
      if (DEBUG) process.stderr.write(`[page ${msg.type()}] ${msg.text()}\n`);
    });
    const win = new Window(this, page, folder);
    const before = new Set(this.announced().map((a) => a.pid));
    await page.goto(host.workbenchUrl({ port: /** @type {any} */ (this.server).port, folder }));
    await win.attach(before);
    this.windows.push(win);
    return win;
  }

  async stop() {
    await host.stopRun({ browser: this.browser, server: this.server, tmp: this.tmp });
  }
}

let sequence = 0;

/** A window: its page and its extension host (through the probe). */
class Window {
  /**
   * @param {Host} owner
   * @param {import('playwright-core').Page} page
   * @param {string} folder
   */
  constructor(owner, page, folder) {
    this.host = owner;
    this.page = page;
    this.folder = folder;
    /** PID of the window's extension host (the probe's process). */
    this.pid = 0;
  }

  /**
   * Waits for a probe that is not in `before` and serves this window's folder.
   * @param {Set<number>} before
   */
  async attach(before) {
    const hello = await waitFor(
      () => this.host.announced().find((a) => !before.has(a.pid) && a.folders.includes(this.folder) && host.alive(a.pid)),
      `the extension host of the window on ${this.folder}`,
      60000,
    );
    this.pid = hello.pid;
  }

  /**
   * Asks the probe in this window's extension host. Rejects with the probe's error message.
   * @param {string} op  info | command | tree | servers | allocations | allocate | idle | lastConflictMessage
   * @param {Record<string, unknown>} [fields]
   * @param {number} [timeoutMs]
   * @returns {Promise<any>}
   */
  async ask(op, fields = {}, timeoutMs = 30000) {
    const inbox = path.join(this.host.probeDir, String(this.pid));
    const name = `${String(++sequence).padStart(6, '0')}`;
    const request = path.join(inbox, `${name}.request.json`);
    fs.writeFileSync(`${request}.tmp`, JSON.stringify({ op, ...fields }));
    fs.renameSync(`${request}.tmp`, request);
    const reply = path.join(inbox, `${name}.reply.json`);
    const answer = await waitFor(() => fs.existsSync(reply) && JSON.parse(fs.readFileSync(reply, 'utf8')), `the probe's answer to "${op}"`, timeoutMs);
    fs.rmSync(reply, { force: true });
    if (!answer.ok) throw new Error(answer.error);
    return answer.value;
  }

  /**
   * Runs a VS Code command in this window (as code does: a conflict is a notification plus a rejection).
   * @param {string} id
   * @param {...unknown} args
   */
  command(id, ...args) {
    return this.ask('command', { id, args }, 120000);
  }

  /** The Dev Ports view's roots, each with its `children`. */
  tree() {
    return this.ask('tree');
  }

  /**
   * Reloads the page (Developer: Reload Window) and resolves once the new extension host's probe answers; the old
   * extension host is gone by then.
   */
  async reload() {
    const old = this.pid;
    const before = new Set(this.host.announced().map((a) => a.pid));
    await this.page.reload();
    await this.attach(before);
    await waitFor(() => !host.alive(old), `the old extension host (PID ${old}) to exit after the reload`, 30000);
  }

  /**
   * The notification toast whose text contains `text` (a toast, as a person sees it: not the notification center).
   * @param {string | RegExp} text
   */
  toast(text) {
    return this.page.locator('.notification-toast-container .notification-toast', { hasText: text }).first();
  }

  /**
   * Saves a picture of the page (or `clip` of it) as `<name>.png` in DEV_PORTS_SCREENSHOT_DIR; nothing without it.
   * @param {string} name
   * @param {{ x: number, y: number, width: number, height: number }} [clip]
   * @returns {Promise<string | undefined>}
   */
  async screenshot(name, clip) {
    const dir = process.env.DEV_PORTS_SCREENSHOT_DIR;
    if (!dir) return undefined;
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(path.resolve(dir), `${name}.png`);
    await this.page.screenshot({ path: file, clip });
    return file;
  }
}

/**
 * Flattens a tree from `Window.tree()`: every node with `parent` set to its root's label or kind.
 * @param {any[]} roots
 */
function flatten(roots) {
  /** @type {any[]} */
  const out = [];
  for (const root of roots) {
    out.push({ ...root, parent: undefined });
    for (const child of root.children || []) out.push({ ...child, parent: root });
  }
  return out;
}


module.exports = { REPO, RANGE, FIXTURE, Host, Window, waitFor, listening, holdPort, killListeners, copyWorkspace, freeRangePort, flatten };
