import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { findProcessesOnPort, isProcessAlive, listeningPorts, listListeners } from '../../src/os';
import { linuxListeners } from '../../src/os/linuxListeners';
import { isPortAvailable, waitForPortAvailable } from '../../src/os/portCheck';
import { CLIENT, FIXTURES, LISTENER, REGISTER, Spawned } from './helpers';

const NOBODY = 65534;

describe('os listeners (Linux /proc)', () => {
  const spawned = new Spawned();
  afterEach(() => spawned.cleanup());

  it('finds a child node process listening on 127.0.0.1', async () => {
    const { port, pid } = await spawned.listener('127.0.0.1');
    assert.deepEqual(await findProcessesOnPort(port), [pid]);
  });

  it('finds a child node process listening on ::1', async () => {
    const { port, pid } = await spawned.listener('::1');
    assert.deepEqual(await findProcessesOnPort(port), [pid]);
  });

  it('does not count a client connected to the port as a holder', async () => {
    const { port, pid } = await spawned.listener('127.0.0.1');
    const client = await spawned.start(process.execPath, [CLIENT, '127.0.0.1', String(port)]);
    const pids = await findProcessesOnPort(port);
    assert.deepEqual(pids, [pid]);
    assert.ok(!pids.includes(client.info.pid));
  });

  it('does not match a listener on a port that shares a prefix (3xxx vs 3xxx1)', async () => {
    let short = 0;
    for (let candidate = 3000 + (process.pid % 3000); candidate <= 6553 && short === 0; candidate++) {
      if ((await isPortAvailable(candidate)) && (await isPortAvailable(candidate * 10 + 1))) short = candidate;
    }
    assert.notEqual(short, 0, 'no free pair of ports found');
    const long = await spawned.listener('127.0.0.1', short * 10 + 1);
    const exact = await spawned.listener('127.0.0.1', short);
    assert.deepEqual(await findProcessesOnPort(short), [exact.pid]);
    assert.deepEqual(await findProcessesOnPort(short * 10 + 1), [long.pid]);
  });

  it('reports the command line, cwd, name and user of the holder', async () => {
    const { info } = await spawned.start(process.execPath, [LISTENER, '127.0.0.1', '0'], { cwd: os.tmpdir() });
    const port = info.port as number;
    const listeners = await listListeners(port);
    assert.equal(listeners.length, 1);
    const [listener] = listeners;
    assert.equal(listener.address, '127.0.0.1');
    assert.deepEqual(listener.pids, [info.pid]);
    assert.equal(listener.ownerUid, process.getuid!());
    const [holder] = listener.processes;
    assert.equal(holder.pid, info.pid);
    assert.equal(holder.ppid, process.pid);
    assert.equal(holder.name, path.basename(process.execPath));
    assert.equal(holder.command, `${process.execPath} ${LISTENER} 127.0.0.1 0`);
    assert.equal(holder.cwd, os.tmpdir());
    assert.equal(holder.uid, process.getuid!());
    assert.equal(holder.user, os.userInfo().username);
  });

  it('lists every listener of every port sorted by port then address, one entry per address', async () => {
    const a = await spawned.listener('::1');
    const b = await spawned.listener('127.0.0.1', a.port).catch(() => undefined);
    const all = await listListeners();
    const sorted = [...all].sort((x, y) => x.port - y.port || (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
    assert.deepEqual(all, sorted);
    const mine = all.filter((l) => l.port === a.port);
    assert.deepEqual(mine.map((l) => [l.address, l.pids]), b ? [['127.0.0.1', [b.pid]], ['::1', [a.pid]]] : [['::1', [a.pid]]]);
  });

  it('finds the same holder when the likely PID is hinted first', async () => {
    const { port, pid } = await spawned.listener('127.0.0.1');
    assert.deepEqual(linuxListeners(port, { hintPids: [pid] }).map((l) => l.pids), [[pid]]);
  });

  it('answers no listeners and no PIDs for a free port', async () => {
    const { port, child } = await spawned.listener('127.0.0.1');
    child.kill('SIGKILL');
    assert.equal(await waitForPortAvailable(port), true);
    assert.deepEqual(await listListeners(port), []);
    assert.deepEqual(await findProcessesOnPort(port), []);
  });

  it('includes a listening port in the one-snapshot set of listening ports, and drops it once closed', async () => {
    const { port, child } = await spawned.listener('::1');
    assert.ok((await listeningPorts()).has(port));
    child.kill('SIGKILL');
    assert.equal(await waitForPortAvailable(port), true);
    assert.ok(!(await listeningPorts()).has(port));
  });

  describe('processes of another user', function () {
    before(function () {
      if (process.getuid?.() !== 0) {
        console.log('      skipped: needs root to start processes as another user');
        this.skip();
      }
    });

    it('names the user of another user’s listener when it can read it (as root)', async () => {
      const { info } = await spawned.start(process.execPath, [LISTENER, '127.0.0.1', '0'], { uid: NOBODY, gid: NOBODY, cwd: '/' });
      const [listener] = await listListeners(info.port as number);
      assert.equal(listener.ownerUid, NOBODY);
      assert.equal(listener.processes[0].uid, NOBODY);
      assert.equal(listener.processes[0].user, 'nobody');
    });

    it('reports a socket it cannot inspect with empty pids and its owner uid, and refuses to call it free', async () => {
      const { port, pid } = await spawned.listener('127.0.0.1');
      const { info } = await spawned.start(process.execPath, ['-r', REGISTER, path.join(FIXTURES, 'as-other-user.ts'), String(port), String(pid)], {
        uid: NOBODY,
        gid: NOBODY,
        cwd: '/',
      });
      assert.equal(info.uid, NOBODY);
      assert.deepEqual(info.listeners, [{ port, address: '127.0.0.1', pids: [], processes: [], ownerUid: 0 }]);
      const kill = info.kill as { code?: string; message: string };
      assert.equal(kill.code, 'EACCES');
      assert.equal(kill.message, `Port ${port} is held on 127.0.0.1 by a process of user "root"; Dev Ports cannot see or stop it. Stop it as that user, or run "sudo dev-ports free ${port}".`);
      assert.equal(await isPortAvailable(port), false, 'the root listener must survive');
      assert.deepEqual(await findProcessesOnPort(port), [pid]);
    });

    it('rejects checking a privileged port as a normal user instead of calling it free', async () => {
      const { port, pid } = await spawned.listener('127.0.0.1');
      const { info } = await spawned.start(process.execPath, ['-r', REGISTER, path.join(FIXTURES, 'as-other-user.ts'), String(port), String(pid)], {
        uid: NOBODY,
        gid: NOBODY,
        cwd: '/',
      });
      const privileged = info.privileged as { code?: string; message: string };
      assert.equal(privileged.code, 'EACCES');
      assert.match(privileged.message, /^Port 80 cannot be checked by binding it/);
    });

    it('names the PID, command and owner when asked to stop another user’s process', async () => {
      const { port, pid } = await spawned.listener('127.0.0.1');
      const { info } = await spawned.start(process.execPath, ['-r', REGISTER, path.join(FIXTURES, 'as-other-user.ts'), String(port), String(pid)], {
        uid: NOBODY,
        gid: NOBODY,
        cwd: '/',
      });
      const killTree = info.killTree as { code?: string; message: string };
      assert.equal(killTree.code, 'EPERM');
      assert.equal(
        killTree.message,
        `Cannot stop PID ${pid} (${process.execPath} ${LISTENER} 127.0.0.1 0): it belongs to user "root", not to you. Run as that user or with sudo.`,
      );
      assert.ok(isProcessAlive(pid));
    });
  });
});
