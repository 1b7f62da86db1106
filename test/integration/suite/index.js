// Entry point of the integration tests: VS Code loads this module in the extension host (desktop
// VS Code, or the VS Code server of test/host/vscode-web-host.js) and awaits run(). Test files are
// plain CommonJS JavaScript named *.test.js anywhere under this folder.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');

/**
 * Every *.test.js file under `dir`, sorted so runs are reproducible.
 * @param {string} dir
 * @returns {string[]}
 */
function testFiles(dir) {
  /** @type {string[]} */
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') out.push(...testFiles(full));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) out.push(full);
  }
  return out.sort();
}

/**
 * Writes a marker file for the runner, which treats a run without `finished` as a failure: when the
 * extension host dies mid-run the web workbench still reports exit code 0.
 * @param {string} name
 * @param {string} content
 */
function mark(name, content) {
  const dir = process.env.DEV_PORTS_TEST_MARKER_DIR;
  if (dir) fs.writeFileSync(path.join(dir, name), content);
}

/**
 * In the web host, console output reaches the runner only as workbench log messages, mixed with the
 * workbench's own logging and with printf arguments not applied. Formatting here and tagging each
 * message (the host sets DEV_PORTS_TEST_OUTPUT_TAG) lets the host print exactly the tests' output.
 * VS Code's extension host makes console.log & co. accessors that ignore assignment, so the global
 * `console` itself is replaced by one whose methods tag and then call VS Code's.
 */
function tagConsole() {
  const tag = process.env.DEV_PORTS_TEST_OUTPUT_TAG;
  if (!tag) return;
  const original = globalThis.console;
  const tagged = Object.create(original);
  for (const method of /** @type {const} */ (['log', 'info', 'warn', 'error', 'debug'])) {
    Object.defineProperty(tagged, method, {
      value: (/** @type {unknown[]} */ ...args) => original[method](tag + util.format(...args)),
      writable: true,
      configurable: true,
    });
  }
  Object.defineProperty(globalThis, 'console', { value: tagged, writable: true, configurable: true });
}

/**
 * Runs the suite; resolves when every test passed, rejects otherwise.
 * @returns {Promise<void>}
 */
function run() {
  tagConsole();
  mark('started', `${process.pid}\n`);
  // Mocha comes from the repository's node_modules (three levels up), whichever host loaded us.
  const Mocha = require(require.resolve('mocha', { paths: [__dirname, path.resolve(__dirname, '../../..')] }));
  // Reporters print through Base.consoleLog, captured when mocha is first loaded.
  Mocha.reporters.Base.consoleLog = console.log;
  // One retry per test: in real VS Code on 2 loaded cores, shell integration's end event (which carries a dev
  // server's exit code) and the terminal's output sometimes arrive seconds late; a test that then timed out runs once
  // more from a fresh start. A retried test is printed as such by mocha, and a second failure still fails the run.
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60000, retries: 1 });
  // DEV_PORTS_TEST_GREP runs only the tests whose title matches (the benchmark runs just the activation test).
  if (process.env.DEV_PORTS_TEST_GREP) mocha.grep(process.env.DEV_PORTS_TEST_GREP);
  const files = testFiles(__dirname);
  for (const file of files) mocha.addFile(file);

  return new Promise((resolve, reject) => {
    /** @param {number} passed @param {number} failed @param {number} [pending] */
    const done = (passed, failed, pending = 0) => {
      // CI reads this line; it stands alone on its line.
      console.log(`\n${passed} passed, ${failed} failed`);
      mark('finished', `${failed}\n`);
      if (failed > 0) reject(new Error(`${failed} integration test${failed === 1 ? '' : 's'} failed.`));
      else if (passed === 0 && pending > 0) {
        // The real-framework tests skip themselves outside test/fixtures/frameworks-workspace (DEV_PORTS_WORKSPACE).
        reject(new Error(`no integration test ran: the ${pending} that matched skipped themselves (the real-framework tests need DEV_PORTS_WORKSPACE=test/fixtures/frameworks-workspace).`));
      } else if (passed === 0) reject(new Error(`no integration test ran (found ${files.length} *.test.js files under ${__dirname}).`));
      else resolve();
    };
    try {
      const runner = mocha.run((/** @type {number} */ failures) => {
        const stats = runner.stats || { passes: 0, failures, pending: 0 };
        done(stats.passes, failures, stats.pending);
      });
    } catch (err) {
      // A test file that throws while loading (syntax error, missing module) counts as one failure.
      console.error(err);
      done(0, 1);
    }
  });
}

/**
 * Asks the web host to save a screenshot of the workbench as `<name>.png` (in DEV_PORTS_SCREENSHOT_DIR)
 * while the extension is alive, e.g. for the README. Resolves with the saved path, or undefined when
 * the host does not take screenshots (desktop VS Code, or no screenshot folder configured).
 * @example
 *   const { screenshot } = require('./index');
 *   await screenshot('ports-tree');
 * @param {string} name letters, digits, '.', '-' and '_'
 * @param {{ x: number, y: number, width: number, height: number }} [clip] part of the page to save
 * @param {number} [timeoutMs]
 * @returns {Promise<string | undefined>}
 */
async function screenshot(name, clip, timeoutMs = 15000) {
  const dir = process.env.DEV_PORTS_TEST_MARKER_DIR;
  if (!dir || !process.env.DEV_PORTS_TEST_OUTPUT_TAG) return undefined;
  if (!/^[\w.-]+$/.test(name)) throw new Error(`screenshot name "${name}" may only contain letters, digits, '.', '-' and '_'`);
  const done = path.join(dir, `${name}.screenshot-done`);
  fs.rmSync(done, { force: true });
  fs.writeFileSync(path.join(dir, `${name}.screenshot-request`), clip ? JSON.stringify(clip) : '');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(done)) {
      const outcome = fs.readFileSync(done, 'utf8').trim();
      fs.rmSync(done, { force: true });
      return outcome.startsWith('skipped') ? undefined : outcome;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

module.exports = { run, screenshot };
