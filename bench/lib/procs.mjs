// Every process the bench starts goes through a ProcessRegistry so that it can be killed by PID (or by process
// group for the detached ones, whose groups the bench created) on success, error, SIGINT or SIGTERM.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sleep } from './stats.mjs';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/**
 * Reads /proc/<pid>/stat. The command name sits in parentheses and may itself contain spaces and ')', so the fields
 * are taken after the LAST ')'.
 * @returns {{ pid: number, ppid: number, pgid: number, state: string } | undefined}
 */
export function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: rest[0], ppid: Number(rest[1]), pgid: Number(rest[2]) };
}

/** Every process visible in /proc. */
export function processTable() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const st = readStat(Number(name));
    if (st) out.push(st);
  }
  return out;
}

export function countProcesses() {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
}

/** Alive and not a zombie: a zombie re-parented to a non-reaping PID 1 still answers signal 0 but holds nothing. */
export function isAlive(pid) {
  const st = readStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

/** `rootPid` and all its descendants, from one /proc snapshot. */
export function descendantsOf(rootPid) {
  const table = processTable();
  const children = new Map();
  for (const p of table) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(p.pid);
  }
  const out = [rootPid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

export class ProcessRegistry {
  /** @type {Map<number, { detached: boolean, label: string }>} */
  #entries = new Map();
  #killedCount = 0;

  /**
   * spawn() with an argument array, registered for cleanup.
   * @param {string} command
   * @param {string[]} args
   * @param {import('node:child_process').SpawnOptions & { label?: string }} [options]
   */
  spawn(command, args, options = {}) {
    const { label = command, ...spawnOptions } = options;
    const child = spawn(command, args, spawnOptions);
    if (child.pid === undefined) {
      // spawn failures surface as an 'error' event; the caller awaits it through waitForLine/exit.
      return child;
    }
    this.#entries.set(child.pid, { detached: Boolean(spawnOptions.detached), label });
    child.on('exit', () => {
      // A detached group can outlive its leader (npm gone, node re-parented); keep the group for cleanup.
      if (!spawnOptions.detached) this.#entries.delete(child.pid);
    });
    return child;
  }

  /** Remembers a PID the bench caused to exist (a grandchild in a chain) so cleanup can kill it by PID. */
  adopt(pid, label = 'adopted') {
    if (!this.#entries.has(pid)) this.#entries.set(pid, { detached: false, label });
  }

  forget(pid) {
    this.#entries.delete(pid);
  }

  /** Synchronous so it can run from an 'exit' handler. Returns how many signals were delivered. */
  killAll(signal = 'SIGKILL') {
    const liveGroups = new Set(processTable().map((p) => p.pgid));
    let delivered = 0;
    for (const [pid, { detached }] of this.#entries) {
      try {
        // Groups only while someone is still in them: a dead group's id could be reused by a stranger's process.
        if (detached && liveGroups.has(pid)) process.kill(-pid, signal);
        else if (isAlive(pid)) process.kill(pid, signal);
        else continue;
        delivered++;
      } catch (error) {
        if (error.code !== 'ESRCH') throw error;
      }
    }
    this.#entries.clear();
    this.#killedCount += delivered;
    return delivered;
  }

  get size() {
    return this.#entries.size;
  }

  /** Installs cleanup on exit, SIGINT, SIGTERM and uncaught errors. */
  installCleanupHandlers(onSignal = () => {}) {
    process.on('exit', () => this.killAll());
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.on(signal, () => {
        onSignal(signal);
        const n = this.killAll();
        process.stderr.write(`\nbench: ${signal}: killed ${n} process(es)/group(s) the bench started\n`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      });
    }
    process.on('uncaughtException', (error) => {
      process.stderr.write(`bench: ${error.stack ?? error}\n`);
      this.killAll();
      process.exit(1);
    });
    process.on('unhandledRejection', (error) => {
      process.stderr.write(`bench: unhandled rejection: ${error?.stack ?? error}\n`);
      this.killAll();
      process.exit(1);
    });
  }
}

/**
 * Resolves when a line of the child's stdout matches, rejects on exit or after timeoutMs.
 * @param {import('node:child_process').ChildProcess} child
 * @param {RegExp} pattern
 */
export function waitForLine(child, pattern, timeoutMs = 15000, what = 'child') {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => finish(new Error(`${what} did not print ${pattern} within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = pattern.exec(line);
        if (m) return finish(undefined, m);
      }
    };
    const onExit = (code, signal) => finish(new Error(`${what} exited (code ${code}, signal ${signal}) before printing ${pattern}`));
    const onError = (error) => finish(error);
    function finish(error, match) {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining so a chatty child never blocks on a full pipe.
      child.stdout.resume();
      if (error) reject(error);
      else resolve(match);
    }
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** SIGKILLs a child the bench started and resolves once it has exited (so cleanup never sees it half-dead). */
export function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  return exited;
}

/** The python3 program behind Crowd.addForkedHolders: argv[1] children, argv[2] sockets each. */
const FORKED_HOLDERS = `
import os, select, socket, struct, sys
count, per = int(sys.argv[1]), int(sys.argv[2])
ready_r, ready_w = os.pipe()
pids = []
for _ in range(count):
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        srv = socket.socket()
        srv.bind(('127.0.0.1', 0))
        srv.listen(per)
        keep = []
        for _ in range(per // 2):
            c = socket.create_connection(srv.getsockname())
            a, _ = srv.accept()
            for s in (c, a):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                keep.append(s)
        srv.close()
        os.write(ready_w, b'r')
        os.close(ready_w)
        select.select([0], [], [], 400)
        os._exit(0)
    pids.append(pid)
os.close(ready_w)
got = 0
while got < count:
    chunk = os.read(ready_r, count - got)
    if not chunk:
        break
    got += len(chunk)
print('ready ' + ' '.join(map(str, pids)), flush=True)
select.select([0], [], [], 400)
for pid in pids:
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
`;

/** Runs async tasks with at most `limit` in flight. */
async function pool(items, limit, task) {
  const results = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i], i);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * A crowd of idle processes like a developer machine's: node processes each holding `socketsPerHolder` loopback
 * sockets (connected pairs, so they add rows to /proc/net/tcp and fds to scan, but no extra listeners) and plain
 * `sleep` processes. Stays in the bench's process group; killed by PID.
 */
export class Crowd {
  /** @param {ProcessRegistry} registry */
  constructor(registry) {
    this.registry = registry;
    /** @type {import('node:child_process').ChildProcess[]} */
    this.children = [];
    this.holders = 0;
    this.sleeps = 0;
  }

  async addHolders(count, socketsPerHolder = 50) {
    // 4 at a time: node's start-up is CPU-bound and there are 2 cores; more in flight only adds contention.
    const started = await pool(Array.from({ length: count }), 4, async () => {
      const child = this.registry.spawn(process.execPath, [`${FIXTURES}socket-holder.cjs`, String(socketsPerHolder)], {
        stdio: ['pipe', 'pipe', 'inherit'],
        label: 'socket-holder',
      });
      await waitForLine(child, /^ready (\d+)$/, 30000, 'socket-holder');
      return child;
    });
    this.children.push(...started);
    this.holders += count;
  }

  /**
   * `count` processes holding `socketsPerHolder` loopback sockets each, forked by one python3 process (fork shares
   * memory copy-on-write, so a thousand-process crowd fits on a small machine, where a node process each would
   * take ~40 MB). Each child makes its own connected pairs (distinct rows in /proc/net/tcp), closes its
   * listening socket, and waits for its stdin (the bench's pipe) to close or 400 s; SO_LINGER 0 resets the pairs
   * on exit, so no TIME_WAIT rows are left behind for the next row.
   */
  async addForkedHolders(count, socketsPerHolder = 50) {
    const child = this.registry.spawn('python3', ['-c', FORKED_HOLDERS, String(count), String(socketsPerHolder)], {
      stdio: ['pipe', 'pipe', 'inherit'],
      label: 'forked socket holders',
    });
    const [, pids] = await waitForLine(child, /^ready ([\d ]+)$/, 60000, 'forked socket holders');
    for (const pid of pids.trim().split(' ').map(Number)) this.registry.adopt(pid, 'forked socket holder');
    this.children.push(child);
    this.holders += count;
  }

  addSleeps(count) {
    for (let i = 0; i < count; i++) {
      // Bounded lifetime: even if the bench were SIGKILLed, these go away on their own.
      this.children.push(this.registry.spawn('sleep', ['400'], { stdio: 'ignore', label: 'sleep' }));
    }
    this.sleeps += count;
  }

  async stop() {
    // Holders reset their sockets and exit when their stdin closes (no TIME_WAIT left behind); SIGKILL is the fallback.
    const exits = this.children.map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => stopChild(child).then(resolve), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        if (child.stdin) child.stdin.end();
        else child.kill('SIGKILL');
      });
    });
    await Promise.all(exits);
    this.children = [];
    await sleep(200);
  }
}
