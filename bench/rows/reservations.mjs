// Row 5: reservations through the machine-wide ledger with 4 processes contending, and the same race with get-port,
// whose lock lives only inside one process.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TMP } from '../lib/build.mjs';
import { RESERVATION_RANGE } from '../lib/ports.mjs';
import { FIXTURES, stopChild } from '../lib/procs.mjs';
import { nowMs } from '../lib/stats.mjs';

const WORKERS = 4;
const PER_WORKER = 100;
const ROUNDS = 20;

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
export async function runReservations({ corePath, registry, report }) {
  const section = report.section(`5. Reservations, ${WORKERS} processes contending for ${RESERVATION_RANGE.start}-${RESERVATION_RANGE.end}`, [
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
    const met = duplicates === 0 && rounds.duplicates === 0 && errors.length === 0 && all.length === WORKERS * PER_WORKER;
    section.add([
      'ours PortAllocator + Ledger',
      `${all.length} of ${WORKERS * PER_WORKER}`,
      duplicates,
      Math.round((all.length / wallMs) * 1000),
      rounds.collisions,
      rounds.failedListens,
      '0 duplicates',
      met ? 'yes' : 'NO',
    ]);
    for (const e of new Set(errors)) section.note(`ours: a worker stopped early: ${e}`);
    report.goal('5', `${WORKERS} processes reserving through the ledger: 0 duplicates`, met, `${all.length} reservations, ${duplicates} duplicates, ${Math.round((all.length / wallMs) * 1000)}/s; in ${ROUNDS} reserve-then-listen rounds ${rounds.collisions} collisions`);
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
