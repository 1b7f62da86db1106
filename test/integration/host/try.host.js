// `npm run try` stops as a person expects: SIGTERM or SIGINT to the `npm run try` process, or SIGTERM to try.js,
// stops try.js, the VS Code server and everything it started (the extension host with a window open), and frees
// the port. Runs the real command (build included) with a temporary HOME and cache folder.
'use strict';

const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const host = require('../../host/server');
const { REPO, waitFor, listening } = require('./harness');

/** @param {number} pid */
function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Alive and not a zombie. @param {number} pid */
function running(pid) {
  if (!host.alive(pid)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

describe('host: npm run try stops on a signal', function () {
  this.timeout(180000);
  /** @type {string[]} */
  const tmps = [];
  /** @type {number[]} */
  const started = [];
  // One cache folder for the three runs, as for a person who runs it again: the kept settings, state and the
  // installed extension's link must work a second time.
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-try-cache-'));
  tmps.push(cache);
  /** The `npm run try` processes started (each leads its own group). */
  /** @type {number[]} */
  const npms = [];
  after(async () => {
    // What a failed case left running. Read the trees first: the VS Code server runs in its own process group,
    // which a signal to npm's group misses. SIGTERM first, so try.js removes its temporary folders.
    for (const npm of npms) started.push(...host.descendants(npm));
    for (const pid of [...npms.map((p) => -p), ...started]) host.signal(pid, 'SIGTERM');
    await host.sleep(3000);
    for (const pid of [...npms.map((p) => -p), ...started]) host.signal(pid, 'SIGKILL');
    for (const dir of tmps) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const [target, sig] of /** @type {const} */ ([['npm', 'SIGTERM'], ['npm', 'SIGINT'], ['try.js', 'SIGTERM']])) {
    it(`${sig} to the ${target === 'npm' ? '`npm run try`' : 'try.js'} process stops try.js, the server and its extension host`, async () => {
      // try.js keeps its settings under XDG_CACHE_HOME and runs the server with the real (here: temporary) HOME.
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-try-signal-'));
      tmps.push(tmp);
      const port = await host.firstFreePort(8180, 8279);
      const env = {
        ...process.env,
        HOME: path.join(tmp, 'home'),
        XDG_CACHE_HOME: cache,
        XDG_STATE_HOME: path.join(tmp, 'state'),
        XDG_DATA_HOME: path.join(tmp, 'data'),
        XDG_CONFIG_HOME: path.join(tmp, 'config'),
        DEV_PORTS_HOME: path.join(tmp, 'ledger'),
        DEV_PORTS_TRY_PORT: String(port),
        // npm test built just before; a build per run would only make the test slower.
        DEV_PORTS_TRY_SKIP_BUILD: '1',
        // What try.js creates in the temporary folder (its IPC runtime folder) must be gone after it stops.
        TMPDIR: path.join(tmp, 'tmpdir'),
        XDG_RUNTIME_DIR: '',
      };
      fs.mkdirSync(env.HOME, { recursive: true });
      fs.mkdirSync(env.TMPDIR, { recursive: true });
      // Its own process group, so whatever happens the after hook can kill what this test started.
      const npm = childProcess.spawn('npm', ['run', '--silent', 'try', '--', '--web'], { cwd: REPO, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const npmPid = /** @type {number} */ (npm.pid);
      npms.push(npmPid);
      let out = '';
      let err = '';
      npm.stdout.on('data', (d) => (out += d));
      npm.stderr.on('data', (d) => (err += d));
      const exited = new Promise((resolve) => npm.once('exit', (code, signal) => resolve(code ?? signal)));
      await waitFor(() => out.includes(`http://127.0.0.1:${port}/`), `the banner with the URL (stderr so far: ${err.slice(-500)})`, 120000);
      const url = /** @type {string} */ (/http:\/\/127\.0\.0\.1:\d+\/\S*/.exec(out))[0];
      assert.ok(!url.includes('payload='), `no test payload in the URL: ${url}`);

      // A window, so the server runs an extension host with Dev Ports in it.
      const browser = await host.launchBrowser({ home: env.HOME });
      try {
        const page = await browser.browser.newPage();
        await page.goto(url);
        await page.locator('.statusbar-item[id^="dev-ports.dev-ports."]').first().waitFor({ state: 'visible', timeout: 60000 });
        const tree = host.descendants(npmPid);
        const tryPid = tree.find((pid) => /test\/host\/try\.js/.test(cmdline(pid)));
        assert.ok(tryPid, 'try.js runs under npm');
        const extensionHost = tree.find((pid) => /extensionHost|type=extensionHost/.test(cmdline(pid)));
        assert.ok(extensionHost, `an extension host runs under the server: ${tree.map((p) => `${p} ${cmdline(p).slice(0, 80)}`).join('\n')}`);
        started.push(...tree);

        process.kill(target === 'npm' ? npmPid : tryPid, sig);
        await waitFor(() => tree.every((pid) => !running(pid)), `every process under npm to stop; still running: ${'…'}`, 20000).catch(() => {
          const left = tree.filter(running).map((p) => `${p} ${cmdline(p).slice(0, 100)}`);
          throw new Error(`still running 20 s after ${sig}:\n${left.join('\n')}`);
        });
        const code = await Promise.race([exited, host.sleep(10000).then(() => 'still running')]);
        assert.notEqual(code, 'still running', 'npm exits');
        assert.equal(await listening(port), false, `port ${port} is free`);
        const left = fs.readdirSync(env.TMPDIR).filter((n) => n.startsWith('dev-ports-try-'));
        assert.deepEqual(left, [], 'try.js removed its temporary folders');
        // All gone: forget their PIDs, which the kernel may hand to other processes now.
        started.length = 0;
        npms.splice(npms.indexOf(npmPid), 1);
      } finally {
        await browser.stop();
      }
    });
  }
});
