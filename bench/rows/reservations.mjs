// Row 5: the ledger (issue 10, goal 3), side by side in one run:
//   5a one reservation with 5000 entries in the ledger, in-process (PortAllocator.allocate), against a goal of 5 ms;
//   5b 8 processes × 50 reservations at once through PortAllocator + Ledger (≥500/s, 0 duplicates), and the
//      reserve-then-listen race against get-port, whose lock lives only inside one process;
//   5c `dev-ports reserve` wall time (the minified CLI bundle) against `node -e 0`, empty ledger and 5000 entries.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TMP } from '../lib/build.mjs';
import { RESERVATION_RANGE } from '../lib/ports.mjs';
import { FIXTURES, stopChild } from '../lib/procs.mjs';
import { nowMs, summarize } from '../lib/stats.mjs';

const WORKERS = 8;
const PER_WORKER = 50;
const ROUNDS = 20;
const ENTRIES = 5000;
/** The 5000 entries sit where a crowded range would have them; reservations come from the range that follows. */
const FILL_START = 40000;
const ONE_RANGE = { start: FILL_START, end: FILL_START + ENTRIES + 999 };
const CLI_RUNS = 15;

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

/** Writes `count` entries of other projects into a fresh ledger home. */
function filledHome(lib, count) {
  const home = mkdtempSync(join(TMP, 'ledger-filled-'));
  const ledger = new lib.Ledger({ home });
  for (let i = 0; i < count; i++) ledger.tryClaim({ projectId: `/bench/fill/p${i}`, port: FILL_START + i, allocatedAt: Date.now() });
  return home;
}

/** 5a: one allocate() of a new project at a time, with `ENTRIES` entries of other projects in the ledger. */
async function oneReservation(lib, section) {
  const home = filledHome(lib, ENTRIES);
  try {
    const allocator = new lib.PortAllocator({ store: lib.createMemoryStore(), ledger: new lib.Ledger({ home }), os: lib.nodeOs, range: () => ONE_RANGE });
    const samples = [];
    for (let i = 0; i < 40; i++) {
      const t0 = nowMs();
      await allocator.allocate(`/bench/one/p${i}`);
      const ms = nowMs() - t0;
      if (i >= 5) samples.push(ms); // the first calls include JIT warm-up and the one-time listing
    }
    const s = summarize(samples);
    // The first reservation of a fresh process pays for the first listing of the folder (what the CLI pays).
    const cold = new lib.PortAllocator({ store: lib.createMemoryStore(), ledger: new lib.Ledger({ home }), os: lib.nodeOs, range: () => ONE_RANGE });
    const t0 = nowMs();
    await cold.allocate('/bench/one/cold');
    const coldMs = nowMs() - t0;
    const met = s.median <= 5;
    section.add(['5a', `one reservation, ${ENTRIES} entries in the ledger (in-process)`, `${fmt(s.median)} ms`, `${fmt(s.p95)} ms`, `first call of a new Ledger: ${fmt(coldMs)} ms`, '≤ 5 ms', met ? 'yes' : 'NO']);
    return { median: s.median, p95: s.p95, coldMs, met };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** 5c: wall time of `node cli.js reserve` next to `node -e 0`, runs interleaved so both see the same load. */
function cliWallTime(cliPath, homes) {
  const rows = [];
  for (const [label, home] of homes) {
    const node = [];
    const cli = [];
    for (let i = 0; i < CLI_RUNS; i++) {
      let t0 = nowMs();
      spawnSync(process.execPath, ['-e', '0']);
      node.push(nowMs() - t0);
      t0 = nowMs();
      const r = spawnSync(process.execPath, [cliPath, 'reserve', `/bench/cli/${label}/p${i}`, '--range', `${ONE_RANGE.start}-${ONE_RANGE.end}`], {
        env: { ...process.env, DEV_PORTS_HOME: home },
        encoding: 'utf8',
      });
      cli.push(nowMs() - t0);
      if (r.status !== 0) throw new Error(`dev-ports reserve failed (${r.status}): ${r.stderr}`);
    }
    rows.push({ label, node: summarize(node), cli: summarize(cli) });
  }
  return rows;
}

async function buildCli() {
  const esbuild = createRequire(import.meta.url)('esbuild');
  const outfile = join(TMP, 'cli.js');
  // The options esbuild.js gives dist/cli.js.
  await esbuild.build({ entryPoints: [join(ROOT, 'src/cli/main.ts')], outfile, bundle: true, platform: 'node', target: 'node18', format: 'cjs', minify: true, external: ['./mcpServer'], logLevel: 'silent' });
  return { path: outfile, bytes: statSync(outfile).size };
}

/** Sends one command and resolves to the child's answer (one command in flight per child). */
function request(child, message, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reserver ${child.pid} did not answer ${message.cmd} in ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`reserver ${child.pid} exited with ${code} during ${message.cmd}`));
    };
    child.once('exit', onExit);
    child.once('message', (answer) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      if (answer.ok === false) reject(new Error(`reserver ${child.pid}: ${answer.error}`));
      else resolve(answer);
    });
    child.send(message);
  });
}

async function startWorkers(registry, corePath, mode, home) {
  const workers = [];
  for (let i = 0; i < WORKERS; i++) {
    const child = registry.spawn(process.execPath, [`${FIXTURES}reserver.mjs`, corePath, mode, String(i), String(RESERVATION_RANGE.start), String(RESERVATION_RANGE.end)], {
      env: { ...process.env, DEV_PORTS_HOME: home },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      label: `reserver ${mode}`,
    });
    workers.push(child);
  }
  await Promise.all(
    workers.map(
      (child) =>
        new Promise((resolve, reject) => {
          child.once('message', (m) => (m.ready ? resolve() : reject(new Error('reserver did not start'))));
          child.once('exit', (code) => reject(new Error(`reserver exited with ${code} while starting`)));
        }),
    ),
  );
  return workers;
}

async function stopWorkers(workers) {
  await Promise.all(workers.map(stopChild));
}

/** 20 rounds: the 4 workers each get a port at the same moment and listen on it 20 ms later. */
async function collisionRounds(workers) {
  let collisions = 0;
  let duplicates = 0;
  let failedListens = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const answers = await Promise.all(workers.map((w) => request(w, { cmd: 'round', round })));
    const ports = answers.map((a) => a.port);
    const dup = ports.length - new Set(ports).size;
    const failed = answers.filter((a) => !a.listened).length;
    duplicates += dup;
    failedListens += failed;
    if (dup > 0 || failed > 0) collisions++;
    await Promise.all(workers.map((w) => request(w, { cmd: 'close' })));
  }
  return { collisions, duplicates, failedListens };
}

/**
 * @param {{ corePath: string, registry: import('../lib/procs.mjs').ProcessRegistry, report: import('../lib/report.mjs').Report }} ctx
 */
export async function runReservations({ lib, corePath, registry, report }) {
  const ledgerSection = report.section('5. Ledger: one reservation among 5000 entries, and the CLI against `node -e 0`', [
    'row',
    'measure',
    'median',
    'p95',
    'note',
    'goal',
    'goal met?',
  ], [4, 50, 10, 10, 36, 10, 9]);
  const one = await oneReservation(lib, ledgerSection);
  report.goal('5a', `one reservation with ${ENTRIES} entries in the ledger ≤ 5 ms (in-process)`, one.met, `${fmt(one.median)} ms median, ${fmt(one.p95)} ms p95; first call of a new Ledger ${fmt(one.coldMs)} ms`);

  const cli = await buildCli();
  const emptyHome = mkdtempSync(join(TMP, 'ledger-cli-empty-'));
  const fullHome = filledHome(lib, ENTRIES);
  try {
    for (const row of cliWallTime(cli.path, [['empty', emptyHome], [`${ENTRIES} entries`, fullHome]])) {
      const ratio = row.cli.median / row.node.median;
      const met = ratio <= 1.5;
      ledgerSection.add(['5c', `node -e 0`, `${fmt(row.node.median)} ms`, `${fmt(row.node.p95)} ms`, `${CLI_RUNS} runs, interleaved`, '', '']);
      ledgerSection.add(['5c', `dev-ports reserve, ledger ${row.label}`, `${fmt(row.cli.median)} ms`, `${fmt(row.cli.p95)} ms`, `${ratio.toFixed(2)}× node -e 0`, '≤ 1.5×', met ? 'yes' : 'NO']);
      report.goal('5c', `dev-ports reserve (ledger ${row.label}) ≤ 1.5× node -e 0`, met, `${fmt(row.cli.median)} ms vs ${fmt(row.node.median)} ms (${ratio.toFixed(2)}×)`);
    }
    ledgerSection.note(`5c: dist/cli.js as esbuild.js builds it (bundled, minified: ${(cli.bytes / 1024).toFixed(1)} KB); each run reserves a new project, so every run writes a claim. Wall time of spawnSync from start to exit.`);
  } finally {
    rmSync(emptyHome, { recursive: true, force: true });
    rmSync(fullHome, { recursive: true, force: true });
  }
  ledgerSection.note(`5a: PortAllocator over createMemoryStore() and a Ledger whose folder holds ${ENTRIES} entries of other projects on ${FILL_START}-${FILL_START + ENTRIES - 1}; each call reserves a new project from ${ONE_RANGE.start}-${ONE_RANGE.end} (so the first free port comes after the ${ENTRIES}); median of 35 calls after 5 warm-up calls.`);

  const section = report.section(`5b. Reservations, ${WORKERS} processes contending for ${RESERVATION_RANGE.start}-${RESERVATION_RANGE.end}`, [
    'method',
    'reservations',
    'duplicate ports',
    'throughput /s',
    `rounds with a collision (of ${ROUNDS})`,
    'EADDRINUSE on listen',
    'goal',
    'goal met?',
  ], [38, 14, 15, 13, 25, 20, 12, 9]);
  const home = mkdtempSync(join(TMP, 'ledger-reserve-'));
  let ours;
  try {
    ours = await startWorkers(registry, corePath, 'ours', home);
    const t0 = nowMs();
    const results = await Promise.all(ours.map((w) => request(w, { cmd: 'throughput', count: PER_WORKER, budgetMs: 30000 }, 90000)));
    const wallMs = nowMs() - t0;
    const all = results.flatMap((r) => r.ports);
    const duplicates = all.length - new Set(all).size;
    const errors = results.map((r) => r.error).filter(Boolean);
    const rounds = await collisionRounds(ours);
    const perSecond = Math.round((all.length / wallMs) * 1000);
    const met = duplicates === 0 && rounds.duplicates === 0 && errors.length === 0 && all.length === WORKERS * PER_WORKER && perSecond >= 500;
    section.add([
      'ours PortAllocator + Ledger',
      `${all.length} of ${WORKERS * PER_WORKER}`,
      duplicates,
      perSecond,
      rounds.collisions,
      rounds.failedListens,
      '0 duplicates, ≥ 500/s',
      met ? 'yes' : 'NO',
    ]);
    for (const e of new Set(errors)) section.note(`ours: a worker stopped early: ${e}`);
    report.goal('5b', `${WORKERS} processes × ${PER_WORKER} reservations through the ledger: 0 duplicates, ≥ 500/s`, met, `${all.length} reservations, ${duplicates} duplicates, ${perSecond}/s; in ${ROUNDS} reserve-then-listen rounds ${rounds.collisions} collisions`);
    section.note(`throughput: ${WORKERS} processes each reserving ${PER_WORKER} projects as fast as they can (PortAllocator over createMemoryStore() and one shared ledger folder), counted from the first request to the last answer: ${(wallMs / 1000).toFixed(2)} s wall.`);
  } finally {
    if (ours) await stopWorkers(ours);
    rmSync(home, { recursive: true, force: true });
  }

  const peerHome = mkdtempSync(join(TMP, 'ledger-reserve-peer-'));
  let peers;
  try {
    peers = await startWorkers(registry, corePath, 'get-port', peerHome);
    const rounds = await collisionRounds(peers);
    section.add([
      'get-port({ port: portNumbers(range) })',
      `${ROUNDS * WORKERS} (in rounds)`,
      rounds.duplicates,
      '',
      rounds.collisions,
      rounds.failedListens,
      '',
      '',
    ]);
  } finally {
    if (peers) await stopWorkers(peers);
    rmSync(peerHome, { recursive: true, force: true });
  }
  section.note(`rounds: the ${WORKERS} processes are asked for a port at the same moment, listen on it (127.0.0.1) 20 ms later and release it before the next round; a round collides when two got the same port or a listen failed with EADDRINUSE.`);
}
