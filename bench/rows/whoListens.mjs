// Row 1: who listens on a port, in three layouts (the listener is the newest process, in the middle, or the oldest)
// at ~300 and ~1000 processes (a third of them holding 50 loopback sockets each), cold (one call in a fresh
// process, what the CLI pays) and warm (repeated calls in one process, what the view's poll pays), next to lsof,
// ss and fuser measured in the same run.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildInternal, TMP } from '../lib/build.mjs';
import { countProcesses, Crowd, FIXTURES, stopChild, waitForLine } from '../lib/procs.mjs';
import { pickPort } from '../lib/ports.mjs';
import { whoPeers } from '../lib/peers.mjs';
import { fullFdScanCost, listenSectionCost } from '../lib/profile.mjs';
import { fmtMs, fmtRatio, measure, sleep, summarize } from '../lib/stats.mjs';

const SIZES = [300, 1000];
const SOCKETS_PER_HOLDER = 50;
const COLD_RUNS = 5;
const PEERS = whoPeers.filter((p) => /^(lsof|ss|fuser) /.test(p.name));
const LSOF = 'lsof -ti tcp:P -sTCP:LISTEN';
const SS = 'ss -ltnpH sport = :P';

/** Starts the dev-server fixture on 127.0.0.1:port and resolves to the child once it listens. */
async function startListener(registry, port) {
  const child = registry.spawn(process.execPath, [`${FIXTURES}server.cjs`], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
    label: 'listener',
  });
  await waitForLine(child, /^listening (\d+)$/, 15000, 'listener');
  return child;
}

/**
 * One call of findProcessesOnPort in a fresh node process (the bundled core already loaded, as the CLI has it):
 * the time of the call itself, measured inside that process, and its answer.
 */
function coldCall(corePath, port, home) {
  const script = `const lib = require(${JSON.stringify(corePath)}); const t0 = process.hrtime.bigint();
lib.findProcessesOnPort(${port}).then((pids) => console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6, pids })));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { timeout: 30000, env: { ...process.env, DEV_PORTS_HOME: home } }, (error, stdout) => {
      if (error) return reject(error);
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()));
      } catch (e) {
        reject(new Error(`cold call printed ${JSON.stringify(stdout)}: ${e.message}`));
      }
    });
  });
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/**
 * @param {{ lib: any, corePath: string, registry: import('../lib/procs.mjs').ProcessRegistry, report: import('../lib/report.mjs').Report }} ctx
 */
export async function runWhoListens({ lib, corePath, registry, report }) {
  const section = report.section(
    '1. Who listens on a port',
    ['processes', 'listener', 'tool', 'median ms', 'p95 ms', 'peer/ours cold', 'peer/ours warm', 'same answer'],
    [9, 8, 30, 9, 8, 14, 14, 14],
  );
  const profile = [];
  const coldRemembered = [];
  const stalls = [];
  const homes = join(TMP, 'row1-homes');
  rmSync(homes, { recursive: true, force: true });
  mkdirSync(homes, { recursive: true });
  const osBundle = await buildInternal('bench/rows/whoListensOs.ts', 'whoListensOs');
  const osBundlePath = join(TMP, 'whoListensOs.cjs');
  for (const size of SIZES) {
    const crowd = new Crowd(registry);
    const holders = Math.round(size / 3);
    const listeners = {};
    // Oldest listener, half the crowd, middle listener, the other half, newest listener: PIDs and start times grow
    // in that order, as on a machine where a browser forked renderers before and after the dev server started.
    listeners.oldest = { port: await pickPort() };
    listeners.oldest.child = await startListener(registry, listeners.oldest.port);
    await crowd.addForkedHolders(Math.floor(holders / 2), SOCKETS_PER_HOLDER);
    crowd.addSleeps(Math.max(0, Math.floor(size / 2) - countProcesses()));
    listeners.middle = { port: await pickPort() };
    listeners.middle.child = await startListener(registry, listeners.middle.port);
    await crowd.addForkedHolders(holders - Math.floor(holders / 2), SOCKETS_PER_HOLDER);
    crowd.addSleeps(Math.max(0, size - 1 - countProcesses()));
    listeners.newest = { port: await pickPort() };
    listeners.newest.child = await startListener(registry, listeners.newest.port);
    await sleep(300);
    const processes = countProcesses();

    for (const layout of ['newest', 'middle', 'oldest']) {
      const { port, child } = listeners[layout];
      const expected = [child.pid];
      // Cold, first: each call in a fresh process with an empty state folder (nothing remembered anywhere).
      // Cold, remembered: a fresh process whose state folder holds what an earlier look-up (one untimed call) learned.
      const coldRuns = async (homeOf) => {
        const samples = [];
        let right = true;
        let last = [];
        for (let i = 0; i < COLD_RUNS; i++) {
          const { ms, pids } = await coldCall(corePath, port, homeOf(i));
          samples.push(ms);
          last = pids;
          if (!same(pids, expected)) right = false;
        }
        return { stats: summarize(samples), right, last };
      };
      const first = await coldRuns((i) => mkdtempSync(join(homes, `first-${layout}-${i}-`)));
      const shared = mkdtempSync(join(homes, `shared-${layout}-`));
      await coldCall(corePath, port, shared);
      const remembered = await coldRuns(() => shared);
      const cold = first.stats;
      const coldRight = first.right && remembered.right;
      const coldLast = first.right ? remembered.last : first.last;
      const warm = await measure(() => lib.findProcessesOnPort(port), { warmup: 2, maxIterations: 40, budgetMs: 1500 });
      const warmRight = same(warm.last, expected);
      section.add([processes, layout, 'ours findProcessesOnPort, cold', fmtMs(cold.median), fmtMs(cold.p95), '1×', '', first.right ? `✓ ${expected}` : `✗ got [${first.last}], listener is ${expected}`]);
      section.add([processes, layout, 'ours, cold, holders remembered', fmtMs(remembered.stats.median), fmtMs(remembered.stats.p95), '', '', remembered.right ? `✓ ${expected}` : `✗ got [${remembered.last}], listener is ${expected}`]);
      coldRemembered.push({ size: processes, layout, stats: remembered.stats });
      section.add([processes, layout, 'ours findProcessesOnPort, warm', fmtMs(warm.stats.median), fmtMs(warm.stats.p95), '', '1×', warmRight ? `✓ ${expected}` : `✗ got [${warm.last}]`]);
      const peerStats = {};
      for (const peer of PEERS) {
        let res;
        try {
          res = await measure(() => peer.find(port), { warmup: 1, minIterations: 5, maxIterations: 10, budgetMs: 1500 });
        } catch (error) {
          section.add([processes, layout, peer.name, 'error', '', '', '', `✗ ${error.message.split('\n')[0]}`]);
          continue;
        }
        peerStats[peer.name] = res.stats;
        section.add([
          processes,
          layout,
          peer.name,
          fmtMs(res.stats.median),
          fmtMs(res.stats.p95),
          fmtRatio(res.stats.median, cold.median),
          fmtRatio(res.stats.median, warm.stats.median),
          same(res.last, expected) ? '✓' : `✗ [${res.last}]`,
        ]);
      }
      const right = coldRight && warmRight;
      const goal = (name, want, ours, mode) => {
        const peer = peerStats[name];
        if (!peer) return report.goal('1', `who listens, ~${size} processes, listener ${layout}, ${mode}: ≥${want}× ${name.split(' ')[0]}`, undefined, `${name} could not be measured`);
        const ratio = peer.median / ours.median;
        report.goal(
          '1',
          `who listens, ~${size} processes, listener ${layout}, ${mode}: ≥${want}× faster than ${name.split(' ')[0]}`,
          ratio >= want && right,
          `ours ${fmtMs(ours.median)} ms (p95 ${fmtMs(ours.p95)}) vs ${fmtMs(peer.median)} ms (${fmtRatio(peer.median, ours.median)})${right ? '' : ', but ours answered wrong'}`,
        );
      };
      if (layout !== 'oldest') {
        goal(LSOF, 5, cold, 'cold');
        goal(SS, 2, cold, 'cold');
      } else goal(SS, 1.5, cold, 'cold');
      goal(SS, 20, warm.stats, 'warm');
    }

    const runs = Array.from({ length: 3 }, () => ({ section: listenSectionCost(), fd: fullFdScanCost() }));
    const med = (pick) => summarize(runs.map(pick)).median;
    profile.push(
      `~${size} processes (${processes} in /proc; ${crowd.holders} holding ${SOCKETS_PER_HOLDER} sockets, ${crowd.sleeps} sleeps): reading the LISTEN head of /proc/net/tcp{,6} ${fmtMs(med((r) => r.section.ms))} ms; ` +
        `a full walk of ${runs[0].fd.fds} fds in ${runs[0].fd.processes} /proc/<pid>/fd ${fmtMs(med((r) => r.fd.ms))} ms (what ss -p and lsof pay on every call, and ours in the worst case)`,
    );
    if (osBundle) {
      const probeRuns = [];
      for (let i = 0; i < 3; i++) probeRuns.push(await stallProbe(osBundlePath, mkdtempSync(join(homes, 'stall-'))));
      stalls.push({ processes, runs: probeRuns });
    }
    for (const { child } of Object.values(listeners)) await stopChild(child);
    await crowd.stop();
  }

  section.note(
    'layouts: three node HTTP listeners on 127.0.0.1, started before the crowd (oldest), after half of it (middle) and after all of it (newest); ' +
      'the crowd is a third of the processes holding 50 loopback sockets each (25 connected pairs, forked by one python3 process) and `sleep` processes for the rest; "processes" counts every PID in /proc, the machine\'s own included.',
  );
  section.note(
    `cold: ${COLD_RUNS} fresh node processes, each loads the bundled core and makes one call; the time of that call is measured inside the process (node's own start, which any CLI pays, is not counted; lsof, ss and fuser are timed from execFile to exit, their start included). ` +
      'warm: repeated calls in the bench process, as the view polls; the last scan\'s inode→PID map is checked with one readlink.',
  );
  section.note('"same answer" compares each answer with the listener\'s real PID; every cold call is checked, and the last warm and peer call.');
  section.note(
    'how ours orders the fd scan: one stat of /proc/<pid>/fd per process gives its uid and descriptor count; the 8 newest processes of the socket\'s uid first, then by ascending descriptor count ' +
      '(looking at a process costs one readlink per descriptor, so the cheapest first minimises the expected cost), kernel threads and zombies skipped. ' +
      'Its worst case is a listener that holds more descriptors than every other process of its uid: then it walks nearly everything, like ss -p.',
  );
  for (const line of profile) section.note(`profile: ${line}`);
  section.note(
    '"cold, holders remembered": a fresh process whose state folder (DEV_PORTS_HOME) holds the inode→PID map an earlier look-up wrote (one untimed call first); each remembered entry is confirmed by one readlink of /proc/<pid>/fd/<fd> before it is used. The goals are judged on the plain cold row, where each call has an empty state folder. ' +
      coldRemembered.map((c) => `${c.size}/${c.layout} ${fmtMs(c.stats.median)} ms`).join(', ') + '.',
  );
  rmSync(homes, { recursive: true, force: true });
  if (stalls.length === 0) return;
  const stall = report.section(
    '1b. Who listens: the longest synchronous stretch of one call (event loop held), and its CPU',
    ['processes', 'call', 'max stretch ms (3 runs)', 'wall ms', 'CPU ms', 'same answer'],
    [9, 44, 22, 9, 8, 11],
  );
  const fmt3 = (runs, pick) => runs.map((r) => fmtMs(pick(r))).join(' / ');
  const med3 = (runs, pick) => fmtMs(summarize(runs.map(pick)).median);
  for (const { processes, runs } of stalls) {
    const same = runs.every((r) => r.same) ? `✓ ${runs[0].listeners} listeners` : '✗ sync and async differ';
    const rows = [
      ['syncCold', 'before: linuxListeners() sync, nothing remembered'],
      ['asyncCold', 'listListeners() sliced, nothing remembered'],
      ['syncWarm', 'before: linuxListeners() sync, warm (10 polls)'],
      ['asyncWarm', 'listListeners() sliced, warm (10 polls)'],
      ['tableSync', 'before: full /proc table read in one go'],
      ['tableAsync', 'snapshotProcessTable() sliced'],
    ];
    for (const [k, label] of rows) stall.add([processes, label, fmt3(runs, (r) => r[k].maxGapMs), med3(runs, (r) => r[k].wallMs), med3(runs, (r) => r[k].cpuMs), k === 'asyncCold' ? same : '']);
  }
  stall.note(
    'each run is a fresh node process (bench/rows/stallProbe.cjs) with an empty state folder, every listener of the namespace asked for (what the view polls); ' +
      'max stretch is the longest gap between ticks of a 1 ms setInterval during the call (an idle loop shows ~1 ms), wall and CPU are per call (median of the 3 runs). ' +
      '"before" rows run the one-go sync reads the async calls used until this change, in the same process and minute.',
  );
}

/** One run of the stall probe in a fresh process, its JSON answer. */
function stallProbe(bundlePath, home) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [new URL('./stallProbe.cjs', import.meta.url).pathname, bundlePath, '10'], { timeout: 60000, env: { ...process.env, DEV_PORTS_HOME: home } }, (error, stdout) => {
      if (error) return reject(error);
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()));
      } catch (e) {
        reject(new Error(`stall probe printed ${JSON.stringify(stdout)}: ${e.message}`));
      }
    });
  });
}
