import * as assert from 'assert';
import { PortAllocator } from '../../../src/core/allocator';
import { Ledger } from '../../../src/core/ledger';
import { createMemoryStore } from '../../../src/core/memoryStore';
import { medianOf, meteredOs, MetricsRecorder } from '../../../src/core/metrics';
import { nodeOs } from '../../../src/os/index';
import { Children, ManualClock, RecordingLogger, TempDirs } from './helpers/testUtils';

describe('MetricsRecorder', () => {
  it('starts with every count at 0 and no median time-to-free', () => {
    assert.deepStrictEqual(new MetricsRecorder().snapshot(), { allocations: 0, releases: 0, conflicts: 0, kills: 0, sweeps: 0, drifts: 0 });
  });

  it('counts each kind under its contract field', () => {
    const m = new MetricsRecorder();
    m.count('allocation');
    m.count('allocation');
    m.count('release', 3);
    m.count('conflict');
    m.count('kill');
    m.count('sweep');
    m.count('drift', 2);
    assert.deepStrictEqual(m.snapshot(), { allocations: 2, releases: 3, conflicts: 1, kills: 1, sweeps: 1, drifts: 2 });
  });

  it('reports the median of the times-to-free', () => {
    const m = new MetricsRecorder();
    for (const ms of [40, 10, 30]) m.timeToFree(ms);
    assert.strictEqual(m.snapshot().medianTimeToFreeMs, 30);
    m.timeToFree(20);
    assert.strictEqual(m.snapshot().medianTimeToFreeMs, 25);
  });

  it('rejects an unknown kind, a negative or fractional count and a negative time', () => {
    const m = new MetricsRecorder();
    assert.throws(() => m.count('bogus' as never), RangeError);
    assert.throws(() => m.count('kill', -1), RangeError);
    assert.throws(() => m.count('kill', 1.5), RangeError);
    assert.throws(() => m.timeToFree(-3), RangeError);
    assert.throws(() => m.timeToFree(Number.NaN), RangeError);
    assert.strictEqual(m.snapshot().kills, 0);
  });

  it('tells listeners of each change, and a throwing listener does not break counting', () => {
    const m = new MetricsRecorder();
    let calls = 0;
    m.onDidChange(() => {
      throw new Error('view broke');
    });
    const sub = m.onDidChange(() => calls++);
    m.count('sweep');
    m.timeToFree(5);
    sub.dispose();
    m.count('sweep');
    assert.strictEqual(calls, 2);
    assert.strictEqual(m.snapshot().sweeps, 2);
  });

  it('gives a snapshot that later counts do not change', () => {
    const m = new MetricsRecorder();
    const before = m.snapshot();
    m.count('allocation');
    assert.strictEqual(before.allocations, 0);
  });
});

describe('medianOf', () => {
  it('is undefined for no values and rounds to whole milliseconds', () => {
    assert.strictEqual(medianOf([]), undefined);
    assert.strictEqual(medianOf([1, 2]), 2);
    assert.strictEqual(medianOf([7]), 7);
  });
});

describe('meteredOs and the allocator (real OS)', () => {
  const children = new Children();
  const temp = new TempDirs();
  afterEach(async () => {
    await children.killAll();
    temp.removeAll();
  });

  async function childListening(): Promise<{ pid: number; port: number }> {
    const script = `const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port)); setInterval(() => {}, 1000); // dev-ports-fixture-server`;
    const child = children.spawn(process.execPath, ['-e', script]);
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
      child.once('exit', (code) => reject(new Error(`fixture server exited with ${code}`)));
    });
    return { pid: child.pid!, port };
  }

  it('counts a kill and a time-to-free when a held port is freed', async () => {
    const metrics = new MetricsRecorder();
    const os = meteredOs(nodeOs, metrics);
    const { pid, port } = await childListening();
    const result = await os.killProcessesOnPort(port, { gracePeriodMs: 1000 });
    assert.ok(result.killedPids.includes(pid));
    assert.strictEqual(result.free, true);
    const snap = metrics.snapshot();
    assert.strictEqual(snap.kills, 1);
    assert.ok(snap.medianTimeToFreeMs !== undefined && snap.medianTimeToFreeMs >= 0, JSON.stringify(snap));
  });

  it('times a stop by process tree from the kill until the wait sees the port free', async () => {
    const metrics = new MetricsRecorder();
    const os = meteredOs(nodeOs, metrics);
    const { pid, port } = await childListening();
    const killed = await os.killProcessTree(pid, { gracePeriodMs: 1000 });
    assert.deepStrictEqual(killed, [pid]);
    assert.strictEqual(await os.waitForPortAvailable(port, { timeoutMs: 3000 }), true);
    const snap = metrics.snapshot();
    assert.strictEqual(snap.kills, 1);
    assert.ok(snap.medianTimeToFreeMs !== undefined, JSON.stringify(snap));
    // A later wait with no kill before it is no sample.
    await os.waitForPortAvailable(port, { timeoutMs: 100 });
    metrics.timeToFree(1_000_000);
    // The snapshot rounds the median; the first sample was rounded once already, so the mean of the two is known
    // to within one millisecond.
    const median = metrics.snapshot().medianTimeToFreeMs!;
    assert.ok(Math.abs(median - (snap.medianTimeToFreeMs! + 1_000_000) / 2) <= 1, `${median} vs ${snap.medianTimeToFreeMs}`);
  });

  it('counts nothing when freeing a port nobody holds', async () => {
    const metrics = new MetricsRecorder();
    const { port } = await childListening();
    await children.killAll();
    await nodeOs.waitForPortAvailable(port, { timeoutMs: 3000 });
    await meteredOs(nodeOs, metrics).killProcessesOnPort(port, { gracePeriodMs: 200 });
    assert.deepStrictEqual(metrics.snapshot(), { allocations: 0, releases: 0, conflicts: 0, kills: 0, sweeps: 0, drifts: 0 });
  });

  it('has the allocator count allocations, releases, conflicts, drifts and sweeps', async () => {
    const metrics = new MetricsRecorder();
    const logger = new RecordingLogger();
    const clock = new ManualClock();
    const ledger = new Ledger({ home: temp.make(), logger, clock, isProcessAlive: nodeOs.isProcessAlive });
    const held = await childListening();
    const allocator = new PortAllocator({ store: createMemoryStore(), ledger, os: nodeOs, clock, logger, metrics, range: () => ({ start: 41500, end: 41999 }) });
    const a = await allocator.allocate('/m/web');
    await allocator.allocate('/m/web'); // the same allocation again: no new event
    await assert.rejects(allocator.allocate('/m/api', { preferredPort: held.port }));
    await allocator.movePort('/m/web', a.port + 1);
    await allocator.allocate('/m/docs');
    await allocator.releasePortForProject('/m/web');
    await allocator.releasePortForProject('/m/web'); // nothing left: no event
    clock.advance(10 * 60_000);
    const swept = await allocator.cleanupStalePortAllocations({ olderThanMs: 60_000 });
    assert.strictEqual(swept.length, 1);
    assert.deepStrictEqual(metrics.snapshot(), { allocations: 2, releases: 2, conflicts: 1, kills: 0, sweeps: 1, drifts: 1 });
  });
});
