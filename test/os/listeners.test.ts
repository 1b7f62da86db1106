import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { findProcessesOnPort, isProcessAlive, killProcessesOnPort, listeningPorts, listListeners } from '../../src/os';
import { linuxListeners } from '../../src/os/linuxListeners';
import { isPortAvailable, waitForPortAvailable } from '../../src/os/portCheck';
import { CLIENT, LISTENER, NOBODY, prepareOtherUser, removeOtherUserKit, Spawned, type OtherUserKit } from './helpers';


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
    let kit: OtherUserKit | string = 'not prepared';
    const other = (): OtherUserKit => kit as OtherUserKit;
    before(function () {
      kit = prepareOtherUser();
      if (typeof kit === 'string') {
        console.log(`      skipped: ${kit}`);
        this.skip();
      }
    });
    after(() => removeOtherUserKit(kit));

    const asOtherUser = (port: number, pid: number) =>
      spawned.start(process.execPath, [other().asOtherUser, String(port), String(pid)], { uid: other().uid, gid: other().gid, cwd: '/' });

    it('names the user of another user’s listener when it can read it (as root)', async () => {
      const { info } = await spawned.start(process.execPath, [other().listener, '127.0.0.1', '0'], { uid: NOBODY, gid: NOBODY, cwd: '/' });
      const [listener] = await listListeners(info.port as number);
      assert.equal(listener.ownerUid, NOBODY);
      assert.equal(listener.processes[0].uid, NOBODY);
      assert.equal(listener.processes[0].user, 'nobody');
    });

    it('reports a socket it cannot inspect with empty pids and its owner uid, and refuses to call it free', async () => {
      const { port, pid } = await spawned.listener('127.0.0.1');
      const { info } = await asOtherUser(port, pid);
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
      const { info } = await asOtherUser(port, pid);
      const privileged = info.privileged as { code?: string; message: string };
      assert.equal(privileged.code, 'EACCES');
      assert.match(privileged.message, /^Port 80 cannot be checked by binding it/);
    });

    it('names the PID, command and owner when asked to stop another user’s process', async () => {
      const { port, pid } = await spawned.listener('127.0.0.1');
      const { info } = await asOtherUser(port, pid);
      const killTree = info.killTree as { code?: string; message: string };
      assert.equal(killTree.code, 'EPERM');
      assert.equal(
        killTree.message,
        `Cannot stop PID ${pid} (${process.execPath} ${LISTENER} 127.0.0.1 0): it belongs to user "root", not to you. Run as that user or with sudo.`,
      );
      assert.ok(isProcessAlive(pid));
    });

    it('as root, stops another user’s listener and says whose it was', async () => {
      const { info } = await spawned.start(process.execPath, [other().listener, '127.0.0.1', '0'], { uid: NOBODY, gid: NOBODY, cwd: '/' });
      const result = await killProcessesOnPort(info.port as number, { gracePeriodMs: 2000 });
      assert.equal(result.free, true);
      assert.deepEqual(result.stopped, [
        { pid: info.pid, name: path.basename(process.execPath), command: `${process.execPath} ${other().listener} 127.0.0.1 0`, user: 'nobody', uid: NOBODY },
      ]);
    });

    it('leaves another user’s client alone when freeing a port of ours that it is connected to', async () => {
      const { port, pid } = await spawned.listener('127.0.0.1');
      const client = await spawned.start(process.execPath, [other().client, '127.0.0.1', String(port)], { uid: NOBODY, gid: NOBODY, cwd: '/' });
      const result = await killProcessesOnPort(port, { gracePeriodMs: 2000 });
      assert.deepEqual(result.killedPids, [pid]);
      assert.ok(isProcessAlive(client.info.pid), 'the other user’s client must survive');
    });
  });
});
