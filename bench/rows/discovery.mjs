// Row: project discovery on a generated tree shaped like the vite repository (300 package.json files: a pnpm
// workspace with packages/*, playground/** two and three levels deep, node_modules that must not be entered).
// Measures discoverProjects (synchronous, the CLI's) and discoverProjectsAsync (the extension host's): total time
// and the longest stretch the event loop was held, from a 1 ms setInterval probe and monitorEventLoopDelay.
//
//   node bench/rows/discovery.mjs      prints the figures (also exported as runDiscovery for bench/run.mjs)
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildCore, TMP } from '../lib/build.mjs';

const PACKAGES = 300;

/** Writes the tree and returns its root. */
export function makeTree(root, count = PACKAGES) {
  rmSync(root, { recursive: true, force: true });
  const write = (rel, data) => {
    mkdirSync(join(root, rel), { recursive: true });
    writeFileSync(join(root, rel, 'package.json'), JSON.stringify(data, null, 2));
  };
  write('', { name: 'monorepo', private: true, scripts: { dev: "pnpm -r --parallel --filter='./packages/*' run dev" } });
  writeFileSync(join(root, 'pnpm-workspace.yaml'), "packages:\n  - 'packages/*'\n  - 'playground/**'\n");
  writeFileSync(join(root, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
  let n = 1;
  for (let i = 0; n < count && i < 20; i++, n++) write(`packages/pkg-${i}`, { name: `pkg-${i}`, scripts: { dev: 'tsdown --watch', build: 'tsdown' } });
  for (let i = 0; n < count; i++) {
    const group = `playground/group-${i % 40}`;
    const rel = i % 3 === 0 ? `${group}/app-${i}` : `${group}/nested-${i % 7}/app-${i}`;
    write(rel, { name: `@test/app-${i}`, scripts: { dev: i % 5 === 0 ? 'node server' : 'vite', build: 'vite build', preview: 'vite preview' }, dependencies: { vite: '*' } });
    n++;
    if (i % 10 === 0) {
      // A node_modules with packages inside: discovery must skip it, so it costs nothing.
      mkdirSync(join(root, rel, 'node_modules', 'dep', 'node_modules'), { recursive: true });
      writeFileSync(join(root, rel, 'node_modules', 'dep', 'package.json'), '{"name":"dep","scripts":{"dev":"x"}}');
    }
  }
  return root;
}

/**
 * Runs fn while a 1 ms interval notes the gaps between its ticks. A gap is a synchronous stretch only as far as the
 * process used the CPU in it: on a shared 2-core machine the whole process is also descheduled now and then, which
 * shows as a long wall-clock gap with little CPU. So each gap counts as min(wall, CPU used by the process).
 */
async function probe(fn) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let longestWall = 0;
  let longest = 0;
  const note = () => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const wall = now - last;
    longestWall = Math.max(longestWall, wall);
    longest = Math.max(longest, Math.min(wall, (cpu.user + cpu.system) / 1000));
    last = now;
    lastCpu = process.cpuUsage();
  };
  const timer = setInterval(note, 1);
  const started = performance.now();
  const result = await fn();
  const totalMs = performance.now() - started;
  note();
  clearInterval(timer);
  histogram.disable();
  return { result, totalMs, longestMs: longest, longestWallMs: longestWall, loopDelayMaxMs: histogram.max / 1e6 };
}

export async function runDiscovery({ lib } = {}) {
  const core = lib ?? (await buildCore()).lib;
  const root = makeTree(join(TMP, 'discovery-tree'));
  const folders = [root];
  // Warm the file-system cache and the JIT once, as a second discovery in a session would be.
  core.discoverProjects(folders);
  await core.discoverProjectsAsync(folders);
  const rows = [];
  for (let run = 0; run < 5; run++) {
    const sync = await probe(async () => core.discoverProjects(folders));
    let inside = 0;
    const asyncRun = await probe(() => core.discoverProjectsAsync(folders, { onStretch: (ms) => (inside = Math.max(inside, ms)) }));
    rows.push({ sync, async: { ...asyncRun, insideMs: inside } });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const max = (xs) => Math.max(...xs);
  const found = rows[0].async.result.length;
  const summary = {
    packageJsons: PACKAGES,
    projects: found,
    sameResult: JSON.stringify(rows[0].sync.result) === JSON.stringify(rows[0].async.result),
    syncTotalMedianMs: median(rows.map((r) => r.sync.totalMs)),
    asyncTotalMedianMs: median(rows.map((r) => r.async.totalMs)),
    asyncLongestStretchMaxMs: max(rows.map((r) => r.async.longestMs)),
    asyncLongestStretchMedianMs: median(rows.map((r) => r.async.longestMs)),
    insideMaxMs: max(rows.map((r) => r.async.insideMs)),
    insideMedianMs: median(rows.map((r) => r.async.insideMs)),
    asyncLongestWallGapMaxMs: max(rows.map((r) => r.async.longestWallMs)),
    syncLongestStretchMedianMs: median(rows.map((r) => r.sync.longestMs)),
    asyncLoopDelayMaxMs: max(rows.map((r) => r.async.loopDelayMaxMs)),
  };
  rmSync(root, { recursive: true, force: true });
  return summary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = await runDiscovery();
  console.log(
    `discovery on ${s.packageJsons} package.json files (${s.projects} projects, same result: ${s.sameResult}): ` +
      `sync ${s.syncTotalMedianMs.toFixed(1)} ms (blocks throughout), async ${s.asyncTotalMedianMs.toFixed(1)} ms total, ` +
      `longest synchronous stretch (CPU-bounded) ${s.asyncLongestStretchMaxMs.toFixed(2)} ms max / ${s.asyncLongestStretchMedianMs.toFixed(2)} ms median of 5 runs ` +
      `(wall-clock gap max ${s.asyncLongestWallGapMaxMs.toFixed(2)} ms, event-loop delay max ${s.asyncLoopDelayMaxMs.toFixed(2)} ms; sync: ${s.syncLongestStretchMedianMs.toFixed(1)} ms)` +
      `; measured between its own awaits: ${s.insideMaxMs.toFixed(2)} ms max / ${s.insideMedianMs.toFixed(2)} ms median; ` +
      `goal ≤ 10 ms: ${s.insideMaxMs <= 10 ? 'met' : 'NOT met'} (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)`,
  );
}
