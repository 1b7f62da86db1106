// The extension host dying while its dev servers run: a child process plays the host (an allocator owned by
// { kind: 'vscode', pid: its own }, a workspaceState kept in a file, servers started as `sh -c` → node), one of
// its servers stops, then the host is SIGKILLed. The next activation (a new allocator over the same store and
// ledger) reconciles: the allocation whose server still listens is kept and re-owned, the one whose server is
// gone is released, and nothing else is touched (another window's and a CLI reservation, the live server).
import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { ALLOCATIONS_KEY, PortAllocator } from '../../../src/core/allocator';
import { Ledger } from '../../../src/core/ledger';
import { killProcessTree, nodeOs } from '../../../src/os/index';
import { Children, TempDirs } from './helpers/testUtils';
const { createFileStore } = require('./helpers/fileStore') as { createFileStore: (file: string) => import('../../../src/core/types').StateStore };

const HOST = path.join(__dirname, 'helpers', 'crashHost.js');
const SERVER = path.join(__dirname, '..', '..', 'fixtures', 'soak', 'dev-server.js');

interface Started {
  projectId: string;
  port: number;
  sh: number;
  node: number;
  helper: number;
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

describe('the extension host SIGKILLed while its dev servers run', () => {
  const temp = new TempDirs();
  const children = new Children();
  afterEach(async () => {
    await children.killAll();
    temp.removeAll();
  });

  it('the next activation keeps the server that still listens, releases the one that is gone, touches nothing else', async function () {
    this.timeout(60_000);
    const dir = temp.make('dev-ports-hostcrash-');
    const home = path.join(dir, 'home');
    const storeFile = path.join(dir, 'workspaceState.json');
    const ledger = new Ledger({ home, isProcessAlive: nodeOs.isProcessAlive });
    const start = 45000 + Math.floor(Math.random() * 900);
    const range = { start, end: start + 19 };
    // Reservations that are not the crashed host's: a CLI one (no owner) and a live other window's (our parent).
    ledger.tryClaim({ projectId: '/other/cli', port: range.end, allocatedAt: Date.now() });
    ledger.tryClaim({ projectId: '/other/window', port: range.end - 1, allocatedAt: Date.now(), owner: { pid: process.ppid, kind: 'vscode' } });
    const others = [range.end, range.end - 1].map((p) => fs.readFileSync(path.join(ledger.portsDir, `${p}.json`), 'utf8'));

    const host = children.spawn(process.execPath, [HOST, home, storeFile, String(range.start), String(range.end), SERVER, '/host/alive,/host/gone']);
    let started: Started[] = [];
    try {
      started = await new Promise<Started[]>((resolve, reject) => {
        let out = '';
        let err = '';
        host.stdout!.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(JSON.parse(out));
        });
        host.stderr!.on('data', (d) => (err += d));
        host.once('exit', (code) => reject(new Error(`the host exited (${code}): ${err}`)));
      });
      const [alive, gone] = started;
      assert.deepStrictEqual(started.map((s) => s.projectId), ['/host/alive', '/host/gone']);
      // The second server stops (its tree, while the host still runs and reaps its shell), then the host dies.
      await killProcessTree(gone.sh, { gracePeriodMs: 1000 });
      const exited = new Promise((resolve) => host.once('exit', resolve));
      process.kill(host.pid!, 'SIGKILL');
      await exited;
      assert.strictEqual(await get(alive.port), `soak ok ${alive.port}\n`, 'the first server outlives its host');
      assert.strictEqual(ledger.get(alive.port)?.owner?.pid, host.pid);
      assert.strictEqual(ledger.isOrphaned(ledger.get(gone.port)!), true, "the gone server's reservation is orphaned");

      const store = createFileStore(storeFile);
      const next = new PortAllocator({ store, ledger, os: nodeOs, range: () => range, owner: { pid: process.pid, kind: 'vscode' } });
      const { kept, released } = await next.reconcile();
      assert.deepStrictEqual(kept.map((a) => [a.projectId, a.port, a.pid]), [['/host/alive', alive.port, alive.sh]]);
      assert.deepStrictEqual(released.map((a) => [a.projectId, a.port]), [['/host/gone', gone.port]]);
      assert.deepStrictEqual(next.getAllocations().map((a) => a.projectId), ['/host/alive']);
      assert.deepStrictEqual((store.get(ALLOCATIONS_KEY) as { projectId: string }[]).map((a) => a.projectId), ['/host/alive'], 'the file store too');
      const keptEntry = ledger.get(alive.port);
      assert.deepStrictEqual([keptEntry?.projectId, keptEntry?.pid, keptEntry?.owner], ['/host/alive', alive.sh, { pid: process.pid, kind: 'vscode' }], 'adopted by the new host');
      assert.strictEqual(ledger.get(gone.port), undefined);
      assert.deepStrictEqual(
        [range.end, range.end - 1].map((p) => fs.readFileSync(path.join(ledger.portsDir, `${p}.json`), 'utf8')),
        others,
        'the CLI and the other window reservations byte for byte',
      );
      assert.strictEqual(await get(alive.port), `soak ok ${alive.port}\n`, 'reconcile stops nothing');
      assert.strictEqual(nodeOs.isProcessAlive(alive.node), true);
      // A second activation finds the same: nothing to release.
      const again = await new PortAllocator({ store, ledger, os: nodeOs, range: () => range, owner: { pid: process.pid, kind: 'vscode' } }).reconcile();
      assert.deepStrictEqual([again.kept.length, again.released.length], [1, 0]);
    } finally {
      for (const s of started) {
        // The tree of each server (the gone one's is empty by now); its members by PID if the tree walk failed.
        const stopped = await killProcessTree(s.sh, { gracePeriodMs: 500 }).then(() => true, () => false);
        if (!stopped) for (const pid of [s.node, s.helper]) kill(pid);
      }
    }
  });
});
