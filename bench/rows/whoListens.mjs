// Row 1: who listens on a port, ours next to lsof, ss, fuser, pid-port and find-process, on a quiet machine and
// with a crowd of ~300 and ~500 processes (200 of them holding 50 loopback sockets each).
import { countProcesses, Crowd, FIXTURES, stopChild, waitForLine } from '../lib/procs.mjs';
import { pickPort } from '../lib/ports.mjs';
import { whoPeers } from '../lib/peers.mjs';
import { fullFdScanCost, listenSectionCost, procNetCost } from '../lib/profile.mjs';
import { fmtMs, fmtRatio, measure, summarize } from '../lib/stats.mjs';

const HOLDERS = 200;
const SOCKETS_PER_HOLDER = 50;

/** Starts the dev-server fixture on 127.0.0.1:port and resolves to its PID once it listens. */
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
 * Where the time goes at this moment: 5 runs of each piece, medians.
 * @param {((text: string) => unknown) | undefined} parse the project's /proc/net parser, when it could be built
 */
function profileNow(label, processes, port, parse) {
  const runs = Array.from({ length: 5 }, () => ({ net: procNetCost(parse), section: listenSectionCost(), fd: fullFdScanCost() }));
  const med = (pick) => summarize(runs.map(pick)).median;
  const { rows } = runs[0].net;
  const { fds, processes: scanned } = runs[0].fd;
  const seen = runs.every((r) => r.section.ports.has(port));
  return (
    `${label}, ${processes} processes: /proc/net/tcp{,6} has ${rows} rows; reading them takes ${fmtMs(med((r) => r.net.readMs))} ms` +
    (parse ? `, parsing them with src/os/procNet.ts parseProcNetTcp ${fmtMs(med((r) => r.net.parseMs))} ms` : '') +
    `; reading only the LISTEN section at the top ${fmtMs(med((r) => r.section.ms))} ms (listener ${seen ? 'found there' : 'NOT found there'}); ` +
    `a full walk of ${fds} fds in ${scanned} /proc/<pid>/fd ${fmtMs(med((r) => r.fd.ms))} ms`
  );
}

/**
 * @param {{ lib: any, procNet?: any, registry: import('../lib/procs.mjs').ProcessRegistry, report: import('../lib/report.mjs').Report }} ctx
 */
export async function runWhoListens({ lib, procNet, registry, report }) {
  const section = report.section('1. Who listens on a port', [
    'processes',
    'listener',
    'tool',
    'median ms',
    'p95 ms',
    'peer/ours',
    'same answer',
    'goal',
    'goal met?',
  ], [9, 23, 29, 9, 8, 9, 14, 18, 9]);
  const profile = [];
  const crowd = new Crowd(registry);
  const oldestPort = await pickPort();
  const oldest = await startListener(registry, oldestPort);

  async function scenario(label, listenerChild, port, goals = {}) {
    const processes = countProcesses();
    const expected = [listenerChild.pid];
    const ours = await measure(() => lib.findProcessesOnPort(port), { warmup: 2, maxIterations: 30, budgetMs: 2000 });
    const oursPids = [...ours.last].sort((a, b) => a - b);
    const oursRight = JSON.stringify(oursPids) === JSON.stringify(expected);
    section.add([processes, label, 'ours findProcessesOnPort', fmtMs(ours.stats.median), fmtMs(ours.stats.p95), '1×', oursRight ? `✓ ${oursPids}` : `✗ got [${oursPids}], listener is ${expected}`, '', '']);
    const results = { processes, ours: ours.stats, peers: {} };
    for (const peer of whoPeers) {
      let res;
      try {
        res = await measure(() => peer.find(port), { warmup: 1, maxIterations: 15, budgetMs: 2000 });
      } catch (error) {
        section.add([processes, label, peer.name, 'error', '', '', `✗ ${error.message.split('\n')[0]}`, '', '']);
        continue;
      }
      const same = JSON.stringify(res.last) === JSON.stringify(oursPids);
      const goal = goals[peer.name];
      const ratio = res.stats.median / ours.stats.median;
      const met = goal === undefined ? '' : ratio >= goal && oursRight ? 'yes' : 'NO';
      section.add([
        processes,
        label,
        peer.name,
        fmtMs(res.stats.median),
        fmtMs(res.stats.p95),
        fmtRatio(res.stats.median, ours.stats.median),
        same ? '✓' : `✗ [${res.last}]`,
        goal === undefined ? '' : `ours ≥${goal}× faster`,
        met,
      ]);
      results.peers[peer.name] = res.stats;
      if (goal !== undefined) {
        report.goal('1', `who listens, ~300 processes, late listener: ≥${goal}× faster than ${peer.name.split(' ')[0]}`, met === 'yes', `ours ${fmtMs(ours.stats.median)} ms vs ${fmtMs(res.stats.median)} ms (${fmtRatio(res.stats.median, ours.stats.median)})${oursRight ? '' : ', but ours answered wrong'}`);
      }
    }
    profile.push(profileNow(label, processes, port, procNet?.parseProcNetTcp));
    return results;
  }

  const quiet = await scenario('only the listener', oldest, oldestPort);

  await crowd.addHolders(HOLDERS, SOCKETS_PER_HOLDER);
  // Fill with sleep processes up to ~300 processes in all (the machine's own count included).
  crowd.addSleeps(Math.max(0, 300 - countProcesses() - 1));
  const latePort = await pickPort();
  let late = await startListener(registry, latePort);
  const goals300 = { 'lsof -ti tcp:P -sTCP:LISTEN': 5, 'ss -ltnpH sport = :P': 2 };
  const at300 = await scenario('started after the crowd', late, latePort, goals300);
  await scenario('oldest process', oldest, oldestPort);

  crowd.addSleeps(Math.max(0, 500 - countProcesses() - 1));
  await stopChild(late);
  const latePort2 = await pickPort();
  late = await startListener(registry, latePort2);
  await scenario('started after the crowd', late, latePort2);

  section.note(`crowd: ${crowd.holders} node processes holding ${SOCKETS_PER_HOLDER} loopback sockets each (${SOCKETS_PER_HOLDER / 2} connected pairs) plus ${crowd.sleeps} \`sleep\` processes; "processes" counts every PID in /proc, the machine's own included. The listener is a node HTTP server on 127.0.0.1.`);
  section.note('"same answer" compares each tool\'s PIDs with ours; ours is also checked against the listener\'s real PID.');
  for (const line of profile) section.note(`profile: ${line}`);
  section.note(`ours went from ${fmtMs(quiet.ours.median)} ms (quiet) to ${fmtMs(at300.ours.median)} ms (~300 processes, late listener).`);

  await stopChild(late);
  await stopChild(oldest);
  await crowd.stop();
}
