import * as assert from 'assert';
import * as net from 'net';
import * as path from 'path';
import { nodeOs } from '../../../src/os/index';
import type { PortOs } from '../../../src/os/types';
import { ALLOCATIONS_KEY, PortAllocator, cleanupStaleLedgerEntries, type AllocatorOptions } from '../../../src/core/allocator';
import { InvalidInputError, NoFreePortError, PortInUseError, PortReservedError } from '../../../src/core/errors';
import { Ledger } from '../../../src/core/ledger';
import { createMemoryStore, type MemoryStore } from '../../../src/core/memoryStore';
import type { PortRange } from '../../../src/core/types';
import { Children, ManualClock, RecordingLogger, TempDirs, deadPid, outputOf } from './helpers/testUtils';

const WORKER = path.join(__dirname, 'helpers', 'ledgerWorker.js');
const MINUTE = 60_000;

/** The real OS, with a count of the calls made through it (counting is not faking). */
function countingOs(): { os: PortOs; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const os = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(nodeOs)) {
    os[name] = (...args: unknown[]) => {
      calls[name] = (calls[name] ?? 0) + 1;
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
  }
  return { os: os as unknown as PortOs, calls };
}

/** A window of `size` consecutive ports in 41000-41999 that are free right now. */
async function freeWindow(size: number): Promise<PortRange> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const start = 41000 + Math.floor(Math.random() * (1000 - size));
    let free = true;
    for (let p = start; p < start + size && free; p++) free = await nodeOs.isPortAvailable(p);
    if (free) return { start, end: start + size - 1 };
  }
  throw new Error('no free window of ports in 41000-41999');
}

describe('PortAllocator (real OS)', () => {
  const temp = new TempDirs();
  const children = new Children();
  const servers: net.Server[] = [];
  let home: string;
  let logger: RecordingLogger;
  let clock: ManualClock;
  let ledger: Ledger;
  let store: MemoryStore;
  let range: PortRange;

  beforeEach(async () => {
    home = temp.make();
    logger = new RecordingLogger();
    clock = new ManualClock();
    ledger = new Ledger({ home, logger, clock, isProcessAlive: nodeOs.isProcessAlive });
    store = createMemoryStore();
    range = await freeWindow(8);
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    await children.killAll();
    temp.removeAll();
  });

  function allocator(over: Partial<AllocatorOptions> = {}): PortAllocator {
    return new PortAllocator({
      store,
      ledger,
      os: nodeOs,
      clock,
      logger,
      range: () => range,
      owner: { pid: process.pid, kind: 'library' },
      gracePeriodMs: () => 500,
      ...over,
    });
  }

  function listen(port: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const server = net.createServer();
      servers.push(server);
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  }

  /** A real child process listening on `port`; resolves once it listens. */
  async function childListening(port: number): Promise<{ pid: number; exited: Promise<unknown> }> {
    const script = `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('ready')); setInterval(() => {}, 1000); // dev-ports-fixture-server`;
    const child = children.spawn(process.execPath, ['-e', script]);
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`fixture server exited with ${code}`)));
    });
    return { pid: child.pid!, exited };
  }

  describe('allocate', () => {
    it('hands out the first free port of the range and records it in the store and the ledger', async () => {
      const a = await allocator().allocate('/p/web');
      assert.deepStrictEqual(a, { projectId: '/p/web', port: range.start, allocatedAt: clock.now() });
      assert.deepStrictEqual(store.get(ALLOCATIONS_KEY), [a]);
      assert.deepStrictEqual(ledger.get(range.start), { ...a, owner: { pid: process.pid, kind: 'library' } });
      assert.ok(logger.lines.some((l) => l.includes(`[allocator] Allocated port ${range.start} to /p/web`)));
    });

    it('returns the same port for the same project', async () => {
      const alloc = allocator();
      const first = await alloc.allocate('/p/web');
      clock.advance(MINUTE);
      assert.deepStrictEqual(await alloc.allocate('/p/web'), first);
    });

    it('returns the same port to another allocator (another window) through the ledger', async () => {
      const first = await allocator().allocate('/p/web');
      const other = allocator({ store: createMemoryStore() });
      assert.strictEqual((await other.allocate('/p/web')).port, first.port);
    });

    it('never hands out a port another project holds in the ledger', async () => {
      ledger.tryClaim({ projectId: 'cli-project', port: range.start, allocatedAt: clock.now() });
      const a = await allocator().allocate('/p/web');
      assert.notStrictEqual(a.port, range.start);
      assert.strictEqual(ledger.get(range.start)?.projectId, 'cli-project');
    });

    it('gives different projects different ports', async () => {
      const alloc = allocator();
      const ports = [];
      for (const id of ['/p/a', '/p/b', '/p/c']) ports.push((await alloc.allocate(id)).port);
      assert.strictEqual(new Set(ports).size, 3);
    });

    it('skips a port that is in use at the OS level', async () => {
      await listen(range.start);
      const a = await allocator().allocate('/p/web');
      assert.notStrictEqual(a.port, range.start);
      assert.strictEqual(await nodeOs.isPortAvailable(a.port), true);
    });

    it('throws NoFreePortError when every port of the range is busy or reserved', async () => {
      range = { start: range.start, end: range.start + 1 };
      await listen(range.start);
      ledger.tryClaim({ projectId: 'cli-project', port: range.start + 1, allocatedAt: clock.now() });
      await assert.rejects(allocator().allocate('/p/web'), NoFreePortError);
    });

    it('gives the preferred port when it is free', async () => {
      const a = await allocator().allocate('/p/web', { preferredPort: range.start + 3 });
      assert.strictEqual(a.port, range.start + 3);
    });

    it('refuses a preferred port reserved by another project, naming it', async () => {
      ledger.tryClaim({ projectId: '/p/api', port: range.start, allocatedAt: clock.now() });
      await assert.rejects(allocator().allocate('/p/web', { preferredPort: range.start }), (e: unknown) => {
        assert.ok(e instanceof PortReservedError);
        assert.strictEqual(e.projectId, '/p/api');
        assert.match(e.message, new RegExp(`Port ${range.start} is reserved for /p/api since `));
        return true;
      });
    });

    it('takes over a preferred port whose reservation is orphaned once the OS says it is free', async () => {
      const gone = await deadPid();
      ledger.tryClaim({ projectId: '/p/crashed', port: range.start, allocatedAt: clock.now(), owner: { pid: gone, kind: 'vscode' } });
      const a = await allocator().allocate('/p/web', { preferredPort: range.start });
      assert.strictEqual(a.port, range.start);
      assert.strictEqual(ledger.get(range.start)?.projectId, '/p/web');
    });

    it('throws PortInUseError naming the PID and command of the process holding the preferred port', async () => {
      const holder = await childListening(range.start);
      await assert.rejects(allocator().allocate('/p/web', { preferredPort: range.start }), (e: unknown) => {
        assert.ok(e instanceof PortInUseError, String(e));
        assert.ok(e.holders.some((h) => h.pid === holder.pid && h.command.includes('dev-ports-fixture-server')));
        assert.match(e.message, new RegExp(`^Port ${range.start} is in use by node \\(PID ${holder.pid}: `));
        assert.match(e.message, new RegExp(`Free it with "dev-ports free ${range.start}" or use port \\d+\\.$`));
        assert.ok(e.suggestedPort !== undefined && e.suggestedPort !== range.start);
        return true;
      });
      assert.strictEqual(ledger.get(range.start), undefined);
    });

    it('kills the holder of the preferred port and claims it with forceKillIfOccupied', async () => {
      const holder = await childListening(range.start);
      const a = await allocator().allocate('/p/web', { preferredPort: range.start, forceKillIfOccupied: true });
      assert.strictEqual(a.port, range.start);
      await holder.exited;
      assert.strictEqual(nodeOs.isProcessAlive(holder.pid), false);
      assert.strictEqual(ledger.get(range.start)?.projectId, '/p/web');
    });

    it('moves an existing allocation to a new preferred port and releases the old one', async () => {
      const alloc = allocator();
      const first = await alloc.allocate('/p/web');
      const moved = await alloc.allocate('/p/web', { preferredPort: range.end });
      assert.strictEqual(moved.port, range.end);
      assert.strictEqual(ledger.get(first.port), undefined);
      assert.deepStrictEqual(alloc.getAllocations(), [moved]);
    });

    it('rejects bad input before doing anything', async () => {
      const alloc = allocator();
      await assert.rejects(alloc.allocate(''), InvalidInputError);
      await assert.rejects(alloc.allocate('/p/web', { preferredPort: 0 }), /The preferred port must be an integer from 1 to 65535, got 0/);
      await assert.rejects(alloc.allocate('/p/web', { range: { start: 5000, end: 4000 } }), /inverted/);
      await assert.rejects(alloc.cleanupStalePortAllocations({ olderThanMs: -1 }), InvalidInputError);
      assert.deepStrictEqual(ledger.entries(), []);
    });

    it('fires onDidChange after an allocation and a release', async () => {
      const alloc = allocator();
      let fired = 0;
      const sub = alloc.onDidChange(() => fired++);
      await alloc.allocate('/p/web');
      await alloc.releasePortForProject('/p/web');
      sub.dispose();
      await alloc.allocate('/p/api');
      assert.strictEqual(fired, 2);
    });

    it('gives one port per project when 4 processes allocate at once through the real OS', async () => {
      range = await freeWindow(40);
      const startAt = Date.now() + 1500;
      const shared = ['/x/web', '/x/api'];
      const outputs = await Promise.all(
        [0, 1, 2, 3].map((w) =>
          outputOf(
            children.spawn(process.execPath, [WORKER, home, 'allocator', String(startAt), String(range.start), String(range.end), [...shared, `/x/own${w}`].join(',')]),
          ),
        ),
      );
      const results = outputs.flatMap((o) => JSON.parse(o.trim()) as { projectId: string; port: number }[]);
      const portOf = new Map<string, Set<number>>();
      for (const r of results) portOf.set(r.projectId, (portOf.get(r.projectId) ?? new Set()).add(r.port));
      for (const [id, ports] of portOf) assert.strictEqual(ports.size, 1, `${id} got ${[...ports].join(', ')}`);
      const distinct = [...portOf.values()].map((s) => [...s][0]);
      assert.strictEqual(new Set(distinct).size, distinct.length);
    });
  });

  describe('claim first, then ask the OS', () => {
    /** The real OS; each isPortAvailable records the port and who held it in the ledger at that moment. */
    function probingOs(onProbe?: (port: number) => void): { os: PortOs; probes: { port: number; heldBy?: string }[] } {
      const probes: { port: number; heldBy?: string }[] = [];
      const os: PortOs = {
        ...nodeOs,
        isPortAvailable: (port: number) => {
          probes.push({ port, heldBy: ledger.get(port)?.projectId });
          onProbe?.(port);
          return nodeOs.isPortAvailable(port);
        },
      };
      return { os, probes };
    }

    it('claims a port before checking it at the OS, and releases the claim of a port the OS says is busy', async () => {
      await listen(range.start);
      const { os, probes } = probingOs();
      const a = await allocator({ os }).allocate('/p/web');
      assert.strictEqual(a.port, range.start + 1);
      // Every probe ran on a port this project had claimed already: nobody else could be probing it.
      assert.deepStrictEqual(probes, [
        { port: range.start, heldBy: '/p/web' },
        { port: range.start + 1, heldBy: '/p/web' },
      ]);
      assert.strictEqual(ledger.get(range.start), undefined);
      assert.ok(!ledger.heldPorts().has(range.start));
      assert.strictEqual(ledger.findByProject('/p/web')?.port, range.start + 1);
    });

    it('goes on after a busy port, never back to the start of the range', async () => {
      ledger.tryClaim({ projectId: '/p/other', port: range.start, allocatedAt: clock.now() });
      await listen(range.start + 1);
      // While the busy port is checked, the other project gives its port back: the scan does not return to it.
      const { os, probes } = probingOs((port) => {
        if (port === range.start + 1) ledger.release(range.start, '/p/other');
      });
      const a = await allocator({ os }).allocate('/p/web');
      assert.strictEqual(a.port, range.start + 2);
      assert.deepStrictEqual(
        probes.map((p) => p.port),
        [range.start + 1, range.start + 2],
      );
    });

    it('never probes a port another project holds in the ledger', async () => {
      ledger.tryClaim({ projectId: '/p/other', port: range.start, allocatedAt: clock.now() });
      const { os, probes } = probingOs();
      assert.strictEqual((await allocator({ os }).allocate('/p/web')).port, range.start + 1);
      assert.deepStrictEqual(probes, [{ port: range.start + 1, heldBy: '/p/web' }]);
    });

    it('6 processes reserving at once never share a port, skip ports the OS holds and leave no claim on them', async function () {
      this.timeout(60_000);
      range = await freeWindow(60);
      const busy = [range.start, range.start + 3, range.start + 10];
      for (const port of busy) await listen(port);
      const startAt = Date.now() + 1500;
      const outputs = await Promise.all(
        [0, 1, 2, 3, 4, 5].map((w) =>
          outputOf(
            children.spawn(process.execPath, [
              WORKER,
              home,
              'allocator',
              String(startAt),
              String(range.start),
              String(range.end),
              [0, 1, 2, 3, 4, 5].map((k) => `/x/w${w}/p${k}`).join(','),
            ]),
          ),
        ),
      );
      const ports = outputs.flatMap((o) => (JSON.parse(o.trim()) as { projectId: string; port: number }[]).map((r) => r.port));
      assert.strictEqual(ports.length, 36);
      assert.strictEqual(new Set(ports).size, 36, `a port was handed out twice: ${ports.join(', ')}`);
      for (const port of busy) assert.ok(!ports.includes(port), `port ${port}, held at the OS, was handed out`);
      // What the ledger holds is exactly what was handed out: no claim was left on a busy port.
      assert.deepStrictEqual([...ledger.heldPorts()].sort(), [...ports].sort());
    });
  });

  describe('release', () => {
    it('releases a project in the store and the ledger', async () => {
      const alloc = allocator();
      const a = await alloc.allocate('/p/web');
      assert.strictEqual(await alloc.releasePortForProject('/p/web'), true);
      assert.deepStrictEqual(alloc.getAllocations(), []);
      assert.strictEqual(ledger.get(a.port), undefined);
      assert.strictEqual(await alloc.releasePortForProject('/p/web'), false);
    });

    it('releases a ledger-only reservation of the project (e.g. made by the CLI)', async () => {
      ledger.tryClaim({ projectId: 'web', port: range.start, allocatedAt: clock.now() });
      assert.strictEqual(await allocator().releasePortForProject('web'), true);
      assert.strictEqual(ledger.get(range.start), undefined);
    });

    it('releases all allocations of its store and leaves other reservations alone', async () => {
      const alloc = allocator();
      await alloc.allocate('/p/a');
      await alloc.allocate('/p/b');
      ledger.tryClaim({ projectId: 'cli-project', port: range.end, allocatedAt: clock.now() });
      assert.strictEqual(await alloc.releaseAllPortAllocations(), 2);
      assert.deepStrictEqual(alloc.getAllocations(), []);
      assert.deepStrictEqual(ledger.entries().map((e) => e.projectId), ['cli-project']);
    });

    it("releases the CLI's reservations of the given projects too, counts them, and leaves a live window's alone", async () => {
      const alloc = allocator();
      await alloc.allocate('/p/a');
      ledger.tryClaim({ projectId: '/p/cli', port: range.start + 3, allocatedAt: clock.now() });
      ledger.tryClaim({ projectId: '/p/window', port: range.start + 4, allocatedAt: clock.now(), owner: { pid: process.ppid, kind: 'vscode' } });
      ledger.tryClaim({ projectId: '/p/elsewhere', port: range.start + 5, allocatedAt: clock.now() });
      assert.strictEqual(await alloc.releaseAllPortAllocations({ projectIds: ['/p/a', '/p/cli', '/p/window'] }), 2);
      assert.deepStrictEqual(ledger.entries().map((e) => e.projectId).sort(), ['/p/elsewhere', '/p/window']);
    });

    it("reuses the project's CLI reservation instead of dropping it", async () => {
      ledger.tryClaim({ projectId: '/p/web', port: range.start + 2, allocatedAt: clock.now() });
      const a = await allocator().allocate('/p/web');
      assert.strictEqual(a.port, range.start + 2);
      assert.deepStrictEqual(ledger.entries().map((e) => [e.projectId, e.port]), [['/p/web', range.start + 2]]);
    });
  });

  describe('stale sweep', () => {
    it('releases old allocations whose port is free, keeps old listening ones and young ones', async () => {
      const alloc = allocator();
      const oldFree = await alloc.allocate('/p/old-free');
      const oldListening = await alloc.allocate('/p/old-listening');
      await listen(oldListening.port);
      clock.advance(10 * MINUTE);
      const young = await alloc.allocate('/p/young');
      const released = await alloc.cleanupStalePortAllocations({ olderThanMs: 5 * MINUTE });
      assert.deepStrictEqual(released, [oldFree]);
      assert.deepStrictEqual(alloc.getAllocations().map((a) => a.projectId), ['/p/old-listening', '/p/young']);
      assert.strictEqual(ledger.get(oldFree.port), undefined);
      assert.strictEqual(ledger.get(young.port)?.projectId, '/p/young');
      assert.ok(logger.lines.some((l) => l.includes('[allocator] Stale sweep: 1 of 3')));
    });

    it('keeps an old allocation whose dev server PID is still alive', async () => {
      const alloc = allocator();
      await alloc.allocate('/p/web', { pid: process.pid });
      clock.advance(10 * MINUTE);
      assert.deepStrictEqual(await alloc.cleanupStalePortAllocations({ olderThanMs: 5 * MINUTE }), []);
    });

    it('uses the injected stale age when none is given', async () => {
      const alloc = allocator({ staleAfterMs: () => 2 * MINUTE });
      await alloc.allocate('/p/web');
      clock.advance(MINUTE);
      assert.strictEqual((await alloc.cleanupStalePortAllocations()).length, 0);
      clock.advance(2 * MINUTE);
      assert.strictEqual((await alloc.cleanupStalePortAllocations()).length, 1);
    });

    it('takes one snapshot of the listening ports per sweep, not one check per port', async () => {
      const { os, calls } = countingOs();
      const alloc = allocator({ os });
      for (const id of ['/p/a', '/p/b', '/p/c', '/p/d']) await alloc.allocate(id);
      clock.advance(10 * MINUTE);
      for (const key of Object.keys(calls)) delete calls[key];
      await alloc.cleanupStalePortAllocations({ olderThanMs: 5 * MINUTE });
      assert.deepStrictEqual(calls, { listeningPorts: 1 });
    });

    it('cleans stale entries of the whole ledger the same way', async () => {
      const t0 = Date.now();
      const busy = range.start + 1;
      await listen(busy);
      ledger.tryClaim({ projectId: 'old-free', port: range.start, allocatedAt: t0 - 10 * MINUTE });
      ledger.tryClaim({ projectId: 'old-busy', port: busy, allocatedAt: t0 - 10 * MINUTE });
      ledger.tryClaim({ projectId: 'young', port: range.start + 2, allocatedAt: t0 });
      const released = await cleanupStaleLedgerEntries(ledger, nodeOs, { olderThanMs: 5 * MINUTE, now: t0 });
      assert.deepStrictEqual(released.map((a) => a.projectId), ['old-free']);
      assert.deepStrictEqual(ledger.entries().map((e) => e.projectId), ['old-busy', 'young']);
    });
  });

  describe('reconcile', () => {
    it('keeps allocations whose pid lives or whose port is in use, and releases the rest', async () => {
      const gone = await deadPid();
      await listen(range.start + 1);
      await store.update(ALLOCATIONS_KEY, [
        { projectId: '/p/alive', port: range.start, allocatedAt: 1, pid: process.pid },
        { projectId: '/p/listening', port: range.start + 1, allocatedAt: 1 },
        { projectId: '/p/dead', port: range.start + 2, allocatedAt: 1, pid: gone },
      ]);
      ledger.tryClaim({ projectId: '/p/dead', port: range.start + 2, allocatedAt: 1 });
      const { kept, released } = await allocator().reconcile();
      assert.deepStrictEqual(kept.map((a) => a.projectId), ['/p/alive', '/p/listening']);
      assert.deepStrictEqual(released.map((a) => a.projectId), ['/p/dead']);
      assert.deepStrictEqual(ledger.entries().map((e) => e.projectId), ['/p/alive', '/p/listening']);
      assert.deepStrictEqual(store.get<unknown[]>(ALLOCATIONS_KEY)?.length, 2);
    });
  });

  describe('pid and moves', () => {
    it('records the dev server pid in the store and the ledger', async () => {
      const alloc = allocator();
      const a = await alloc.allocate('/p/web');
      await alloc.setPid('/p/web', 4242);
      assert.strictEqual(alloc.getAllocation('/p/web')?.pid, 4242);
      assert.strictEqual(ledger.get(a.port)?.pid, 4242);
    });

    it('moves an allocation to the port a framework switched to', async () => {
      const alloc = allocator();
      const a = await alloc.allocate('/p/web');
      const moved = await alloc.movePort('/p/web', range.end);
      assert.strictEqual(moved.port, range.end);
      assert.strictEqual(ledger.get(a.port), undefined);
      assert.strictEqual(ledger.get(range.end)?.projectId, '/p/web');
    });

    it('refuses to move onto a port another project holds', async () => {
      const alloc = allocator();
      await alloc.allocate('/p/web');
      ledger.tryClaim({ projectId: '/p/api', port: range.end, allocatedAt: clock.now() });
      await assert.rejects(alloc.movePort('/p/web', range.end), PortReservedError);
    });
  });

  describe('corrupted store', () => {
    it('starts from nothing when the stored value is not a list, and says so', async () => {
      store.values.set(ALLOCATIONS_KEY, 'garbage');
      const alloc = allocator();
      assert.deepStrictEqual(alloc.getAllocations(), []);
      assert.ok(logger.warnings().some((w) => w.includes('[allocator] the stored allocations are not a list')));
      assert.strictEqual((await alloc.allocate('/p/web')).port, range.start);
    });

    it('keeps the valid entries of a list with broken ones', async () => {
      store.values.set(ALLOCATIONS_KEY, [
        { projectId: '/p/ok', port: range.start, allocatedAt: 5 },
        { projectId: '/p/bad', port: 'x', allocatedAt: 5 },
        42,
        null,
        { projectId: '/p/ok', port: range.end, allocatedAt: 5 },
      ]);
      const alloc = allocator();
      assert.deepStrictEqual(alloc.getAllocations(), [{ projectId: '/p/ok', port: range.start, allocatedAt: 5 }]);
      assert.strictEqual(logger.warnings().length, 4);
    });
  });
});
