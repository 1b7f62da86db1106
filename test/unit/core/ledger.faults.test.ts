// Faults injected into the machine-wide ledger: debris in the lock's place, clocks stepped back, files of a newer
// version, symbolic links, unreadable entries, an unwritable folder, reservers killed mid-way, and 8 processes at
// once. Every case checks that nothing valid is lost and that every wait ends. `npm run soak` runs the crash case
// 100 times instead of 20 (DEV_PORTS_SOAK=1).
import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Ledger, UNREADABLE_PROJECT, type LedgerEntry } from '../../../src/core/ledger';
import { PortAllocator, cleanupStaleLedgerEntries } from '../../../src/core/allocator';
import { createMemoryStore } from '../../../src/core/memoryStore';
import { LedgerError } from '../../../src/core/errors';
import { nodeOs } from '../../../src/os/index';
import { Children, RecordingLogger, TempDirs, deadPid, outputOf } from './helpers/testUtils';

const WORKER = path.join(__dirname, 'helpers', 'ledgerWorker.js');
const CRASH_RESERVER = path.join(__dirname, 'helpers', 'crashReserver.js');
const SOAK = process.env.DEV_PORTS_SOAK === '1';
const isRoot = process.getuid?.() === 0;

describe('Ledger under faults', () => {
  const temp = new TempDirs();
  const children = new Children();
  let home: string;
  let logger: RecordingLogger;
  let ledger: Ledger;
  const ports = () => path.join(home, 'ports');
  const portFile = (port: number) => path.join(ports(), `${port}.json`);
  const lockFile = () => path.join(home, 'ledger.lock');
  const entry = (projectId: string, port: number, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({
    projectId,
    port,
    allocatedAt: Date.now(),
    ...extra,
  });

  beforeEach(() => {
    home = path.join(temp.make(), 'home');
    logger = new RecordingLogger();
    ledger = new Ledger({ home, logger });
  });

  afterEach(async () => {
    await children.killAll();
    temp.removeAll();
  });

  describe('the lock', () => {
    it('removes a dangling ledger.lock symbolic link instead of spinning on it', () => {
      fs.symlinkSync(path.join(home, 'nowhere'), lockFile());
      const t0 = Date.now();
      assert.strictEqual(ledger.withLock(() => 'ran'), 'ran');
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
      assert.ok(logger.warnings().some((w) => /Removed the ledger lock .*symbolic link/.test(w)), logger.lines.join('\n'));
      assert.strictEqual(fs.existsSync(lockFile()), false);
    });

    it('removes a dangling ledger.lock symbolic link in the async path too', async () => {
      fs.symlinkSync(path.join(home, 'nowhere'), lockFile());
      assert.strictEqual(await ledger.withLockAsync(() => 'ran'), 'ran');
      assert.strictEqual(fs.lstatSync(lockFile(), { throwIfNoEntry: false }), undefined);
    });

    it('removes a folder in the lock\'s place', () => {
      fs.mkdirSync(lockFile());
      assert.strictEqual(ledger.withLock(() => 'ran'), 'ran');
      assert.ok(logger.warnings().some((w) => w.includes('not a regular file')));
    });

    it('breaks a lock stamped in the future (the clock was stepped back) at once', () => {
      fs.writeFileSync(lockFile(), JSON.stringify({ pid: process.ppid, time: Date.now() + 3_600_000 }));
      const t0 = Date.now();
      assert.strictEqual(ledger.withLock(() => 'ran'), 'ran');
      assert.ok(Date.now() - t0 < 1000);
      assert.ok(logger.warnings().some((w) => w.includes('in the future')), logger.lines.join('\n'));
    });

    it('gives up on a live holder after its bound with an error naming the lock and the holder', () => {
      const l = new Ledger({ home, logger, lockTimeoutMs: 300 });
      // A live process (our parent) holding a fresh lock: younger than the 2 s after which it would be broken.
      fs.writeFileSync(lockFile(), JSON.stringify({ pid: process.ppid, time: Date.now() }));
      const t0 = Date.now();
      assert.throws(
        () => l.withLock(() => 'never'),
        (e: unknown) => e instanceof LedgerError && e.message.includes(lockFile()) && e.message.includes(`PID ${process.ppid}`) && /delete/.test(e.remedy ?? ''),
      );
      const took = Date.now() - t0;
      assert.ok(took >= 300 && took < 1500, `gave up after ${took} ms`);
      assert.ok(fs.existsSync(lockFile()), "the other process's lock is left alone");
    });

    it('waits for the lock without blocking the event loop, and gives up after its bound', async () => {
      const l = new Ledger({ home, logger, lockTimeoutMs: 400 });
      fs.writeFileSync(lockFile(), JSON.stringify({ pid: process.ppid, time: Date.now() }));
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      try {
        await assert.rejects(l.withLockAsync(() => 'never'), LedgerError);
      } finally {
        clearInterval(timer);
      }
      assert.ok(ticks >= 15, `the event loop ran ${ticks} timer ticks during a 400 ms wait`);
    });

    it('serialises withLockAsync callers of one process', async () => {
      const order: string[] = [];
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          ledger.withLockAsync(() => {
            order.push(`in ${i}`);
            assert.ok(fs.existsSync(lockFile()));
            order.push(`out ${i}`);
          }),
        ),
      );
      for (let i = 0; i < order.length; i += 2) assert.strictEqual(order[i].replace('in', 'out'), order[i + 1]);
      assert.strictEqual(fs.existsSync(lockFile()), false);
    });
  });

  describe('entries it must respect', () => {
    it('never moves aside or gives away an entry of a newer version, and says so once', () => {
      const text = JSON.stringify({ version: 2, projectId: '/src/new', port: 3000, allocatedAt: 1, extra: { x: 1 } });
      fs.writeFileSync(portFile(3000), text);
      assert.strictEqual(ledger.tryClaim(entry('/src/other', 3000)), false);
      assert.strictEqual(ledger.release(3000), false);
      assert.strictEqual(ledger.release(3000, '/src/new'), false);
      assert.throws(() => ledger.update(entry('/src/new', 3000)), LedgerError);
      assert.strictEqual(fs.readFileSync(portFile(3000), 'utf8'), text);
      const found = ledger.entries();
      assert.deepStrictEqual(found.map((e) => [e.port, e.projectId, e.foreign]), [[3000, '/src/new', 'newer-version']]);
      ledger.entries();
      assert.strictEqual(logger.warnings().filter((w) => w.includes('newer Dev Ports')).length, 1);
      assert.ok(ledger.heldPorts().has(3000));
    });

    it('keeps a newer version\'s entry through a stale cleanup', async () => {
      fs.writeFileSync(portFile(3000), JSON.stringify({ version: 9, projectId: '/src/new', port: 3000, allocatedAt: 1 }));
      const released = await cleanupStaleLedgerEntries(ledger, nodeOs, { olderThanMs: 0 });
      assert.deepStrictEqual(released, []);
      assert.ok(fs.existsSync(portFile(3000)));
    });

    it('hands the port of an unreadable entry to nobody, and keeps reserving other ports', async function () {
      if (isRoot) {
        // Root reads everything: an unprivileged child (uid 65534) meets a root-owned entry instead.
        await runAsNobody(this, 'unreadable');
        return;
      }
      fs.writeFileSync(portFile(47000), JSON.stringify({ version: 1, projectId: '/x', port: 47000, allocatedAt: 1 }), { mode: 0 });
      const allocator = new PortAllocator({ store: createMemoryStore(), ledger, os: nodeOs, range: () => ({ start: 47000, end: 47010 }) });
      const a = await allocator.allocate('/src/web');
      assert.notStrictEqual(a.port, 47000);
      assert.deepStrictEqual(ledger.get(47000)?.foreign, 'unreadable');
    });
  });

  describe('debris', () => {
    it('reports a dangling <port>.json symbolic link as a link, lets a claim replace it, and cleans it', () => {
      fs.symlinkSync(path.join(home, 'gone.json'), portFile(3000));
      assert.strictEqual(ledger.get(3000), undefined);
      assert.match(ledger.problemOf(3000) ?? '', /symbolic link to .*gone\.json, which does not exist/);
      assert.ok(logger.warnings().some((w) => w.includes('symbolic link')));
      assert.strictEqual(ledger.tryClaim(entry('/src/web', 3000)), true);
      assert.strictEqual(ledger.get(3000)?.projectId, '/src/web');
      assert.strictEqual(fs.lstatSync(portFile(3000)).isSymbolicLink(), false);

      fs.symlinkSync(path.join(home, 'gone.json'), portFile(3001));
      assert.deepStrictEqual(ledger.withLock(() => ledger.removeJunk()).length, 1);
      assert.strictEqual(fs.lstatSync(portFile(3001), { throwIfNoEntry: false }), undefined);
      fs.symlinkSync(path.join(home, 'gone.json'), portFile(3002));
      assert.strictEqual(ledger.release(3002), true);
      assert.deepStrictEqual(ledger.entries().map((e) => e.port), [3000]);
    });

    it('does not follow a <port>.json link to a valid-looking file elsewhere', () => {
      const elsewhere = path.join(home, 'elsewhere.json');
      fs.writeFileSync(elsewhere, JSON.stringify({ version: 1, projectId: '/src/evil', port: 3000, allocatedAt: 1 }));
      fs.symlinkSync(elsewhere, portFile(3000));
      assert.strictEqual(ledger.get(3000), undefined);
      assert.strictEqual(ledger.tryClaim(entry('/src/web', 3000)), true);
      assert.ok(fs.existsSync(elsewhere), 'the link target is never touched');
    });

    it('keeps every valid entry next to truncated, garbage and empty files, and the next claim moves them aside', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      fs.writeFileSync(portFile(3001), '{"version":1,"projectId":"/src/api","po');
      fs.writeFileSync(portFile(3002), '\u0000\u0001garbage');
      fs.writeFileSync(portFile(3003), '');
      assert.deepStrictEqual(ledger.entries().map((e) => e.port), [3000]);
      assert.strictEqual(logger.warnings().length, 3);
      for (const port of [3001, 3002, 3003]) assert.strictEqual(ledger.tryClaim(entry(`/src/p${port}`, port)), true);
      assert.deepStrictEqual(ledger.entries().map((e) => e.port), [3000, 3001, 3002, 3003]);
    });

    it('removes temp files of reservers that died mid-write, and keeps a live writer\'s', async () => {
      const dead = await deadPid();
      const names = [`.3000.json.tmp-${dead}-a-b`, `.3001.json.release-${dead}-c-d`, `.3002.json.tmp-${process.ppid}-e-f`];
      for (const name of names) fs.writeFileSync(path.join(ports(), name), '{}');
      new Ledger({ home }).entries();
      assert.deepStrictEqual(fs.readdirSync(ports()).sort(), [names[2]]);
    });

    it('releases an entry stamped in the future (clock stepped back) in a stale sweep', async () => {
      const port = 47100;
      ledger.tryClaim(entry('/src/future', port, { allocatedAt: Date.now() + 86_400_000 }));
      const released = await cleanupStaleLedgerEntries(ledger, nodeOs, { olderThanMs: 5 * 60_000 });
      assert.deepStrictEqual(released.map((a) => a.port), [port]);
    });

    it('refuses to write into a folder it cannot write to, with the remedy, and changes nothing', async function () {
      if (isRoot) {
        await runAsNobody(this, 'unwritable');
        return;
      }
      ledger.tryClaim(entry('/src/web', 3000));
      fs.chmodSync(ports(), 0o500);
      fs.chmodSync(home, 0o500);
      try {
        assert.throws(() => ledger.withLock(() => ledger.tryClaim(entry('/src/api', 3001))), /Cannot (create the ledger lock|write to the port ledger)/);
        assert.deepStrictEqual(ledger.entries().map((e) => e.port), [3000]);
      } finally {
        fs.chmodSync(home, 0o700);
        fs.chmodSync(ports(), 0o700);
      }
    });
  });

  describe('load and crashes', () => {
    it('8 processes × 50 reservations through PortAllocator: no port twice, every one in the ledger', async function () {
      this.timeout(120_000);
      const startAt = Date.now() + 2000;
      const outputs = await Promise.all(
        Array.from({ length: 8 }, (_, w) =>
          outputOf(
            children.spawn(process.execPath, [WORKER, home, 'allocator', String(startAt), '47200', '47999', Array.from({ length: 50 }, (_, i) => `/w${w}/p${i}`).join(',')]),
          ),
        ),
      );
      const results = outputs.flatMap((o) => JSON.parse(o.trim()) as { projectId: string; port: number }[]);
      assert.strictEqual(results.length, 400);
      const taken = results.map((r) => r.port);
      assert.strictEqual(new Set(taken).size, 400, 'no duplicate port');
      const inLedger = ledger.entries();
      assert.strictEqual(inLedger.length, 400);
      for (const r of results) assert.strictEqual(ledger.get(r.port)?.projectId, r.projectId);
      assert.deepStrictEqual(fs.readdirSync(ports()).filter((n) => n.startsWith('.')), [], 'no temp file left');
    });

    const CRASHES = SOAK ? 100 : 20;
    it(`reclaims every reservation of ${CRASHES} reservers SIGKILLed before their server started, and none of the live ones`, async function () {
      this.timeout(SOAK ? 600_000 : 180_000);
      const range = ['47000', '47999'];
      const live: { pid: number; port: number }[] = [];
      const killed: number[] = [];
      const started = (child: ReturnType<Children['spawn']>, until: RegExp) =>
        new Promise<string>((resolve, reject) => {
          let out = '';
          let err = '';
          child.stdout!.on('data', (d) => {
            out += d;
            if (until.test(out)) resolve(out);
          });
          child.stderr!.on('data', (d) => (err += d));
          child.once('exit', (code) => reject(new Error(`reserver exited with ${code} before ${until}: ${out} ${err}`)));
        });
      // Batches of 10 at a time: 2 cores shared with others; a third of them live on as servers.
      for (let base = 0; base < CRASHES; base += 10) {
        await Promise.all(
          Array.from({ length: Math.min(10, CRASHES - base) }, async (_, k) => {
            const i = base + k;
            const mode = i % 3 === 0 ? 'listen' : 'die';
            const child = children.spawn(process.execPath, [CRASH_RESERVER, home, `/crash/p${i}`, mode, ...range]);
            const out = await started(child, mode === 'listen' ? /listening\n/ : /reserved \d+\n/);
            const port = Number(/reserved (\d+)/.exec(out)![1]);
            if (mode === 'listen') {
              live.push({ pid: child.pid!, port });
              return;
            }
            const exited = new Promise((resolve) => child.once('exit', resolve));
            process.kill(child.pid!, 'SIGKILL');
            await exited;
            killed.push(port);
          }),
        );
      }
      const all = [...killed, ...live.map((l) => l.port)];
      assert.strictEqual(new Set(all).size, CRASHES, `no port handed out twice: ${all.join(', ')}`);
      assert.strictEqual(ledger.entries().length, CRASHES);
      // Before the threshold nothing is reclaimed; past it, exactly the killed reservers' ports.
      assert.deepStrictEqual(await cleanupStaleLedgerEntries(ledger, nodeOs, { olderThanMs: 60 * 60_000 }), []);
      const released = await cleanupStaleLedgerEntries(ledger, nodeOs, { olderThanMs: 0 });
      assert.deepStrictEqual(released.map((a) => a.port).sort(), [...killed].sort(), 'every killed reserver reclaimed');
      assert.deepStrictEqual(ledger.entries().map((e) => e.port).sort(), live.map((l) => l.port).sort(), 'every live one kept');
      for (const l of live) assert.strictEqual(ledger.get(l.port)?.pid, l.pid);
      assert.deepStrictEqual(new Ledger({ home }).entries().length, live.length);
      assert.deepStrictEqual(fs.readdirSync(ports()).filter((n) => n.startsWith('.')), [], 'no temp file leaked');
    });
  });

  /**
   * As root, runs the case in a child process of uid 65534 against a ledger it cannot fully read or write. The
   * child runs the bundled core from a world-readable temp folder (root's checkout may not be readable).
   */
  async function runAsNobody(ctx: Mocha.Context, scenario: 'unreadable' | 'unwritable'): Promise<void> {
    ctx.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-nobody-'));
    try {
      fs.chmodSync(dir, 0o755);
      const esbuild = await import('esbuild');
      await esbuild.build({
        entryPoints: [path.join(__dirname, '../../../src/core/index.ts')],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        outfile: path.join(dir, 'core.js'),
        logLevel: 'silent',
      });
      const nobodyHome = path.join(dir, 'home');
      fs.mkdirSync(path.join(nobodyHome, 'ports'), { recursive: true });
      fs.mkdirSync(path.join(nobodyHome, 'projects'), { recursive: true });
      const rootEntry = path.join(nobodyHome, 'ports', '47000.json');
      fs.writeFileSync(rootEntry, JSON.stringify({ version: 1, projectId: '/root/project', port: 47000, allocatedAt: 1 }), { mode: 0o600 });
      if (scenario === 'unreadable') {
        // Everything but the root-owned entry belongs to the child's user.
        spawnSync('chown', ['-R', '65534:65534', nobodyHome]);
        fs.chownSync(rootEntry, 0, 0);
      }
      for (const d of [dir, nobodyHome, path.join(nobodyHome, 'ports'), path.join(nobodyHome, 'projects')]) fs.chmodSync(d, 0o755);
      const script = `
        const core = require(${JSON.stringify(path.join(dir, 'core.js'))});
        const ledger = new core.Ledger({ home: ${JSON.stringify(nobodyHome)} });
        const allocator = new core.PortAllocator({ store: core.createMemoryStore(), ledger, os: core.nodeOs, range: () => ({ start: 47000, end: 47010 }) });
        allocator.allocate('/nobody/web').then(
          (a) => console.log(JSON.stringify({ port: a.port, held: ledger.get(47000) })),
          (e) => console.log(JSON.stringify({ error: e.message, code: e.code })),
        );`;
      const child = spawn(process.execPath, ['-e', script], { uid: 65534, gid: 65534, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = JSON.parse((await outputOf(child)).trim()) as { port?: number; held?: LedgerEntry; error?: string; code?: string };
      if (scenario === 'unreadable') {
        assert.ok(out.port !== undefined && out.port !== 47000, JSON.stringify(out));
        assert.deepStrictEqual([out.held?.projectId, out.held?.foreign], [UNREADABLE_PROJECT, 'unreadable']);
      } else {
        assert.strictEqual(out.code, 'LEDGER', JSON.stringify(out));
        assert.match(out.error ?? '', /Cannot (create the ledger lock|write to the port ledger).*EACCES/);
        assert.deepStrictEqual(fs.readdirSync(path.join(nobodyHome, 'ports')), ['47000.json'], 'nothing changed');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});
