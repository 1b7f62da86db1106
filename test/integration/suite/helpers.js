// Shared helpers of the integration tests (not a test file: index.js only loads *.test.js). They run inside the
// extension host, next to the extension, and use the bundled core (dist/core.js) for OS checks: the same code
// the CLI uses, real sockets and /proc, nothing faked.
'use strict';

const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const path = require('node:path');
const vscode = require('vscode');

const core = require(path.resolve(__dirname, '../../../dist/core.js'));

/** @returns {Promise<any>} the extension's API after its startup work finished */
async function getApi() {
  const ext = vscode.extensions.getExtension('dev-ports.dev-ports');
  assert.ok(ext, 'the extension dev-ports.dev-ports is not installed in this host');
  const api = await ext.activate();
  await api._test.startup;
  await api._test.projectsReady();
  return api;
}

function workspaceRoot() {
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  assert.ok(folder, 'the tests need the fixture workspace open');
  return folder.uri.fsPath;
}

/** Project id (absolute folder) of a fixture app. */
function projectId(app) {
  return path.join(workspaceRoot(), 'apps', app);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until `fn` returns something truthy; fails with `what` after `timeoutMs`.
 * @template T
 * @param {() => T | Promise<T>} fn
 */
async function waitFor(fn, what, timeoutMs = 15000, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(intervalMs);
  }
}

const listening = async (port) => !(await core.isPortAvailable(port));

/** PIDs that listen on the port (the dev server's node process). */
async function listenerPids(port) {
  const listeners = await core.listListeners(port);
  return [...new Set(listeners.flatMap((l) => l.pids))];
}

/** A free port of the fixture's range (43100-43199), above what the allocator hands out first. */
async function freeTestPort(start = 43150) {
  const port = await core.findAvailablePort(start, 43199);
  assert.ok(port, 'no free port left in 43150-43199');
  return port;
}

/** Processes the tests started, killed in afterEach by PID (never by name or group). */
const spawned = new Set();

/**
 * Starts a server Dev Ports did not start, in its own session (`detached`) so it never shares the extension
 * host's process group. Resolves once it listens on 127.0.0.1:`port`.
 */
async function spawnForeignServer(port) {
  const code = `require('http').createServer((q, s) => s.end('foreign')).listen(${port}, '127.0.0.1')`;
  const child = childProcess.spawn(process.execPath, ['-e', code], { detached: true, stdio: 'ignore' });
  child.unref();
  spawned.add(child.pid);
  await waitFor(() => listening(port), `the foreign server on ${port}`);
  return child.pid;
}

/**
 * A foreign tree like a dev server in someone's terminal: a session leader (the "shell") runs a middle process
 * (npm) that runs the listener. Resolves with the three PIDs once the port listens.
 */
async function spawnForeignTree(port) {
  const leaf = `require('http').createServer((q, s) => s.end('leaf')).listen(${port}, '127.0.0.1')`;
  const middle = `const c = require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(leaf)}], { stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000)`;
  const top = `const c = require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(middle)}], { stdio: ['ignore', 'pipe', 'ignore'] }); c.stdout.once('data', (d) => console.log(c.pid + ' ' + String(d).trim())); setInterval(() => {}, 1000)`;
  const child = childProcess.spawn(process.execPath, ['-e', top], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  spawned.add(child.pid);
  const line = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(String(d).trim()));
    child.once('exit', (code) => reject(new Error(`the foreign tree exited early (${code})`)));
  });
  child.stdout.destroy();
  child.unref();
  const [middlePid, leafPid] = line.split(' ').map(Number);
  spawned.add(middlePid);
  spawned.add(leafPid);
  await waitFor(() => listening(port), `the foreign tree on ${port}`);
  return { top: child.pid, middle: middlePid, leaf: leafPid };
}

/**
 * Runs `fn` while another VS Code window holds `app`'s reservation in the machine-wide ledger: a live process (that
 * window's extension host, killed with the test's other processes) as the owner of a port of the test range. The
 * reservation is released afterwards, whatever `fn` did.
 * @template T
 * @param {string} app
 * @param {(w: { port: number, otherHost: import('node:child_process').ChildProcess, ledger: any }) => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function withOtherWindow(app, fn) {
  const port = await freeTestPort();
  const otherHost = childProcess.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
  spawned.add(otherHost.pid);
  const ledger = new core.Ledger();
  assert.ok(ledger.tryClaim({ projectId: projectId(app), port, allocatedAt: Date.now(), owner: { pid: otherHost.pid, kind: 'vscode' } }));
  try {
    return await fn({ port, otherHost, ledger });
  } finally {
    ledger.release(port, projectId(app));
  }
}

/** True while the process runs; a zombie (dead, not yet reaped: PID 1 of a container may never reap) is dead. */
function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return e.code === 'EPERM';
  }
  try {
    const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function killSpawned() {
  for (const pid of spawned) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  spawned.clear();
}

const run = (id, arg) => vscode.commands.executeCommand(id, arg);

/** Root node of a project in the Ports view's data. */
async function projectNode(api, app) {
  const nodes = await api._test.tree();
  return nodes.find((n) => n.kind === 'project' && n.projectId === projectId(app));
}

/** afterEach of every file: stop what Dev Ports runs, kill what the test spawned, drop every allocation. */
async function cleanUp(api) {
  if (!api) return;
  for (const s of api._test.servers()) {
    await run('devPorts.stopDevServer', s.projectId).catch((e) => console.log(`cleanup: stop ${s.projectId} failed: ${e.message}`));
  }
  killSpawned();
  for (const t of vscode.window.terminals) t.dispose();
  // Closing a terminal starts a clean-up (kill, wait for the port, release): let it finish before the next test.
  await new Promise((r) => setTimeout(r, 50));
  await api._test.idle();
  await api.releaseAllPortAllocations();
}

/**
 * The hooks every suite needs: a 60 s timeout, the extension's API once (handed to `use`), and {@link cleanUp}
 * after each test.
 * @param {Mocha.Suite} suite the `this` of a `describe` callback
 * @param {(api: any) => void} use
 */
function setUpSuite(suite, use) {
  suite.timeout(60000);
  /** @type {any} */
  let api;
  before(async () => {
    api = await getApi();
    use(api);
  });
  afterEach(async () => {
    await cleanUp(api);
  });
}

module.exports = {
  core,
  getApi,
  workspaceRoot,
  projectId,
  sleep,
  waitFor,
  listening,
  listenerPids,
  freeTestPort,
  spawnForeignServer,
  spawnForeignTree,
  withOtherWindow,
  alive,
  killSpawned,
  spawned,
  run,
  projectNode,
  cleanUp,
  setUpSuite,
};
