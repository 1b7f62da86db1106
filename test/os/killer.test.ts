import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { isProcessAlive, killProcessesOnPort as killOnPort, killProcessTree, ProtectedProcessError, type KillResult } from '../../src/os';
import type { KillOptions } from '../../src/os/types';
import type { KillOutcome } from '../../src/os/killer';
import { isPortAvailable } from '../../src/os/portCheck';
import { snapshotProcessTable } from '../../src/os/processTable';
import { CLIENT, eventually, FIXTURES, isGoneOrZombie, LISTENER, REGISTER, Spawned } from './helpers';

const FAKE_NPM = path.join(FIXTURES, 'fake-npm.js');

function withoutStopped(result: KillResult): Omit<KillResult, 'stopped'> {
  const { stopped: _stopped, ...rest } = result;
  return rest;
}

/** Background confirmations of the kills of the current test, awaited after it (no test leaves one running). */
const settling: Promise<unknown>[] = [];

/** killProcessesOnPort, remembering its background confirmation for the afterEach. */
async function killProcessesOnPort(port: number, options?: KillOptions): Promise<KillOutcome> {
  const result = (await killOnPort(port, options)) as KillOutcome;
  settling.push(result.settled);
  return result;
}

describe('os killer', () => {
  const spawned = new Spawned();
  const servers: net.Server[] = [];
  const tempFiles: string[] = [];
  afterEach(async () => {
    await Promise.all(settling.splice(0));
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
      assert.deepEqual(withoutStopped(result), { port, killedPids: [shPid, info.pid].sort((a, b) => a - b), free: true });
      assert.deepEqual(
        result.stopped?.map((p) => [p.pid, p.name, p.uid]),
        result.killedPids.map((p) => [p, p === shPid ? 'sh' : path.basename(process.execPath), process.getuid!()]),
      );
      assert.ok(await eventually(() => isGoneOrZombie(info.pid)), 'the holder still runs');
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
      // The port is free, so its holder is gone; npm and sh may still be exiting until the confirmation is done.
      assert.ok(await eventually(() => isGoneOrZombie(info.pid)), 'the holder still runs');
      assert.deepEqual((await result.settled).killedPids, result.killedPids);
      for (const pid of [npmPid, shPid, info.pid]) assert.ok(isGoneOrZombie(pid), `PID ${pid} still runs`);
      assert.ok(!result.killedPids.includes(child.pid!), 'the job-control shell itself is not part of the job');
      assert.ok(await eventually(() => isGoneOrZombie(child.pid!)), 'the shell exits once its job is gone');
    });

    it('stops a detached sh -c "server; next step" wrapper (a session leader without a terminal), so the next step never runs', async () => {
      const marker = path.join(os.tmpdir(), `dev-ports-next-step-${process.pid}-${Date.now()}`);
      tempFiles.push(marker);
      // No `set -m`: npm → sh → node share the process group of bash, which leads its session and has no terminal.
      const { child, info } = await spawned.start('bash', ['-c', 'node "$0" 127.0.0.1; echo ran > "$1"; sleep 30', FAKE_NPM, marker], { detached: true });
      const { port, npmPid, shPid } = info as unknown as { port: number; npmPid: number; shPid: number };
      spawned.track(npmPid);
      spawned.track(shPid);
      const result = await killProcessesOnPort(port, { gracePeriodMs: 2000 });
      assert.deepEqual(result.killedPids, [child.pid!, npmPid, shPid, info.pid].sort((a, b) => a - b));
      assert.equal(result.free, true);
      assert.ok(await eventually(() => isGoneOrZombie(child.pid!)), 'the wrapper must be stopped');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(fs.existsSync(marker), false, 'the wrapper went on to its next step');
    });

    it('leaves alone the shell of a terminal (a session leader with a controlling terminal) that runs the server', async function () {
      if (!fs.existsSync('/usr/bin/script')) {
        console.log('      skipped: needs util-linux `script` to give the shell a terminal');
        this.skip();
      }
      // `script` runs its command with `$SHELL -c` (or /bin/sh) as the session leader of a new pseudo-terminal, as a
      // terminal tab does; `exec` makes that leader the bash that runs the server whatever $SHELL is (dash, unlike
      // bash, forks for a lone command, and CI runs without SHELL).
      const { child, info } = await spawned.start('script', ['-qfec', `exec bash -c 'node "${LISTENER}" 127.0.0.1 0; sleep 30'`, '/dev/null'], {
        detached: true,
        env: { ...process.env, SHELL: '/bin/sh' },
      });
      const table = await snapshotProcessTable();
      const shell = table.get(info.pid)!.ppid;
      assert.equal(table.get(shell)!.sid, shell);
      assert.notEqual(table.get(shell)!.tty, 0);
      spawned.track(shell);
      const result = await killProcessesOnPort(info.port as number, { gracePeriodMs: 2000 });
      assert.deepEqual(result.killedPids, [info.pid]);
      assert.ok(!isGoneOrZombie(shell), 'the terminal\'s shell must survive');
      assert.ok(!isGoneOrZombie(child.pid!));
    });

    it('frees A\'s port without touching server B nor a sleep that orphans of one script share a process group with', async () => {
      const { info } = await spawned.start(process.execPath, [path.join(FIXTURES, 'orphans.js')], { detached: true });
      const { servers, sleep } = info as unknown as { servers: { pid: number; port: number }[]; sleep: number };
      const [a, b] = servers;
      [a.pid, b.pid, sleep].forEach((p) => spawned.track(p));
      assert.ok(await eventually(() => isGoneOrZombie(info.pid)), 'the script must have exited');
      const table = await snapshotProcessTable();
      assert.equal(table.get(a.pid)!.pgid, table.get(b.pid)!.pgid);
      assert.equal(table.get(a.pid)!.pgid, table.get(sleep)!.pgid);
      const result = await killProcessesOnPort(a.port, { gracePeriodMs: 2000 });
      assert.deepEqual(result.killedPids, [a.pid]);
      assert.deepEqual(result.stopped?.map((p) => p.pid), [a.pid]);
      assert.ok(!isGoneOrZombie(b.pid), 'B must keep running');
      assert.ok(!isGoneOrZombie(sleep), 'the sleep must keep running');
      assert.equal(await isPortAvailable(b.port), false, 'B must keep its port');
    });

    it('stops a Node cluster (primary and workers sharing the socket) in one pass and says what it stopped', async () => {
      const { info } = await spawned.start(process.execPath, [path.join(FIXTURES, 'cluster.js')]);
      const { port, workers } = info as unknown as { port: number; workers: number[] };
      workers.forEach((p) => spawned.track(p));
      const result = await killProcessesOnPort(port, { gracePeriodMs: 2000 });
      assert.equal(result.free, true);
      assert.deepEqual(result.killedPids, [info.pid, ...workers].sort((a, b) => a - b));
      assert.deepEqual(result.stopped?.map((p) => p.pid), result.killedPids);
      for (const p of result.stopped ?? []) assert.match(p.command, /cluster\.js/);
      assert.deepEqual((await result.settled).killedPids, result.killedPids);
      for (const p of [info.pid, ...workers]) assert.ok(isGoneOrZombie(p), `PID ${p} still runs`);
    });

    it('frees the port of a cluster whose primary re-forks every worker that exits', async () => {
      const { info } = await spawned.start(process.execPath, [path.join(FIXTURES, 'cluster.js'), 'refork']);
      const { port, workers } = info as unknown as { port: number; workers: number[] };
      workers.forEach((p) => spawned.track(p));
      const result = await killProcessesOnPort(port, { gracePeriodMs: 2000 });
      assert.equal(result.free, true);
      for (const p of [info.pid, ...workers]) assert.ok(result.killedPids.includes(p), `PID ${p} not stopped`);
      assert.ok(await eventually(() => isGoneOrZombie(info.pid)));
      assert.equal(await isPortAvailable(port), true);
    });

    it('stops the known root of a server\'s tree without a lookup, and still waits for the port', async () => {
      const { child, info } = await spawned.start('sh', ['-c', 'node "$0" 127.0.0.1 0; exit 0', LISTENER], { detached: true });
      const result = await killProcessesOnPort(info.port as number, { gracePeriodMs: 2000, treeRootPid: child.pid! });
      assert.deepEqual(withoutStopped(result), { port: info.port, killedPids: [child.pid!, info.pid].sort((a, b) => a - b), free: true });
    });

    it('with a known root that no longer holds the port, still frees it by looking it up', async () => {
      const other = await spawned.listener('127.0.0.1');
      const { port, pid } = await spawned.listener('127.0.0.1');
      const result = await killProcessesOnPort(port, { gracePeriodMs: 2000, treeRootPid: other.pid });
      assert.equal(result.free, true);
      assert.deepEqual(result.killedPids, [other.pid, pid].sort((a, b) => a - b));
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
      assert.deepEqual(withoutStopped(result), { port: ports[0], killedPids: [pids[0]], free: true });
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

    it('frees a port without stopping a client connected to it (a browser tab)', async () => {
      const { port, pid } = await spawned.listener('127.0.0.1');
      const client = await spawned.start(process.execPath, [CLIENT, '127.0.0.1', String(port)]);
      const result = await killProcessesOnPort(port, { gracePeriodMs: 2000 });
      assert.deepEqual(result.killedPids, [pid]);
      assert.ok(!isGoneOrZombie(client.info.pid), 'the client must survive');
    });

    it('leaves the listeners of the neighbouring ports alone', async () => {
      let port = 0;
      for (let p = 20000 + (process.pid % 20000); p < 60000 && port === 0; p += 3) {
        if ((await isPortAvailable(p - 1)) && (await isPortAvailable(p)) && (await isPortAvailable(p + 1))) port = p;
      }
      assert.notEqual(port, 0, 'no three free ports in a row');
      const below = await spawned.listener('127.0.0.1', port - 1);
      const target = await spawned.listener('::1', port);
      const above = await spawned.listener('127.0.0.1', port + 1);
      const result = await killProcessesOnPort(port, { gracePeriodMs: 2000 });
      assert.deepEqual(result.killedPids, [target.pid]);
      for (const neighbour of [below, above]) {
        assert.ok(!isGoneOrZombie(neighbour.pid));
        assert.equal(await isPortAvailable(neighbour.port), false);
      }
    });

    it('refuses to free a port held by an ancestor of the process asking (the editor) and leaves it listening', async () => {
      // This test process listens and starts a child that asks to free the port: the holder is the child's parent.
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
      const port = (server.address() as net.AddressInfo).port;
      const os = path.join(__dirname, '..', '..', 'src', 'os', 'index.ts');
      const script = `require(${JSON.stringify(os)}).killProcessesOnPort(${port}).then((r) => console.log(JSON.stringify(r)), (e) => console.log(e.name + ': ' + e.message))`;
      const inner = await new Promise<string>((resolve) => {
        execFile(process.execPath, ['-r', REGISTER, '-e', script], (_err, stdout) => resolve(stdout));
      });
      assert.match(inner.trim(), new RegExp(`^ProtectedProcessError: Port ${port} is held by PID ${process.pid} \\(.*\\), which Dev Ports will not stop: it is an ancestor of this process \\(the editor or terminal that runs Dev Ports\\)\\.$`));
      assert.equal(await isPortAvailable(port), false);
    });

    it('resolves once the port is free, and its background confirmation SIGKILLs a child of the tree that ignores SIGTERM', async () => {
      // A server (default SIGTERM: exits) with a child that ignores SIGTERM and holds no socket.
      const script = [
        "const { spawn } = require('node:child_process');",
        "const net = require('node:net');",
        "const c = spawn(process.execPath, ['-e', 'process.on(\\'SIGTERM\\', () => {}); console.log(1); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });",
        "c.stdout.once('data', () => { const s = net.createServer().listen(0, '127.0.0.1', () => console.log(JSON.stringify({ pid: process.pid, port: s.address().port, childPid: c.pid }))); });",
      ].join('\n');
      const { info } = await spawned.start(process.execPath, ['-e', script]);
      const { port, childPid } = info as unknown as { port: number; childPid: number };
      spawned.track(childPid);
      const started = Date.now();
      const result = await killProcessesOnPort(port, { gracePeriodMs: 400 });
      assert.deepEqual(withoutStopped(result), { port, killedPids: [info.pid, childPid].sort((a, b) => a - b), free: true });
      assert.equal(await isPortAvailable(port), true);
      assert.ok(await eventually(() => isGoneOrZombie(info.pid)), 'the holder still runs');
      assert.equal(isProcessAlive(childPid), true, 'the caller was kept waiting for the SIGTERM-ignoring child');
      const settled = await result.settled;
      assert.ok(Date.now() - started >= 400, 'SIGKILL came before the grace period was over');
      assert.deepEqual(settled, { killedPids: result.killedPids, errors: [] });
      assert.ok(isGoneOrZombie(childPid), 'the child that ignores SIGTERM survived the confirmation');
      assert.equal(Object.keys(result).includes('settled'), false, 'settled is not enumerable (JSON and deep-equal skip it)');
    });

    it('its background confirmation also stops an orphan of the tree left in the tree\'s process group, SIGTERM-ignoring', async () => {
      const pidFile = path.join(os.tmpdir(), `dev-ports-orphan-${process.pid}-${Date.now()}`);
      tempFiles.push(pidFile);
      // `( … &)`: the subshell exits at once, so the inner sh is re-parented to init but stays in the root's group.
      const orphan = `trap '' TERM; echo $$ > "$1"; sleep 30`;
      const { info } = await spawned.start('sh', ['-c', '(sh -c "$2" orphan "$1" &); node "$0" 127.0.0.1 0; exit 0', LISTENER, pidFile, orphan], { detached: true });
      assert.ok(await eventually(() => fs.existsSync(pidFile) && /^\d+\n$/.test(fs.readFileSync(pidFile, 'utf8'))));
      const orphanPid = Number(fs.readFileSync(pidFile, 'utf8'));
      spawned.track(orphanPid);
      const result = await killProcessesOnPort(info.port as number, { gracePeriodMs: 200 });
      assert.equal(result.free, true);
      assert.equal(result.killedPids.includes(orphanPid), false, 'the orphan is not in the tree the first walk sees');
      const settled = await result.settled;
      assert.ok(settled.killedPids.includes(orphanPid), `the orphan ${orphanPid} was not stopped: ${JSON.stringify(settled)}`);
      assert.ok(isGoneOrZombie(orphanPid));
    });

    it('signals nothing outside the tree: a stranger trapping SIGTERM in the same process group never receives it', async () => {
      const marker = path.join(os.tmpdir(), `dev-ports-stranger-${process.pid}-${Date.now()}`);
      tempFiles.push(marker);
      // sh leads the group and has two children: the server and a stranger that writes the marker on SIGTERM.
      const stranger = `trap 'echo term > "$1"; exit 0' TERM; echo "{\\"pid\\":$$}" > "$1.pid"; while :; do sleep 0.05; done`;
      tempFiles.push(`${marker}.pid`);
      const { child, info } = await spawned.start('sh', ['-c', 'sh -c "$2" stranger "$1" & node "$0" 127.0.0.1 0; wait', LISTENER, marker, stranger], { detached: true });
      assert.ok(await eventually(() => fs.existsSync(`${marker}.pid`) && fs.readFileSync(`${marker}.pid`, 'utf8').includes('}')));
      const strangerPid = (JSON.parse(fs.readFileSync(`${marker}.pid`, 'utf8')) as { pid: number }).pid;
      spawned.track(strangerPid);
      const result = await killProcessesOnPort(info.port as number, { gracePeriodMs: 300 });
      assert.deepEqual(result.killedPids, [info.pid]);
      assert.equal(result.free, true);
      assert.deepEqual((await result.settled).killedPids, [info.pid]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(fs.existsSync(marker), false, 'the stranger received SIGTERM');
      assert.equal(isProcessAlive(strangerPid), true, 'the stranger was stopped');
      assert.equal(isProcessAlive(child.pid!), true, 'the group leader was stopped');
    });

    it('SIGKILLs a server that ignores SIGTERM once the grace period is over', async () => {
      const { port, pid } = await spawned.listener('127.0.0.1', 0, ['ignore-term']);
      const result = await killProcessesOnPort(port, { gracePeriodMs: 300 });
      assert.deepEqual(withoutStopped(result), { port, killedPids: [pid], free: true });
      assert.ok(await eventually(() => isGoneOrZombie(pid)));
    });

    it('answers free with nothing killed for a port nobody listens on', async () => {
      const { port, child } = await spawned.listener('::1');
      child.kill('SIGKILL');
      await eventually(() => isPortAvailable(port));
      assert.deepEqual(await killProcessesOnPort(port), { port, killedPids: [], free: true, stopped: [] });
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
