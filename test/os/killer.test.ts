import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { isProcessAlive, killProcessesOnPort, killProcessTree, ProtectedProcessError } from '../../src/os';
import { isPortAvailable } from '../../src/os/portCheck';
import { snapshotProcessTable } from '../../src/os/processTable';
import { eventually, FIXTURES, isGoneOrZombie, LISTENER, Spawned } from './helpers';

const FAKE_NPM = path.join(FIXTURES, 'fake-npm.js');

describe('os killer', () => {
  const spawned = new Spawned();
  const servers: net.Server[] = [];
  const tempFiles: string[] = [];
  afterEach(async () => {
    spawned.cleanup();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
    for (const file of tempFiles.splice(0)) fs.rmSync(file, { force: true });
  });

  describe('killProcessesOnPort', () => {
    it('frees a port held by sh -c "node server.js" and stops both processes', async () => {
      const { child, info } = await spawned.start('sh', ['-c', 'node "$0" 127.0.0.1 0; exit 0', LISTENER]);
      const port = info.port as number;
      const shPid = child.pid!;
      const result = await killProcessesOnPort(port, { gracePeriodMs: 2000 });
      assert.deepEqual(result, { port, killedPids: [shPid, info.pid].sort((a, b) => a - b), free: true });
      assert.ok(isGoneOrZombie(info.pid));
      assert.ok(await eventually(() => isGoneOrZombie(shPid)));
      assert.equal(await isPortAvailable(port), true);
    });

    it('stops the whole npm → sh → node job of a job-control shell, but not the shell', async () => {
      // bash with job control (set -m) gives the job its own process group, as an interactive terminal does.
      const { child, info } = await spawned.start('bash', ['-c', 'set -m; node "$0" 127.0.0.1 & wait', FAKE_NPM], { detached: true });
      const { port, npmPid, shPid } = info as unknown as { port: number; npmPid: number; shPid: number };
      spawned.track(npmPid);
      spawned.track(shPid);
      const result = await killProcessesOnPort(port, { gracePeriodMs: 2000 });
      assert.deepEqual(result.killedPids, [npmPid, shPid, info.pid].sort((a, b) => a - b));
      assert.equal(result.free, true);
      for (const pid of [npmPid, shPid, info.pid]) assert.ok(isGoneOrZombie(pid), `PID ${pid} still runs`);
      assert.ok(!result.killedPids.includes(child.pid!), 'the job-control shell itself is not part of the job');
      assert.ok(await eventually(() => isGoneOrZombie(child.pid!)), 'the shell exits once its job is gone');
    });

    it('leaves alone the session leader that started the job without job control (a task\'s bash -c)', async () => {
      // No `set -m`: npm → sh → node share the process group of bash, which is the session leader.
      const { child, info } = await spawned.start('bash', ['-c', 'node "$0" 127.0.0.1; sleep 30', FAKE_NPM], { detached: true });
      const { port, npmPid, shPid } = info as unknown as { port: number; npmPid: number; shPid: number };
      spawned.track(npmPid);
      spawned.track(shPid);
      const result = await killProcessesOnPort(port, { gracePeriodMs: 2000 });
      assert.deepEqual(result.killedPids, [npmPid, shPid, info.pid].sort((a, b) => a - b));
      assert.equal(result.free, true);
      assert.ok(isProcessAlive(child.pid!) && !isGoneOrZombie(child.pid!), 'the session leader must survive');
    });

    it('frees a port held by sh -c "sh -c \\"node server.js\\"" started in its own session, leaving no process behind', async () => {
      const { child, info } = await spawned.start('sh', ['-c', 'sh -c "node \\"$0\\" 127.0.0.1 0; exit 0"; exit 0', LISTENER], {
        detached: true,
      });
      const table = await snapshotProcessTable();
      const innerSh = table.get(info.pid)!.ppid;
      assert.equal(table.get(innerSh)!.ppid, child.pid);
      const result = await killProcessesOnPort(info.port as number, { gracePeriodMs: 2000 });
      assert.equal(result.free, true);
      assert.ok(result.killedPids.includes(info.pid) && result.killedPids.includes(innerSh));
      for (const pid of [info.pid, innerSh, child.pid!]) assert.ok(await eventually(() => isGoneOrZombie(pid)), `PID ${pid} still runs`);
    });

    it('stops only the server on the port, not its launcher nor the launcher\'s other server (concurrently)', async () => {
      const { info } = await spawned.start('bash', ['-c', 'node "$0"; sleep 30', path.join(FIXTURES, 'two-servers.js')], { detached: true });
      const { pids, ports } = info as unknown as { pids: number[]; ports: number[] };
      pids.forEach((p) => spawned.track(p));
      const result = await killProcessesOnPort(ports[0], { gracePeriodMs: 2000 });
      assert.deepEqual(result, { port: ports[0], killedPids: [pids[0]], free: true });
      assert.ok(isProcessAlive(info.pid) && !isGoneOrZombie(info.pid), 'the launcher must survive');
      assert.equal(await isPortAvailable(ports[1]), false, 'the other server must keep its port');
    });

    it('leaves alone a sibling server of the same process group whose parent is alive', async () => {
      // Both servers share the group of the script's bash; the second pass over that group (which catches orphans
      // of the tree) must not take a sibling whose parent is alive and not part of the tree.
      const { info } = await spawned.start('bash', ['-c', 'node "$0" & wait; sleep 30', path.join(FIXTURES, 'two-servers.js')], { detached: true });
      const { pids, ports } = info as unknown as { pids: number[]; ports: number[] };
      pids.forEach((p) => spawned.track(p));
      const result = await killProcessesOnPort(ports[0], { gracePeriodMs: 2000 });
      assert.deepEqual(result.killedPids, [pids[0]]);
      assert.equal(await isPortAvailable(ports[1]), false, 'the sibling must keep its port');
      assert.ok(!isGoneOrZombie(pids[1]));
    });

    it('SIGKILLs a server that ignores SIGTERM once the grace period is over', async () => {
      const { port, pid } = await spawned.listener('127.0.0.1', 0, ['ignore-term']);
      const result = await killProcessesOnPort(port, { gracePeriodMs: 300 });
      assert.deepEqual(result, { port, killedPids: [pid], free: true });
      assert.ok(isGoneOrZombie(pid));
    });

    it('answers free with nothing killed for a port nobody listens on', async () => {
      const { port, child } = await spawned.listener('::1');
      child.kill('SIGKILL');
      await eventually(() => isPortAvailable(port));
      assert.deepEqual(await killProcessesOnPort(port), { port, killedPids: [], free: true });
    });

    it('refuses to free a port held by this process', async () => {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
      const port = (server.address() as net.AddressInfo).port;
      await assert.rejects(killProcessesOnPort(port), (err: Error) => {
        assert.ok(err instanceof ProtectedProcessError);
        assert.match(err.message, new RegExp(`^Port ${port} is held by PID ${process.pid} \\(.*\\), which Dev Ports will not stop: it is this process`));
        return true;
      });
      assert.equal(await isPortAvailable(port), false);
    });

    it('refuses to free a port held by a protected PID and leaves it running', async () => {
      const { port, pid } = await spawned.listener('127.0.0.1');
      await assert.rejects(killProcessesOnPort(port, { protectedPids: [pid] }), ProtectedProcessError);
      assert.ok(isProcessAlive(pid));
    });
  });

  describe('killProcessTree', () => {
    it('refuses to signal this process, PID 1 or an ancestor of this process', async () => {
      await assert.rejects(killProcessTree(process.pid), { name: 'ProtectedProcessError', message: /it is this process/ });
      await assert.rejects(killProcessTree(1), { name: 'ProtectedProcessError', message: /^Refusing to stop PID 1 .*init process\.$/ });
      await assert.rejects(killProcessTree(process.ppid), { name: 'ProtectedProcessError', message: /ancestor of this process/ });
      assert.ok(isProcessAlive(process.ppid));
    });

    it('sends SIGKILL at once with force', async () => {
      const { pid } = await spawned.listener('127.0.0.1', 0, ['ignore-term']);
      assert.deepEqual(await killProcessTree(pid, { force: true, gracePeriodMs: 60_000 }), [pid]);
      assert.ok(isGoneOrZombie(pid));
    });

    it('also stops a child forked after the first walk of the tree', async () => {
      const lateFile = path.join(os.tmpdir(), `dev-ports-late-${process.pid}-${Date.now()}`);
      tempFiles.push(lateFile);
      const { info } = await spawned.start(process.execPath, [path.join(FIXTURES, 'fork-on-term.js'), lateFile]);
      const killed = await killProcessTree(info.pid, { gracePeriodMs: 500 });
      const latePid = Number(fs.readFileSync(lateFile, 'utf8'));
      spawned.track(latePid);
      assert.deepEqual(killed, [info.pid, latePid].sort((a, b) => a - b));
      assert.ok(isGoneOrZombie(latePid) && isGoneOrZombie(info.pid));
    });

    it('also stops an orphan re-parented away from the tree but still in its process group', async () => {
      const { child, info } = await spawned.start('sh', ['-c', '(sleep 600 >/dev/null 2>&1 &); node "$0" 127.0.0.1 0; exit 0', LISTENER], {
        detached: true,
      });
      const table = await snapshotProcessTable();
      const orphan = [...table.values()].find((e) => e.pgid === child.pid && e.name === 'sleep');
      assert.ok(orphan, 'the orphaned sleep was not found');
      spawned.track(orphan.pid);
      assert.notEqual(orphan.ppid, child.pid);
      const killed = await killProcessTree(child.pid!, { gracePeriodMs: 300 });
      assert.deepEqual(killed, [child.pid!, info.pid, orphan.pid].sort((a, b) => a - b));
      assert.ok(isGoneOrZombie(orphan.pid));
    });

    it('resolves to no PIDs for a process that is already gone', async () => {
      const { pid, child } = await spawned.listener('127.0.0.1');
      child.kill('SIGKILL');
      await eventually(() => !isProcessAlive(pid));
      assert.deepEqual(await killProcessTree(pid), []);
    });

    it('rejects a PID that is not a positive integer', async () => {
      await assert.rejects(killProcessTree(0), TypeError);
      await assert.rejects(killProcessTree(-5), TypeError);
    });
  });

  describe('isProcessAlive', () => {
    it('is true for this process and for PID 1, false for a child that exited and for non-PIDs', async () => {
      assert.equal(isProcessAlive(process.pid), true);
      assert.equal(isProcessAlive(1), true);
      const { pid, child } = await spawned.listener('127.0.0.1');
      child.kill('SIGKILL');
      assert.ok(await eventually(() => !isProcessAlive(pid)));
      assert.equal(isProcessAlive(0), false);
      assert.equal(isProcessAlive(-1), false);
      assert.equal(isProcessAlive(1.5), false);
    });
  });
});
