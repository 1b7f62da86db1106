// Soak through the core: a real dev server (`sh -c` → node → a helper child, detached into its own session as
// the extension's terminals are) reserved, started, stopped and released N times through the library. After all
// cycles: no process of any cycle alive, no allocation left in the store or the ledger, no growth of this
// process's open descriptors, no temp file in the ledger home. 20 cycles in `npm test`, 100 in `npm run soak`.
import * as assert from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import * as readline from 'readline';
import { Ledger } from '../../../src/core/ledger';
import { PortAllocator } from '../../../src/core/allocator';
import { createMemoryStore } from '../../../src/core/memoryStore';
import { killProcessTree, killProcessesOnPort, nodeOs, waitForPortAvailable } from '../../../src/os/index';
import { TempDirs } from './helpers/testUtils';

const SERVER = path.join(__dirname, '..', '..', 'fixtures', 'soak', 'dev-server.js');
const SOAK = process.env.DEV_PORTS_SOAK === '1';
const CYCLES = SOAK ? 100 : 20;
/**
 * Descriptors this process may gain without a leak: 2, for what Node opens once and keeps (the fs.watch of the
 * ledger folder while a lock wait is woken early, libuv's signal pipe), measured once, never per cycle. A leak
 * of one descriptor per cycle (a pipe of a child, a watcher, a socket) would show as 19+ here.
 */
const FD_SLACK = 2;

const openFds = () => fs.readdirSync('/proc/self/fd').length;

/** Start time (clock ticks since boot, field 22 of /proc/<pid>/stat), so a reused PID is never taken for ours. */
function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** 'running' (our process, not a zombie), 'zombie' (exited, not reaped by its new parent) or 'gone'. */
function stateOf(proc: { pid: number; start: string }): 'running' | 'zombie' | 'gone' {
  try {
    const stat = fs.readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[19] !== proc.start) return 'gone'; // the PID was reused by another process
    return fields[0] === 'Z' || fields[0] === 'X' ? 'zombie' : 'running';
  } catch {
    return 'gone';
  }
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
}

describe('soak: a real dev server started and stopped through the core', () => {
  const temp = new TempDirs();
  const procs: { pid: number; start: string }[] = [];

  afterEach(() => {
    // Whatever a failed cycle left running, by PID and only if it is still the process we started.
    for (const p of procs.splice(0)) {
      if (stateOf(p) === 'running') {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    temp.removeAll();
  });

  it(`${CYCLES} cycles of reserve → sh -c node → listening → stop the tree → free → release leave nothing behind`, async function () {
    this.timeout(SOAK ? 600_000 : 240_000);
    const home = path.join(temp.make('dev-ports-soak-'), 'home');
    const ledger = new Ledger({ home, isProcessAlive: nodeOs.isProcessAlive });
    const store = createMemoryStore();
    const start = 44000 + Math.floor(Math.random() * 900);
    const allocator = new PortAllocator({
      store,
      ledger,
      os: nodeOs,
      range: () => ({ start, end: start + 49 }),
      owner: { pid: process.pid, kind: 'library' },
    });

    async function cycle(i: number): Promise<void> {
      const projectId = `/soak/app-${i % 3}`;
      const { port } = await allocator.allocate(projectId);
      // A dev script: `sh -c` runs node and stays its parent (the `||` keeps sh from exec'ing), in its own session.
      const sh: ChildProcess = spawn('sh', ['-c', '"$0" "$1" || exit $?', process.execPath, SERVER], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PORT: String(port) },
      });
      const shExit = new Promise<void>((resolve) => sh.once('exit', () => resolve()));
      const shStart = startTime(sh.pid!);
      if (shStart) procs.push({ pid: sh.pid!, start: shStart });
      const lines = readline.createInterface({ input: sh.stdout! });
      const info = await new Promise<{ pid: number; helper: number; port: number }>((resolve, reject) => {
        let err = '';
        sh.stderr!.on('data', (d) => (err += d));
        lines.once('line', (line) => resolve(JSON.parse(line)));
        sh.once('exit', (code) => reject(new Error(`cycle ${i}: the dev server exited (${code}) before listening: ${err}`)));
      });
      lines.close();
      for (const pid of [info.pid, info.helper]) {
        const s = startTime(pid);
        if (s) procs.push({ pid, start: s });
      }
      assert.notStrictEqual(info.pid, sh.pid, 'sh stays the parent of node');
      assert.strictEqual(await get(port), `soak ok ${port}\n`, `cycle ${i}: the server answers on its port`);
      await allocator.setPid(projectId, sh.pid!);
      assert.strictEqual(ledger.get(port)?.pid, sh.pid);

      let killed: number[];
      if (i % 2 === 0) killed = await killProcessTree(sh.pid!, { gracePeriodMs: 2000 });
      else killed = (await killProcessesOnPort(port, { gracePeriodMs: 2000 })).killedPids;
      for (const pid of [sh.pid!, info.pid, info.helper]) assert.ok(killed.includes(pid), `cycle ${i}: ${pid} stopped (killed ${killed.join(', ')})`);
      await shExit;
      assert.strictEqual(await waitForPortAvailable(port, { timeoutMs: 5000 }), true, `cycle ${i}: port ${port} free`);
      assert.strictEqual(await allocator.releasePortForProject(projectId), true);
    }

    await cycle(0); // warm-up: what Node opens once (a signal pipe, a watcher) is in the baseline
    const fdsBefore = openFds();
    for (let i = 1; i < CYCLES; i++) await cycle(i);
    // Pipes of the last child close on their 'close' events, a tick after its exit: let them.
    const deadline = Date.now() + 2000;
    while (openFds() > fdsBefore + FD_SLACK && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const fdsAfter = openFds();

    const states = procs.map((p) => ({ ...p, state: stateOf(p) }));
    const running = states.filter((p) => p.state === 'running');
    const zombies = states.filter((p) => p.state === 'zombie').length;
    const left = fs.readdirSync(home, { recursive: true }) as string[];
    console.log(
      `      ${CYCLES} cycles, ${procs.length} processes: ${running.length} running, ${zombies} zombies; fds ${fdsBefore} → ${fdsAfter}; ledger home: ${left.join(', ')}`,
    );
    assert.strictEqual(procs.length, CYCLES * 3, 'sh, node and the helper of every cycle were seen');
    assert.deepStrictEqual(running.map((p) => p.pid), [], 'no orphan process');
    assert.deepStrictEqual(allocator.getAllocations(), [], 'no allocation left in the store');
    assert.deepStrictEqual(ledger.entries(), [], 'no reservation left in the ledger');
    assert.deepStrictEqual(fs.readdirSync(ledger.portsDir), [], 'no file left in the ports folder');
    assert.strictEqual(fs.existsSync(ledger.lockFile), false, 'no lock left');
    assert.deepStrictEqual(left.filter((n) => /\.(tmp|release|broken)-/.test(n)), [], 'no temp file left');
    assert.ok(fdsAfter <= fdsBefore + FD_SLACK, `open descriptors grew from ${fdsBefore} to ${fdsAfter}`);
  });
});
