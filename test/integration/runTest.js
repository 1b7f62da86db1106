// Runs the integration tests inside VS Code with @vscode/test-electron. Two hosts:
//   desktop: VS Code downloaded by test-electron (under xvfb-run -a on a Linux machine without a display);
//   web:     test/host/vscode-web-host.js, the VS Code server + headless Chromium installed offline by
//            scripts/install-test-host.sh (see test/host/README.md).
// DEV_PORTS_TEST_HOST=desktop|web|auto picks one; auto (the default) takes desktop when a VS Code can be
// downloaded or is already in .vscode-test/, else web.
// DEV_PORTS_EXT_PATH, DEV_PORTS_TESTS_PATH and DEV_PORTS_WORKSPACE point the run at another extension,
// tests index module or workspace folder.
'use strict';

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runTests, downloadAndUnzipVSCode } = require('@vscode/test-electron');

const REPO = path.resolve(__dirname, '..', '..');
const WEB_HOST = path.join(REPO, 'test', 'host', 'vscode-web-host.js');

/** @param {string} message */
function say(message) {
  console.log(`[integration] ${message}`);
}

/** @param {string} command */
function onPath(command) {
  return childProcess.spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
}

/**
 * The desktop VS Code executable, or undefined when none can be had (offline and nothing cached).
 * @param {string} extensionDevelopmentPath
 */
async function desktopVSCode(extensionDevelopmentPath) {
  try {
    return await downloadAndUnzipVSCode({
      cachePath: path.join(REPO, '.vscode-test'),
      extensionDevelopmentPath,
      timeout: 10000,
    });
  } catch (err) {
    say(`no desktop VS Code (${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
}

async function main() {
  const started = Date.now();
  const extensionDevelopmentPath = path.resolve(process.env.DEV_PORTS_EXT_PATH || REPO);
  const extensionTestsPath = path.resolve(process.env.DEV_PORTS_TESTS_PATH || path.join(__dirname, 'suite', 'index.js'));
  const workspace = path.resolve(process.env.DEV_PORTS_WORKSPACE || path.join(REPO, 'test', 'fixtures', 'workspace'));
  const wanted = (process.env.DEV_PORTS_TEST_HOST || 'auto').toLowerCase();
  if (!['auto', 'desktop', 'web'].includes(wanted)) {
    throw new Error(`DEV_PORTS_TEST_HOST must be desktop, web or auto, not "${wanted}"`);
  }
  const headlessLinux = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;

  let host = 'web';
  /** @type {string | undefined} */
  let codePath;
  if (wanted !== 'web') {
    if (wanted === 'auto' && headlessLinux && !onPath('xvfb-run')) {
      say('no display and no xvfb-run: using the web host');
    } else {
      codePath = await desktopVSCode(extensionDevelopmentPath);
      if (codePath) host = 'desktop';
      else if (wanted === 'desktop') throw new Error('DEV_PORTS_TEST_HOST=desktop but VS Code could not be downloaded');
    }
  }

  // Each run gets its own ledger folder and marker folder, which the extension host inherits.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-integration-'));
  const markerDir = path.join(tmp, 'markers');
  const ledgerHome = path.join(tmp, 'home');
  fs.mkdirSync(markerDir);
  fs.mkdirSync(ledgerHome);
  const extensionTestsEnv = {
    DEV_PORTS_TEST_MARKER_DIR: markerDir,
    DEV_PORTS_HOME: process.env.DEV_PORTS_HOME || ledgerHome,
  };

  const launchArgs = [workspace, '--disable-extensions', '--disable-workspace-trust'];
  /** @type {{ vscodeExecutablePath: string, launchArgs: string[] }} */
  let options;
  if (host === 'desktop' && codePath) {
    if (headlessLinux) {
      // runTests puts launchArgs before its own arguments, so xvfb-run gets `-a <code> <args...>`.
      options = { vscodeExecutablePath: 'xvfb-run', launchArgs: ['-a', codePath, ...launchArgs] };
    } else {
      options = { vscodeExecutablePath: codePath, launchArgs };
    }
  } else {
    options = { vscodeExecutablePath: WEB_HOST, launchArgs };
  }
  say(`host: ${host}; extension: ${extensionDevelopmentPath}; tests: ${extensionTestsPath}; workspace: ${workspace}`);

  let code = 1;
  try {
    code = await runTests({ ...options, extensionDevelopmentPath, extensionTestsPath, extensionTestsEnv });
    if (!fs.existsSync(path.join(markerDir, 'finished'))) {
      say('VS Code exited with 0 but the tests never reported that they finished: counting the run as failed.');
      code = 1;
    }
  } catch (err) {
    say(err instanceof Error ? err.message : String(err));
    code = 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  say(`${code === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s (${host} host)`);
  return code;
}

// test-electron stops the test host on SIGINT (the host then stops its server and browser); route
// the other termination signals the same way so a cancelled CI job leaves nothing running.
for (const sig of /** @type {NodeJS.Signals[]} */ (['SIGTERM', 'SIGHUP'])) {
  process.on(sig, () => {
    if (process.listenerCount('SIGINT') > 0) process.emit('SIGINT', 'SIGINT');
    else process.exit(1);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    say(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
