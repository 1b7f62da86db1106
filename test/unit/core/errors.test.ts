import * as assert from 'assert';
import {
  DevPortsError,
  InvalidInputError,
  LedgerError,
  NoFreePortError,
  PermissionDeniedError,
  PortInUseError,
  PortReservedError,
  describeHolders,
  isOutOfSight,
} from '../../../src/core/errors';
import { createMemoryStore } from '../../../src/core/memoryStore';
import type { Listener } from '../../../src/os/types';

const node: Listener = {
  port: 3000,
  address: '127.0.0.1',
  pids: [1234],
  processes: [{ pid: 1234, name: 'node', command: 'node server.js' }],
};

describe('errors', () => {
  it('names the holder of a busy port and what to do', () => {
    const e = new PortInUseError(3000, [node], 3001);
    assert.strictEqual(e.message, 'Port 3000 is in use by node (PID 1234: node server.js). Free it with "dev-ports free 3000" or use port 3001.');
    assert.strictEqual(e.code, 'PORT_IN_USE');
    assert.strictEqual(e.remedy, 'Free it with "dev-ports free 3000" or use port 3001.');
    assert.deepStrictEqual(e.holders.map((h) => h.pid), [1234]);
    assert.ok(e instanceof DevPortsError);
    assert.strictEqual(e.name, 'PortInUseError');
  });

  it('lists several holders once each, across IPv4 and IPv6 listeners', () => {
    const v6: Listener = { ...node, address: '::1', pids: [1234, 77], processes: [node.processes[0], { pid: 77, name: 'python3', command: 'python3 -m http.server 3000' }] };
    assert.strictEqual(describeHolders([node, v6]), 'node (PID 1234: node server.js) and python3 (PID 77: python3 -m http.server 3000)');
  });

  it('names the owner uid when the holding process belongs to another user', () => {
    const e = new PortInUseError(5432, [{ port: 5432, address: '0.0.0.0', pids: [], processes: [], ownerUid: 999 }]);
    assert.strictEqual(e.message, 'Port 5432 is in use by a process of another user (uid 999) that Dev Ports cannot inspect. Free it with "dev-ports free 5432".');
    assert.strictEqual(e.ownerUid, 999);
    assert.deepStrictEqual(e.holders, []);
  });

  it('says a socket of your own uid that no process here holds is out of sight, not another user\'s', function () {
    const me = process.getuid?.();
    if (me === undefined || me === 999) this.skip();
    assert.strictEqual(isOutOfSight(me, me), true);
    assert.strictEqual(isOutOfSight(999, me), false);
    assert.strictEqual(isOutOfSight(undefined, me), false);
    const e = new PortInUseError(2024, [{ port: 2024, address: '0.0.0.0', pids: [], processes: [], ownerUid: me }]);
    assert.match(e.message, /^Port 2024 is in use by a process Dev Ports cannot see from here \(another PID namespace, a container or a VM\)\./);
  });

  it('shortens very long command lines', () => {
    const long = { ...node, pids: [1], processes: [{ pid: 1, name: 'node', command: `node ${'x'.repeat(500)}` }] };
    assert.ok(describeHolders([long]).length < 160);
    assert.ok(describeHolders([long]).endsWith('…)'));
  });

  it('says which project reserved a port and since when', () => {
    const e = new PortReservedError(3000, '/src/web', Date.UTC(2024, 5, 10, 6, 13, 20), 3001);
    assert.strictEqual(e.message, 'Port 3000 is reserved for /src/web since 2024-06-10T06:13:20.000Z. Release it with "dev-ports release /src/web" or use port 3001.');
    assert.strictEqual(e.code, 'PORT_RESERVED');
  });

  it('names the range when no port is free', () => {
    assert.match(new NoFreePortError({ start: 3000, end: 3999 }).message, /^No free port in 3000-3999: every port is in use or reserved\./);
  });

  it('says another user owns a process it cannot stop', () => {
    const e = new PermissionDeniedError(5432, { pid: 42, name: 'postgres', command: 'postgres', user: 'postgres' });
    assert.strictEqual(e.message, 'postgres (PID 42) listening on port 5432 belongs to postgres; Dev Ports cannot stop it. Stop it as that user (or with sudo), or pick another port.');
  });

  it('gives each kind its code', () => {
    assert.strictEqual(new InvalidInputError('bad').code, 'INVALID_INPUT');
    assert.strictEqual(new LedgerError('disk full', { cause: new Error('ENOSPC') }).code, 'LEDGER');
  });
});

describe('createMemoryStore', () => {
  it('keeps JSON copies like a Memento, so callers cannot change stored values by mutation', async () => {
    const store = createMemoryStore();
    const list = [{ a: 1 }];
    await store.update('k', list);
    list[0].a = 2;
    const read = store.get<{ a: number }[]>('k')!;
    read[0].a = 3;
    assert.deepStrictEqual(store.get('k'), [{ a: 1 }]);
  });

  it('answers the default for a missing key and forgets a key updated to undefined', async () => {
    const store = createMemoryStore({ k: 1 });
    assert.strictEqual(store.get('missing', 5), 5);
    await store.update('k', undefined);
    assert.strictEqual(store.get('k'), undefined);
  });
});
