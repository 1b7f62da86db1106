/**
 * The CLI commands run in-process through `runCli` with a captured io (a fake terminal for `free`'s question),
 * over the real OS layer and a real ledger in a temp DEV_PORTS_HOME.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import { runCli, type CliIo } from '../../src/cli/commands';
import { nodeOs } from '../../src/os/index';
import { freePort, isGone, killSpawned, startListener, waitUntil } from './helpers';

interface Captured {
  io: CliIo;
  stdin: PassThrough;
  out(): string;
  err(): string;
}

let home = '';

function capture(options: { isTTY?: boolean; columns?: number; now?: number } = {}): Captured {
  let out = '';
  let err = '';
  const stdin = new PassThrough();
  const io: CliIo = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    stdin,
    isTTY: options.isTTY ?? false,
    columns: options.columns,
    env: { ...process.env, DEV_PORTS_HOME: home },
    cwd: home,
    ...(options.now !== undefined ? { now: () => options.now! } : {}),
  };
  return { io, stdin, out: () => out, err: () => err };
}

describe('dev-ports commands (in-process)', () => {
  beforeEach(() => {
    home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-cli-cmd-')));
  });

  afterEach(() => {
    killSpawned();
    fs.rmSync(home, { recursive: true, force: true });
  });

  describe('free on a terminal', () => {
    it('asks "Stop <name> (PID …: command)? [y/N]" and stops the holder on y', async () => {
      const { child, port } = await startListener();
      const c = capture({ isTTY: true });
      const running = runCli(['free', String(port)], c.io, nodeOs);
      await waitUntil(() => c.err().includes('[y/N]'));
      assert.match(c.err(), new RegExp(`^Stop node \\(PID ${child.pid}: .*listen\\.js.*\\)\\? \\[y/N\\] $`));
      c.stdin.write('y\n');
      assert.strictEqual(await running, 0, c.err());
      assert.match(c.out(), new RegExp(`^Stopped PID ${child.pid}; port ${port} is free\\.\\n$`));
      await waitUntil(() => isGone(child.pid!));
    });

    it('leaves the holder alone and exits 1 on any other answer', async () => {
      const { child, port } = await startListener();
      const c = capture({ isTTY: true });
      const running = runCli(['free', String(port)], c.io, nodeOs);
      await waitUntil(() => c.err().includes('[y/N]'));
      c.stdin.write('no\n');
      assert.strictEqual(await running, 1);
      assert.match(c.err(), new RegExp(`Left port ${port} alone\\.`));
      assert.ok(!isGone(child.pid!));
    });

    it('treats a closed stdin as no', async () => {
      const { child, port } = await startListener();
      const c = capture({ isTTY: true });
      const running = runCli(['free', String(port)], c.io, nodeOs);
      await waitUntil(() => c.err().includes('[y/N]'));
      c.stdin.end();
      assert.strictEqual(await running, 1);
      assert.ok(!isGone(child.pid!));
    });

    it('does not ask with --yes', async () => {
      const { child, port } = await startListener();
      const c = capture({ isTTY: true });
      assert.strictEqual(await runCli(['free', String(port), '--yes'], c.io, nodeOs), 0, c.err());
      assert.strictEqual(c.err(), '');
      await waitUntil(() => isGone(child.pid!));
    });

    it('refuses to stop its own process, exiting 1 with the reason and the not-freed JSON', async () => {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as net.AddressInfo;
        const c = capture();
        assert.strictEqual(await runCli(['free', String(port), '--yes', '--json'], c.io, nodeOs), 1);
        assert.deepStrictEqual(JSON.parse(c.out()), { port, killedPids: [], free: false });
        assert.match(c.err(), new RegExp(`^dev-ports: Port ${port} is held by .*PID ${process.pid}.*will not stop`));
        assert.strictEqual(c.err().trim().split('\n').length, 1, 'no stack without DEV_PORTS_DEBUG=1');
        assert.ok(server.listening);
      } finally {
        server.close();
      }
    });

    it('prints the not-freed JSON on stdout when it refuses without a terminal', async () => {
      const { port } = await startListener();
      const c = capture({ isTTY: false });
      assert.strictEqual(await runCli(['free', String(port), '--json'], c.io, nodeOs), 1);
      assert.deepStrictEqual(JSON.parse(c.out()), { port, killedPids: [], free: false });
      assert.match(c.err(), /pass --yes/);
    });
  });

  describe('human output', () => {
    it('says a free port is free and who reserved it', async () => {
      const port = await freePort();
      assert.strictEqual(await runCli(['reserve', 'web', '--port', String(port)], capture().io, nodeOs), 0);
      const c = capture();
      assert.strictEqual(await runCli(['check', String(port)], c.io, nodeOs), 0);
      assert.strictEqual(c.out(), `Port ${port} is free. It is reserved for ${path.join(home, 'web')} in the Dev Ports ledger.\n`);
    });

    it('prints just the port for reserve and a table for allocations', async () => {
      const reserve = capture();
      assert.strictEqual(await runCli(['reserve', 'web', '--range', '42000-42999'], reserve.io, nodeOs), 0);
      const port = Number(reserve.out());
      assert.match(reserve.out(), /^\d+\n$/);
      const c = capture({ now: Date.now() + 120_000 });
      await runCli(['allocations'], c.io, nodeOs);
      const [header, row, ...rest] = c.out().trimEnd().split('\n');
      assert.match(header, /^PORT\s+PROJECT\s+AGE\s+PID\s+BY$/);
      assert.strictEqual(row, `${port}  ${path.join(home, 'web')}  2 min       cli`);
      assert.strictEqual(row.indexOf('2 min'), header.indexOf('AGE'));
      assert.deepStrictEqual(rest, []);
    });

    it('says which reservations cleanup released', async () => {
      const port = await freePort();
      await runCli(['reserve', 'old', '--port', String(port)], capture().io, nodeOs);
      const c = capture({ now: Date.now() + 10 * 60_000 });
      assert.strictEqual(await runCli(['cleanup'], c.io, nodeOs), 0);
      assert.strictEqual(c.out(), `Released 1 stale reservation: ${port} (${path.join(home, 'old')}).\n`);
    });

    it('says when cleanup has nothing to release', async () => {
      const c = capture();
      assert.strictEqual(await runCli(['cleanup', '--older-than', '1'], c.io, nodeOs), 0);
      assert.strictEqual(c.out(), 'No stale reservation: none is older than 1 min with its port free.\n');
    });

    it('says when release finds no reservation', async () => {
      const c = capture();
      assert.strictEqual(await runCli(['release', 'ghost'], c.io, nodeOs), 0);
      assert.strictEqual(c.out(), `${path.join(home, 'ghost')} had no reservation.\n`);
    });

    it('cuts list rows to the terminal width', async () => {
      await startListener();
      const c = capture({ columns: 70 });
      assert.strictEqual(await runCli(['list'], c.io, nodeOs), 0);
      for (const line of c.out().trimEnd().split('\n')) assert.ok(line.length <= 70, `${line.length}: ${line}`);
    });

    it('logs what the core does on stderr with --verbose', async () => {
      const c = capture();
      assert.strictEqual(await runCli(['reserve', 'web', '--verbose', '--range', '42000-42999'], c.io, nodeOs), 0);
      assert.match(c.err(), /dev-ports info: \[ledger\] Reserved port \d+ for /);
    });
  });
});
