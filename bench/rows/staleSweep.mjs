// Row 4: the stale sweep over 10 / 100 / 1000 allocations, a tenth of them really listening, all older than the
// threshold, in an in-memory store plus a fresh machine-wide ledger folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TMP } from '../lib/build.mjs';
import { pickPorts } from '../lib/ports.mjs';
import { FIXTURES, stopChild, waitForLine } from '../lib/procs.mjs';
import { fmtMs, measure } from '../lib/stats.mjs';

const SIZES = [10, 100, 1000];
const HOUR = 3_600_000;

/**
 * @param {{ lib: any, registry: import('../lib/procs.mjs').ProcessRegistry, report: import('../lib/report.mjs').Report }} ctx
 */
export async function runStaleSweep({ lib, registry, report }) {
  const section = report.section('4. Stale sweep: cleanupStalePortAllocations({ olderThanMs: 0 })', [
    'allocations',
    'listening',
    'median ms',
    'p95 ms',
    'ms per allocation',
    'n',
    'released right',
    'goal',
    'goal met?',
  ], [11, 9, 9, 8, 17, 3, 18, 8, 9]);
  const max = Math.max(...SIZES);
  const ports = await pickPorts(max);
  // Every 10th port listens, so each size's first tenth-of-a-slice includes its share of listeners.
  const listeningPorts = ports.filter((_, i) => i % 10 === 0);
  const holder = registry.spawn(process.execPath, [`${FIXTURES}listen-many.cjs`, ...listeningPorts.map(String)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    label: 'listen-many',
  });
  await waitForLine(holder, /^listening \d+$/, 20000, 'listen-many');

  const home = mkdtempSync(join(TMP, 'ledger-sweep-'));
  const previousHome = process.env.DEV_PORTS_HOME;
  process.env.DEV_PORTS_HOME = home;
  const key = lib.ALLOCATIONS_KEY ?? 'devPorts.allocations';
  const perAllocation = {};
  try {
    for (const size of SIZES) {
      const store = lib.createMemoryStore();
      const ledger = new lib.Ledger({ home });
      const allocator = new lib.PortAllocator({ store, ledger, os: lib.nodeOs });
      const slice = ports.slice(0, size);
      const listening = new Set(slice.filter((_, i) => i % 10 === 0));
      const allocatedAt = Date.now() - HOUR;
      const allocations = slice.map((port, i) => ({ projectId: `/bench/sweep/p${i}`, port, allocatedAt }));
      // Not timed: the store and the ledger are put back to the full set before every sweep.
      const populate = async () => {
        for (const a of ledger.entries()) ledger.release(a.port, a.projectId);
        for (const a of allocations) if (!ledger.tryClaim({ ...a })) throw new Error(`ledger refused to claim ${a.port}`);
        await store.update(key, allocations);
      };
      await populate();
      let wrong = '';
      const res = await measure(
        async () => {
          const released = await allocator.cleanupStalePortAllocations({ olderThanMs: 0 });
          // Checked on every run, not just the last: a sweep that releases a listening port is a bug at any size.
          const releasedPorts = new Set(released.map((a) => a.port));
          const keptInStore = allocator.getAllocations().map((a) => a.port);
          const keptInLedger = ledger.entries().map((e) => e.port);
          const bad = slice.filter((p) => releasedPorts.has(p) === listening.has(p));
          if (bad.length || keptInStore.length !== listening.size || keptInLedger.length !== listening.size) {
            wrong ||= `released ${released.length}, kept ${keptInStore.length} in store / ${keptInLedger.length} in ledger, expected ${size - listening.size} released`;
          }
          return released.length;
        },
        { warmup: 1, minIterations: 5, maxIterations: size >= 1000 ? 12 : 30, budgetMs: size >= 1000 ? 5000 : 2000, between: populate },
      );
      perAllocation[size] = res.stats.median / size;
      const goal = size === 1000 ? '≤ 50 ms' : '';
      const met = size === 1000 ? (res.stats.median <= 50 && !wrong ? 'yes' : 'NO') : '';
      section.add([size, listening.size, fmtMs(res.stats.median), fmtMs(res.stats.p95), (res.stats.median / size).toFixed(4), res.stats.n, wrong ? `✗ ${wrong}` : `✓ ${res.last} released`, goal, met]);
      if (size === 1000) report.goal('4', 'stale sweep of 1000 allocations ≤ 50 ms', met === 'yes', `${fmtMs(res.stats.median)} ms median, ${fmtMs(res.stats.p95)} ms p95${wrong ? `; wrong: ${wrong}` : ''}`);
      for (const a of ledger.entries()) ledger.release(a.port, a.projectId);
    }
  } finally {
    if (previousHome === undefined) delete process.env.DEV_PORTS_HOME;
    else process.env.DEV_PORTS_HOME = previousHome;
    rmSync(home, { recursive: true, force: true });
    await stopChild(holder);
  }
  // Fixed costs (one /proc/net snapshot, the lock) dominate small sweeps, so only growth above linear is a failure:
  // the per-allocation cost at 1000 may not exceed 1.25× that at 100.
  const growth = perAllocation[1000] / perAllocation[100];
  const linear = growth <= 1.25;
  section.note(`per-allocation cost 1000 vs 100: ${growth.toFixed(2)}× (≤ 1.25× counts as no worse than linear). Every sweep's answer is checked: the listening tenth kept in store and ledger, the rest released.`);
  section.note('the store is createMemoryStore(), the ledger a fresh folder under .bench-tmp/ (DEV_PORTS_HOME); allocations are an hour old; the listeners are one node process on 127.0.0.1. Re-populating between sweeps is not timed.');
  report.goal('4', 'stale sweep growth no worse than linear', linear, `ms/allocation: ${SIZES.map((s) => `${s}: ${perAllocation[s].toFixed(4)}`).join(', ')}`);
}
