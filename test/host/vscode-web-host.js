#!/usr/bin/env node
// An executable that stands in for the VS Code binary given to @vscode/test-electron's runTests
// (`vscodeExecutablePath`) on machines that cannot download VS Code. It starts the VS Code server
// from code-server (installed by scripts/install-test-host.sh into test/host/server/), opens its web
// workbench in headless Chromium in smoke-test-driver mode, runs the extension tests in the server's
// extension host, prints their output and exits with their exit code. See test/host/README.md.
//
// Runs with Node 20; the server itself runs on the Node 24 that code-server requires.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const host = require('./server');

// The whole integration suite (stress cycles, real frameworks, agents) takes 5–8 min on 2 loaded cores.
const DEFAULT_TIMEOUT_MS = 25 * 60 * 1000;
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

async function main() {
  const started = Date.now();
  const args = parseArgs(process.argv.slice(2));
  if (args.extensionDevelopmentPaths.length === 0 || !args.extensionTestsPath) {
    note('usage: vscode-web-host.js --extensionDevelopmentPath=<dir> --extensionTestsPath=<module> [<workspace folder>]');
    return 2;
  }
  const missing = host.missingPieces();
  if (missing) {
    note(missing);
    return 1;
  }
  if (DEBUG && args.ignored.length) note(`ignoring desktop flags: ${args.ignored.join(' ')}`);

  const timeoutMs = Number(process.env.DEV_PORTS_TEST_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-web-host-'));
  state.tmp = tmp;
  const home = path.join(tmp, 'home');
  const userDataDir = path.join(tmp, 'user-data');
  const extensionsDir = path.join(tmp, 'extensions');
  for (const dir of [home, userDataDir, extensionsDir]) fs.mkdirSync(dir, { recursive: true });
  host.writeUserSettings(userDataDir, host.QUIET_SETTINGS);

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
  const env = host.serverEnv(process.env, {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_RUNTIME_DIR: path.join(tmp, 'runtime'),
    DEV_PORTS_TEST_MARKER_DIR: markerDir,
    DEV_PORTS_TEST_OUTPUT_TAG: tag,
  });
  fs.mkdirSync(/** @type {string} */ (env.XDG_RUNTIME_DIR), { recursive: true, mode: 0o700 });

  try {
    state.server = await host.startServer({
      userDataDir,
      extensionsDir,
      configFile: path.join(tmp, 'code-server.yaml'),
      env,
      cwd: home,
      onOutput: (text) => {
        if (DEBUG) write(process.stderr, `[server] ${text}`);
      },
    });
  } catch (err) {
    note(/** @type {Error} */ (err).message);
    return 1;
  }
  const port = state.server.port;
  if (DEBUG) note(`server answers on 127.0.0.1:${port} after ${Date.now() - started} ms`);

  state.browser = await host.launchBrowser({ home });
  const page = await state.browser.browser.newPage({ viewport: { width: 1400, height: 900 } });

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

  await page.goto(host.workbenchUrl({
    port,
    folder: args.folder,
    extensionDevelopmentPaths: args.extensionDevelopmentPaths,
    extensionTestsPath: args.extensionTestsPath,
  }));

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
  const serverErrors = (state.server ? state.server.log : []).join('').split('\n').filter((line) => /error|exited|terminated/i.test(line));
  if (serverErrors.length) {
    note('server messages about errors and exits:');
    write(process.stderr, `${serverErrors.slice(-30).join('\n')}\n`);
  }
}

/**
 * Screenshots taken while the extension host is alive (the final one shows the workbench after it
 * stopped): a test writes `<name>.screenshot-request` (empty, or a JSON clip rectangle) into the marker folder, the page is saved as
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
        const request = fs.readFileSync(path.join(markerDir, entry), 'utf8').trim();
        fs.rmSync(path.join(markerDir, entry), { force: true });
        let outcome = 'skipped: set DEV_PORTS_SCREENSHOT_DIR to save screenshots';
        if (dir) {
          const file = path.join(dir, `${match[1]}.png`);
          fs.mkdirSync(dir, { recursive: true });
          // The request may name a part of the page: { x, y, width, height }.
          const clip = request ? JSON.parse(request) : undefined;
          await page.screenshot({ path: file, clip });
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
  if (delay > 0) await host.sleep(delay);
  try {
    await page.screenshot({ path: path.resolve(file) });
    note(`screenshot saved to ${path.resolve(file)}`);
  } catch (err) {
    note(`could not save the screenshot: ${/** @type {Error} */ (err).message}`);
  }
}

/**
 * @type {{
 *   tmp?: string, workbenchProblems: string[], stopping?: Promise<void>,
 *   server?: import('./server').RunningServer, browser?: import('./server').RunningBrowser,
 * }}
 */
const state = { workbenchProblems: [] };

function cleanup() {
  if (!state.stopping) {
    state.stopping = (async () => {
      await host.stopRun(state);
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

// server.js kills what is still running when the process leaves without going through finish().
/** @param {unknown} err */
function fail(err) {
  if (!state.stopping) note(`error: ${err instanceof Error ? err.stack || err.message : String(err)}`);
  void finish(1);
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

main().then(finish, fail);
