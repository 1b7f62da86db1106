import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { familiesBound, findAvailablePort, isPortAvailable, waitForPortAvailable } from '../../src/os/portCheck';
import { parseProcNetSockets } from '../../src/os/procNet';
import { assertPort, assertRange } from '../../src/os/validate';
import { FIXTURES, REGISTER, Spawned } from './helpers';

function listen(host: string, port = 0, options: Partial<net.ListenOptions> = {}): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.on('error', () => {}));
    server.once('error', reject);
    server.listen({ host, port, ...options }, () => resolve(server));
  });
}

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('os validate', () => {
  it('accepts ports 1 and 65535', () => {
    assertPort(1);
    assertPort(65535);
  });

  it('throws a TypeError naming the value for a port that is not an integer', () => {
    assert.throws(() => assertPort('abc'), { name: 'TypeError', message: 'Port must be an integer between 1 and 65535, got "abc".' });
    assert.throws(() => assertPort(30.5), TypeError);
    assert.throws(() => assertPort(NaN), TypeError);
  });

  it('throws a RangeError for an integer outside 1-65535', () => {
    assert.throws(() => assertPort(0), { name: 'RangeError', message: 'Port must be an integer between 1 and 65535, got 0.' });
    assert.throws(() => assertPort(70000), RangeError);
  });

  it('throws a RangeError for an inverted range', () => {
    assert.throws(() => assertRange(4000, 3000), {
      name: 'RangeError',
      message: 'The port range 4000-3000 is inverted: its start must not be above its end.',
    });
    assertRange(3000, 3000);
  });
});

describe('os isPortAvailable', () => {
  const servers: net.Server[] = [];
  const spawned = new Spawned();

  afterEach(async () => {
    spawned.cleanup();
    await Promise.all(servers.splice(0).map(close));
  });

  it('says a port with a listener on 127.0.0.1 is in use', async () => {
    const server = await listen('127.0.0.1');
    servers.push(server);
    assert.equal(await isPortAvailable(portOf(server)), false);
  });

  it('says a port with a listener on ::1 is in use', async () => {
    const server = await listen('::1');
    servers.push(server);
    assert.equal(await isPortAvailable(portOf(server)), false);
  });

  it('says a port with a listener in another process is in use, and free once it is closed', async () => {
    const { port, child } = await spawned.listener('127.0.0.1');
    assert.equal(await isPortAvailable(port), false);
    child.kill('SIGKILL');
    assert.equal(await waitForPortAvailable(port, { timeoutMs: 5000 }), true);
  });

  it('says a port nothing listens on is free', async () => {
    const server = await listen('127.0.0.1');
    const port = portOf(server);
    await close(server);
    assert.equal(await isPortAvailable(port), true);
  });

  it('rejects an invalid port before binding anything', async () => {
    await assert.rejects(isPortAvailable(0), RangeError);
    await assert.rejects(isPortAvailable('3000' as unknown as number), TypeError);
  });

  it('says a port whose only remains are TIME_WAIT connections is free, and a Node server can listen there', async () => {
    const server = net.createServer((socket) => {
      // The server side closes first, so the TIME_WAIT state lands on the server's port.
      socket.end();
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = portOf(server);
    await new Promise<void>((resolve, reject) => {
      const client = net.connect({ host: '127.0.0.1', port });
      client.on('error', reject);
      client.on('end', () => client.end());
      client.on('close', () => resolve());
    });
    await close(server);
    const timeWait = parseProcNetSockets(fs.readFileSync('/proc/net/tcp', 'utf8')).filter((r) => r.port === port && r.state === '06');
    assert.ok(timeWait.length > 0, `expected a TIME_WAIT row on port ${port}`);

    assert.equal(await isPortAvailable(port), true);
    const again = await listen('127.0.0.1', port);
    servers.push(again);
    assert.equal(portOf(again), port);
  });

  describe('wildcard listeners inside a network namespace', function () {
    let reason: string | undefined;
    before(function () {
      const probe = spawnSync('unshare', ['-n', '--', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
      if (probe.error || probe.status !== 0) reason = `unshare -n is not permitted here: ${probe.error?.message ?? probe.stderr.trim()}`;
    });

    // Inside the namespace lo also gets a private address of each family: a listener on a LAN-like address.
    async function runInNamespace(mode: string): Promise<Record<string, unknown>> {
      const setup = 'ip link set lo up && ip addr add 10.255.0.1/32 dev lo && ip -6 addr add fd00::1/128 dev lo';
      const { info } = await spawned.start('unshare', [
        '-n',
        '--',
        'sh',
        '-c',
        `${setup} && exec "$0" "$@"`,
        process.execPath,
        '-r',
        REGISTER,
        path.join(FIXTURES, 'netns-port-check.ts'),
        mode,
      ]);
      return info;
    }

    for (const [mode, what] of [
      ['0.0.0.0', '0.0.0.0'],
      ['dual', ':: (dual-stack)'],
      ['v6only', ':: (IPv6-only)'],
      ['127.0.0.1', '127.0.0.1'],
      ['::1', '::1'],
      ['10.255.0.1', 'an IPv4 address of an interface (10.255.0.1)'],
      ['fd00::1', 'an IPv6 address of an interface (fd00::1)'],
    ] as const) {
      it(`says a port with a listener on ${what} is in use, and free once it is closed`, async function () {
        if (reason) {
          console.log(`      skipped: ${reason}`);
          this.skip();
        }
        const result = await runInNamespace(mode);
        assert.equal(result.error, undefined);
        assert.equal(result.whileListening, false);
        assert.equal(result.afterClose, true);
      });
    }
  });
});

describe('os findAvailablePort and waitForPortAvailable', () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(close));
  });

  it('skips a port in use and one excluded, and returns the next free one', async () => {
    // Three consecutive ports: the first held, the second excluded, the third free.
    let start = 0;
    for (let attempt = 0; attempt < 20 && start === 0; attempt++) {
      const candidate = await findAvailablePort(20000 + attempt * 97, 40000);
      if (candidate !== undefined && (await isPortAvailable(candidate + 1)) && (await isPortAvailable(candidate + 2))) start = candidate;
    }
    assert.notEqual(start, 0);
    servers.push(await listen('127.0.0.1', start));
    assert.equal(await findAvailablePort(start, start + 2, { exclude: [start + 1] }), start + 2);
  });

  it('returns undefined when every port of the range is taken', async () => {
    const server = await listen('::1');
    servers.push(server);
    const port = portOf(server);
    assert.equal(await findAvailablePort(port, port), undefined);
  });

  it('rejects an inverted range', async () => {
    await assert.rejects(findAvailablePort(4000, 3000), RangeError);
  });

  it('gives up after the timeout while the port stays in use', async () => {
    const server = await listen('127.0.0.1');
    servers.push(server);
    assert.equal(await waitForPortAvailable(portOf(server), { timeoutMs: 100, intervalMs: 10 }), false);
  });

  it('resolves true as soon as the listener closes', async () => {
    const server = await listen('127.0.0.1');
    const port = portOf(server);
    setTimeout(() => server.close(), 50);
    assert.equal(await waitForPortAvailable(port, { timeoutMs: 5000 }), true);
  });
});

describe('os familiesBound', () => {
  const open: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('tells which address families have a socket on the port (127.0.0.1, ::1, nothing)', async () => {
    const v4 = await listen('127.0.0.1');
    open.push(v4);
    assert.deepEqual(await familiesBound(portOf(v4)), { v4: true, v6: false });
    const v6 = await listen('::1');
    open.push(v6);
    assert.deepEqual(await familiesBound(portOf(v6)), { v4: false, v6: true });
    const port = portOf(v6);
    v6.close();
    open.pop();
    assert.equal(await waitForPortAvailable(port), true);
    assert.deepEqual(await familiesBound(port), { v4: false, v6: false });
  });
});
