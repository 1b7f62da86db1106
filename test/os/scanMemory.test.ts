/**
 * The async (sliced) look-ups give the same answers as the sync ones, and the remembered inode → holder map kept in
 * the state folder speeds a fresh process up without ever giving a wrong answer. Real listeners, real processes.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { findProcessesOnPort, listListeners, snapshotProcessTable } from '../../src/os';
import {
  findInodeHolders,
  findInodeHoldersAsync,
  forgetLastScan,
  linuxListeners,
  linuxPortPids,
  readListenRows,
  rememberedSockets,
} from '../../src/os/linuxListeners';
import { LazyProcessTable } from '../../src/os/processTable';
import type { Listener } from '../../src/os/types';
import { Spawned } from './helpers';

const FILE = 'socket-holders.json';

function inodeOf(port: number): number {
  const row = readListenRows().find((r) => r.port === port);
  assert.ok(row, `no LISTEN row for ${port}`);
  return row.inode;
}

/** The descriptor of `pid` that holds socket `inode`. */
function fdOf(pid: number, inode: number): number {
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return Number(fd);
  }
  throw new Error(`${pid} does not hold ${inode}`);
}

describe('os listeners: sliced async look-ups and the remembered holders (Linux /proc)', () => {
  const spawned = new Spawned();
  let home: string;
  const saved = process.env.DEV_PORTS_HOME;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-scan-'));
    process.env.DEV_PORTS_HOME = home;
    forgetLastScan();
  });
  afterEach(() => {
    spawned.cleanup();
    if (saved === undefined) delete process.env.DEV_PORTS_HOME;
    else process.env.DEV_PORTS_HOME = saved;
    forgetLastScan();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('answers the same sliced (async) as in one go (sync): every listener, one port, and the inode holders', async () => {
    const a = await spawned.listener('127.0.0.1');
    const b = await spawned.listener('::1');
    // Every listener is asked for, but only ours are compared: other programs' listeners come and go meanwhile.
    const ours = (ls: Listener[]) => ls.filter((l) => l.port === a.port || l.port === b.port).sort((x, y) => x.port - y.port);
    const all = ours(await listListeners());
    forgetLastScan();
    assert.deepEqual(all, ours(linuxListeners()));
    assert.deepEqual(all.map((l) => l.pids), [a, b].sort((x, y) => x.port - y.port).map((x) => [x.pid]));
    for (const { port, pid } of [a, b]) {
      forgetLastScan();
      assert.deepEqual(await findProcessesOnPort(port), [pid]);
      forgetLastScan();
      assert.deepEqual(linuxPortPids(port), [pid]);
      assert.deepEqual(await listListeners(port), linuxListeners(port));
    }
    const inodes = new Set([inodeOf(a.port), inodeOf(b.port)]);
    const uids = new Set([process.getuid!()]);
    forgetLastScan();
    const sliced = await findInodeHoldersAsync(inodes, uids);
    forgetLastScan();
    assert.deepEqual(sliced, findInodeHolders(inodes, uids));
    assert.deepEqual(sliced.get(inodeOf(a.port)), [a.pid]);
  });

  it('reads the same process table sliced (async) as in one go (sync)', async () => {
    const a = await spawned.listener('127.0.0.1');
    const sliced = await snapshotProcessTable();
    const whole = new LazyProcessTable();
    const entries = new Map(whole.entries()); // reads the whole table at once
    for (const pid of [process.pid, a.pid]) {
      const { startTime, ppid, pgid, sid, uid, name } = entries.get(pid)!;
      const got = sliced.get(pid)!;
      assert.deepEqual({ startTime: got.startTime, ppid: got.ppid, pgid: got.pgid, sid: got.sid, uid: got.uid, name: got.name }, { startTime, ppid, pgid, sid, uid, name });
    }
    assert.equal(sliced.get(a.pid)!.ppid, process.pid);
    assert.ok(Math.abs(sliced.size - entries.size) < 50, `${sliced.size} vs ${entries.size} processes`);
  });

  it('keeps what a scan learned in a 0600 file of the state folder, which a fresh start reads', async () => {
    const { port, pid } = await spawned.listener('127.0.0.1');
    assert.deepEqual(await findProcessesOnPort(port), [pid]);
    const file = path.join(home, FILE);
    const st = fs.lstatSync(file);
    assert.ok(st.isFile());
    assert.equal(st.mode & 0o777, 0o600);
    const inode = inodeOf(port);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { v: number; holders: number[][] };
    assert.deepEqual(saved.holders.find((h) => h[0] === inode), [inode, pid, fdOf(pid, inode)]);
    assert.deepEqual(fs.readdirSync(home), [FILE], 'no temp file left behind');
    forgetLastScan(); // as a fresh process: nothing in memory, the file on disk
    assert.deepEqual(rememberedSockets().get(inode), { pid, fd: String(fdOf(pid, inode)) });
    assert.deepEqual(await findProcessesOnPort(port), [pid]);
  });

  it('never answers a wrong PID from a planted or stale entry, and corrects the file', async () => {
    const real = await spawned.listener('127.0.0.1');
    const other = await spawned.listener('127.0.0.1');
    const inode = inodeOf(real.port);
    // The other listener's PID and its listening descriptor: a live process, a live socket, the wrong one.
    const planted = [inode, other.pid, fdOf(other.pid, inodeOf(other.port))];
    fs.writeFileSync(path.join(home, FILE), JSON.stringify({ v: 1, holders: [planted, [inode + 1, 999999, 3]] }), { mode: 0o600 });
    forgetLastScan();
    assert.deepEqual(rememberedSockets().get(inode)?.pid, other.pid, 'the planted entry was read');
    assert.deepEqual(await findProcessesOnPort(real.port), [real.pid]);
    const saved = JSON.parse(fs.readFileSync(path.join(home, FILE), 'utf8')) as { holders: number[][] };
    assert.deepEqual(saved.holders.find((h) => h[0] === inode)?.[1], real.pid);
    assert.deepEqual(await listListeners(other.port).then((l) => l.map((x) => x.pids)), [[other.pid]]);
  });

  it('ignores a file that is a symbolic link, writable by others, corrupt, or has entries that are not numbers', async () => {
    const { port, pid } = await spawned.listener('127.0.0.1');
    const inode = inodeOf(port);
    const good = JSON.stringify({ v: 1, holders: [[inode, pid, fdOf(pid, inode)]] });
    const target = path.join(home, 'elsewhere.json');
    const cases: [string, () => void][] = [
      ['a symbolic link', () => { fs.writeFileSync(target, good, { mode: 0o600 }); fs.symlinkSync(target, path.join(home, FILE)); }],
      ['writable by others', () => { fs.writeFileSync(path.join(home, FILE), good); fs.chmodSync(path.join(home, FILE), 0o666); }],
      ['corrupt', () => fs.writeFileSync(path.join(home, FILE), good.slice(0, -3), { mode: 0o600 })],
      ['not numbers', () => fs.writeFileSync(path.join(home, FILE), JSON.stringify({ v: 1, holders: [[inode, pid, '../../self/fd/0']] }), { mode: 0o600 })],
    ];
    for (const [what, plant] of cases) {
      fs.rmSync(path.join(home, FILE), { force: true });
      fs.rmSync(target, { force: true });
      plant();
      forgetLastScan();
      assert.equal(rememberedSockets().size, 0, `a file that is ${what} was read`);
      assert.deepEqual(await findProcessesOnPort(port), [pid], what);
    }
  });

  it('does not create a missing state folder', async () => {
    const { port, pid } = await spawned.listener('127.0.0.1');
    const missing = path.join(home, 'not-yet');
    process.env.DEV_PORTS_HOME = missing;
    assert.deepEqual(await findProcessesOnPort(port), [pid]);
    assert.equal(fs.existsSync(missing), false);
  });

  it('still finds a holder that lives in another network namespace (it is only looked at later)', async function () {
    if (spawnSync('unshare', ['-n', 'true']).status !== 0) this.skip(); // needs unshare and the right to use it
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    // `unshare -n` execs sleep in place (same PID) in a new network namespace, the listening socket as its fd 3.
    const holder = spawn('unshare', ['-n', 'sleep', '30'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
    spawned.track(holder.pid!);
    try {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = Date.now() + 5000;
      while (fs.readlinkSync(`/proc/${holder.pid}/ns/net`) === fs.readlinkSync('/proc/self/ns/net') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.notEqual(fs.readlinkSync(`/proc/${holder.pid}/ns/net`), fs.readlinkSync('/proc/self/ns/net'));
      assert.deepEqual(await findProcessesOnPort(port), [holder.pid]);
      forgetLastScan();
      assert.deepEqual(linuxPortPids(port), [holder.pid]);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
