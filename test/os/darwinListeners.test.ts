import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import { darwinListeners, darwinListeningPorts } from '../../src/os/darwinListeners';
import { CLIENT, LISTENER, Spawned } from './helpers';

// The macOS path runs lsof and ps; both print the same formats on Linux, so it runs here against real processes.
describe('os darwinListeners (lsof + ps, run on this machine)', function () {
  const spawned = new Spawned();
  before(function () {
    if (spawnSync('lsof', ['-v']).error) {
      console.log('      skipped: lsof is not installed');
      this.skip();
    }
  });
  afterEach(() => spawned.cleanup());

  it('finds a listener on ::1 with its command line, cwd and user, and not a connected client', async () => {
    const { info } = await spawned.start(process.execPath, [LISTENER, '::1', '0'], { cwd: os.tmpdir() });
    const port = info.port as number;
    const client = await spawned.start(process.execPath, [CLIENT, '::1', String(port)]);
    const listeners = await darwinListeners(port);
    assert.equal(listeners.length, 1);
    assert.equal(listeners[0].address, '::1');
    assert.deepEqual(listeners[0].pids, [info.pid]);
    assert.ok(!listeners[0].pids.includes(client.info.pid));
    const [holder] = listeners[0].processes;
    assert.equal(holder.command, `${process.execPath} ${LISTENER} ::1 0`);
    assert.equal(holder.cwd, os.tmpdir());
    assert.equal(holder.user, os.userInfo().username);
    assert.equal(holder.ppid, process.pid);
  });

  it('answers no listeners for a free port (lsof exits 1) and lists the port among all listening ports while held', async () => {
    const { port, child } = await spawned.listener('127.0.0.1');
    assert.ok((await darwinListeningPorts()).has(port));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.deepEqual(await darwinListeners(port), []);
  });

  it('says lsof is needed, and which package has it, when it cannot be found', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await assert.rejects(darwinListeners(3000), {
        name: 'MissingToolError',
        message: 'lsof was not found in PATH; it is needed to find which process holds a port. Install the package "lsof" (apt install lsof, dnf install lsof, apk add lsof).',
      });
    } finally {
      process.env.PATH = saved;
    }
  });
});
