#!/usr/bin/env node
// `npm run bench`: measures Dev Ports' bundled core next to the tools people use today, in one run, on this machine,
// with real sockets and real processes, and writes bench/RESULTS.md.
//
//   node bench/run.mjs              all rows, writes bench/RESULTS.md
//   node bench/run.mjs --only 1,3   some rows, writes .bench-tmp/RESULTS.partial.md instead
//
// The whole run happens in a private network namespace (`unshare -n`, loopback up): our isPortAvailable and several
// peers bind the wildcard addresses (0.0.0.0, ::), which must not touch the machine's real network.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCore, buildInternal, ROOT, TMP } from './lib/build.mjs';
import { preloadPeers } from './lib/peers.mjs';
import { ProcessRegistry } from './lib/procs.mjs';
import { machine, Report } from './lib/report.mjs';
import { nowMs } from './lib/stats.mjs';
import { runExtension } from './rows/extension.mjs';
import { runFreePort } from './rows/freePort.mjs';
import { runHostStalls } from './rows/hostStalls.mjs';
import { runPortFree } from './rows/portFree.mjs';
import { runReservations } from './rows/reservations.mjs';
import { runStaleSweep } from './rows/staleSweep.mjs';
import { runWhoListens } from './rows/whoListens.mjs';

const SELF = fileURLToPath(import.meta.url);
const NETNS_FLAG = 'DEV_PORTS_BENCH_NETNS';
/** The brief's bound is 5 minutes on 2 cores; past this the run stops, cleans up and says so. */
const HARD_LIMIT_MS = 295_000;

if (process.platform !== 'linux') {
  process.stderr.write('bench: the benchmark compares Linux tools (lsof, ss, fuser, /proc); run it on Linux.\n');
  process.exit(2);
}

if (process.env[NETNS_FLAG] !== '1') {
  // Outer process: only re-executes itself inside a fresh network namespace and relays signals; it starts nothing else.
  const unshareArgs = process.getuid?.() === 0 ? ['-n'] : ['-r', '-n'];
  const child = spawn('unshare', [...unshareArgs, process.execPath, SELF, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [NETNS_FLAG]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal);
    });
  }
  child.on('error', (error) => {
    process.stderr.write(`bench: could not start \`unshare -n\` (${error.message}); the bench needs a private network namespace.\n`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
} else {
  await main();
}

async function main() {
  const startedAt = new Date();
  // Other work on the machine skews every number; the load is recorded next to the results.
  const loadBefore = os.loadavg();
  const t0 = nowMs();
  const only = parseOnly(process.argv.slice(2));
  const registry = new ProcessRegistry();
  registry.installCleanupHandlers();
  const watchdog = setTimeout(() => {
    const n = registry.killAll();
    process.stderr.write(`\nbench: stopped after ${HARD_LIMIT_MS / 1000} s (the 5-minute budget); killed ${n} process(es)/group(s) the bench started.\n`);
    process.exit(1);
  }, HARD_LIMIT_MS);
  watchdog.unref();

  const lo = spawnSync('ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (lo.status !== 0) throw new Error(`could not bring lo up in the bench's network namespace: ${lo.stderr || lo.error?.message}`);

  const m = machine();
  process.stdout.write(`Dev Ports bench — ${m.cpu}, ${m.cores} cores, Linux ${m.kernel}, Node ${m.node}, ${m.processes} processes, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}\n`);
  const core = await buildCore();
  process.stdout.write(`built .bench-tmp/core.cjs from src/core/index.ts (${(core.bytes / 1024).toFixed(1)} KB) in ${core.buildMs.toFixed(0)} ms\n`);
  // Only for row 1's profile notes (where the time goes); the measured rows use the bundled core above.
  const procNet = await buildInternal('src/os/procNet.ts', 'procNet').catch(() => undefined);
  await preloadPeers();

  const report = new Report();
  const ctx = { lib: core.lib, corePath: core.path, procNet, registry, report };
  const rows = [
    ['1', 'who listens', runWhoListens, ['findProcessesOnPort']],
    ['2', 'is a port free', runPortFree, ['isPortAvailable']],
    ['3', 'free a port', runFreePort, ['killProcessesOnPort']],
    ['4', 'stale sweep', runStaleSweep, ['PortAllocator', 'Ledger', 'createMemoryStore', 'nodeOs']],
    ['5', 'reservations', runReservations, ['PortAllocator', 'Ledger', 'createMemoryStore', 'nodeOs']],
    ['6', 'extension', runExtension, []],
    ['7', 'extension host stalls', runHostStalls, []],
  ];
  let failures = 0;
  for (const [id, name, run, needs] of rows) {
    if (only && !only.has(id)) continue;
    const missing = needs.filter((n) => core.lib[n] === undefined);
    if (missing.length) {
      const s = report.section(`${id}. ${name}`, ['status']);
      s.add([`not measured: the bundled core does not export ${missing.join(', ')}`]);
      report.goal(id, name, undefined, `core does not export ${missing.join(', ')}`);
      continue;
    }
    const rowStart = nowMs();
    try {
      await run(ctx);
    } catch (error) {
      failures++;
      const s = report.section(`${id}. ${name}: FAILED`, ['error']);
      s.add([String(error?.stack ?? error).split('\n').slice(0, 3).join(' ')]);
      report.goal(id, name, false, `the row failed: ${error?.message ?? error}`);
    } finally {
      // Whatever a row left running (it should have stopped it) goes before the next row measures anything.
      const leftovers = registry.killAll();
      if (leftovers) process.stdout.write(`  (killed ${leftovers} leftover process(es) of row ${id})\n`);
    }
    report.notes(id);
    process.stdout.write(`  row ${id} took ${((nowMs() - rowStart) / 1000).toFixed(1)} s\n`);
  }

  const elapsedMs = nowMs() - t0;
  const markdown = report.toMarkdown({ startedAt, elapsedMs, loadBefore, loadAfter: os.loadavg(), network: 'a private network namespace (`unshare -n`) with only `lo` up: every socket is on 127.0.0.1 / ::1 or a wildcard inside that namespace' });
  const out = only ? join(TMP, 'RESULTS.partial.md') : join(ROOT, 'bench', 'RESULTS.md');
  writeFileSync(out, `${markdown}\n`);
  process.stdout.write(`\n## Goals\n`);
  for (const g of report.goals) process.stdout.write(`${g.met === undefined ? 'not measured' : g.met ? 'met   ' : 'MISSED'}  [${g.row}] ${g.goal}: ${g.detail}\n`);
  process.stdout.write(`\nwrote ${out} (${(elapsedMs / 1000).toFixed(1)} s)\n`);
  registry.killAll();
  clearTimeout(watchdog);
  process.exit(failures ? 1 : 0);
}

/** `--only 1,3` → Set {'1','3'}; undefined when absent. */
function parseOnly(args) {
  const i = args.indexOf('--only');
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (!value || !/^[1-7](,[1-7])*$/.test(value)) {
    process.stderr.write('bench: --only takes row numbers 1-7 separated by commas, e.g. --only 1,3\n');
    process.exit(2);
  }
  return new Set(value.split(','));
}
