import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Ledger, type LedgerEntry } from '../../../src/core/ledger';
import { LedgerError } from '../../../src/core/errors';
import { Children, ManualClock, RecordingLogger, TempDirs, deadPid, outputOf } from './helpers/testUtils';

const WORKER = path.join(__dirname, 'helpers', 'ledgerWorker.js');

describe('Ledger', () => {
  const temp = new TempDirs();
  const children = new Children();
  let home: string;
  let logger: RecordingLogger;
  let clock: ManualClock;
  let ledger: Ledger;

  beforeEach(() => {
    home = path.join(temp.make(), 'home');
    logger = new RecordingLogger();
    clock = new ManualClock();
    ledger = new Ledger({ home, logger, clock });
  });

  afterEach(async () => {
    await children.killAll();
    temp.removeAll();
  });

  const entry = (projectId: string, port: number, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({
    projectId,
    port,
    allocatedAt: clock.now(),
    ...extra,
  });
  const portFile = (port: number) => path.join(home, 'ports', `${port}.json`);

  describe('claims', () => {
    it('creates its home folder readable only by the user', () => {
      assert.strictEqual(fs.statSync(home).mode & 0o777, 0o700);
      assert.strictEqual(fs.statSync(path.join(home, 'ports')).mode & 0o777, 0o700);
    });

    it('writes one file per reserved port in the documented format', () => {
      assert.strictEqual(ledger.tryClaim(entry('/src/web', 3000, { owner: { pid: 42, kind: 'vscode' } })), true);
      assert.deepStrictEqual(JSON.parse(fs.readFileSync(portFile(3000), 'utf8')), {
        version: 1,
        projectId: '/src/web',
        port: 3000,
        allocatedAt: clock.now(),
        owner: { pid: 42, kind: 'vscode' },
      });
    });

    it('refuses a port that another project holds', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      assert.strictEqual(ledger.tryClaim(entry('/src/api', 3000)), false);
      assert.strictEqual(ledger.get(3000)?.projectId, '/src/web');
    });

    it('accepts a second claim of the same project and records its new pid', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      assert.strictEqual(ledger.tryClaim(entry('/src/web', 3000, { pid: 777 })), true);
      assert.strictEqual(ledger.get(3000)?.pid, 777);
    });

    it('leaves no temp files behind after claims', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      ledger.tryClaim(entry('/src/api', 3000));
      ledger.tryClaim(entry('/src/web', 3000, { pid: 5 }));
      assert.deepStrictEqual(fs.readdirSync(path.join(home, 'ports')), ['3000.json']);
    });

    it('finds the entry of a project', () => {
      ledger.tryClaim(entry('/src/web', 3001));
      ledger.tryClaim(entry('/src/api', 3002));
      assert.strictEqual(ledger.findByProject('/src/api')?.port, 3002);
      assert.strictEqual(ledger.findByProject('/src/none'), undefined);
    });

    it('rejects an invalid port before touching the disk', () => {
      assert.throws(() => ledger.tryClaim(entry('/src/web', 70000)), /Port must be an integer from 1 to 65535/);
      assert.deepStrictEqual(fs.readdirSync(path.join(home, 'ports')), []);
    });
    it('counts as held only files named <port>.json, in plain decimal from 1 to 65535', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      const dir = path.join(home, 'ports');
      const odd = ['1e3.json', '01000.json', ' 1001.json', '1002 .json', '1.0.json', '65536.json', '0.json', '-5.json', '+7.json', '0x10.json', '.3001.json.tmp-1-x', '3002.json.corrupt-1', '3003.jsonx', 'notes.txt'];
      for (const name of odd) fs.writeFileSync(path.join(dir, name), '{}');
      fs.writeFileSync(path.join(dir, '65535.json'), '{}');
      fs.writeFileSync(path.join(dir, '1.json'), '{}');
      assert.deepStrictEqual([...ledger.heldPorts()].sort((a, b) => a - b), [1, 3000, 65535]);
      const view = ledger.heldPortsView();
      assert.deepStrictEqual([1, 16, 1000, 1001, 1002, 3000, 3001, 3002, 65535].filter((p) => view.has(p)), [1, 3000, 65535]);
    });

    it('leaves the project\'s own port out of the held view, and sees claims made after the view was taken', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      const view = ledger.heldPortsView('/src/web');
      assert.strictEqual(view.has(3000), false);
      ledger.tryClaim(entry('/src/api', 3001));
      assert.strictEqual(view.has(3001), true);
      assert.strictEqual(ledger.heldPortsView().has(3000), true);
      const copy = ledger.heldPorts();
      copy.add(4000);
      assert.strictEqual(ledger.heldPorts().has(4000), false);
    });
  });

  describe('entries cache', () => {
    const portsDir = () => path.join(home, 'ports');
    /** Moves the folder's mtime back by `seconds`, as if its last change were that long ago (past the settle window). */
    const ageFolder = (seconds: number) => {
      const then = new Date(Date.now() - seconds * 1000);
      fs.utimesSync(portsDir(), then, then);
    };
    const otherProcess = (code: string) =>
      execFileSync(process.execPath, ['-r', path.resolve(__dirname, '../../register.js'), '-e', code, path.resolve(__dirname, '../../../src/core/ledger.ts'), home], { timeout: 15000 });
    const countReads = (l: Ledger) => {
      const box = { reads: 0 };
      const target = l as unknown as { read: (port: number) => unknown };
      const original = target.read.bind(l);
      target.read = (port: number) => {
        box.reads++;
        return original(port);
      };
      return box;
    };

    it('does not read the entries again while the folder is unchanged', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      ledger.tryClaim(entry('/src/api', 3001));
      ageFolder(5);
      const reads = countReads(ledger);
      assert.strictEqual(ledger.entries().length, 2);
      assert.strictEqual(reads.reads, 2);
      assert.deepStrictEqual(ledger.entries().map((e) => e.projectId), ['/src/web', '/src/api']);
      assert.strictEqual(reads.reads, 2);
    });

    it('sees an entry that another process adds or removes on the next call', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      ageFolder(5);
      assert.deepStrictEqual(ledger.entries().map((e) => e.port), [3000]);
      const script = (body: string) => `const { Ledger } = require(process.argv[1]); const l = new Ledger({ home: process.argv[2] }); ${body}`;
      otherProcess(script(`l.tryClaim({ projectId: '/src/api', port: 3001, allocatedAt: 1 });`));
      assert.deepStrictEqual(ledger.entries().map((e) => e.port), [3000, 3001]);
      // The same once the change is older than the settle window: the mtime moved, so the parse is redone.
      otherProcess(script(`l.release(3000);`));
      ageFolder(3);
      assert.deepStrictEqual(ledger.entries().map((e) => e.port), [3001]);
      otherProcess(script(`l.update({ projectId: '/src/api', port: 3001, allocatedAt: 1, pid: 4242 });`));
      ageFolder(1);
      assert.strictEqual(ledger.entries()[0]?.pid, 4242);
    });

    it('re-reads an entry edited in place (no folder change) once the cache is 30 s old', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      ageFolder(5);
      assert.strictEqual(ledger.entries()[0]?.projectId, '/src/web');
      fs.writeFileSync(portFile(3000), JSON.stringify({ version: 1, projectId: '/src/edited', port: 3000, allocatedAt: 1 }));
      assert.strictEqual(ledger.entries()[0]?.projectId, '/src/web');
      clock.advance(30_000);
      assert.strictEqual(ledger.entries()[0]?.projectId, '/src/edited');
    });

    it('hands out copies, so a caller cannot change what the next caller sees', () => {
      ledger.tryClaim(entry('/src/web', 3000, { owner: { pid: 42, kind: 'cli' } }));
      ageFolder(5);
      const first = ledger.entries();
      first[0]!.projectId = '/changed';
      first[0]!.owner!.pid = 1;
      first.pop();
      assert.deepStrictEqual(ledger.entries(), [entry('/src/web', 3000, { owner: { pid: 42, kind: 'cli' } })]);
    });
  });

  describe('release and update', () => {
    it('releases only when the named project holds the port', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      assert.strictEqual(ledger.release(3000, '/src/api'), false);
      assert.strictEqual(ledger.get(3000)?.projectId, '/src/web');
      assert.strictEqual(ledger.release(3000, '/src/web'), true);
      assert.strictEqual(ledger.get(3000), undefined);
    });

    it('says false when releasing a port nobody holds', () => {
      assert.strictEqual(ledger.release(3000), false);
    });

    it('updates its own entry atomically', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      ledger.update(entry('/src/web', 3000, { pid: 1234 }));
      assert.strictEqual(ledger.get(3000)?.pid, 1234);
    });

    it('refuses to update an entry of another project', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      assert.throws(() => ledger.update(entry('/src/api', 3000)), LedgerError);
      assert.strictEqual(ledger.get(3000)?.projectId, '/src/web');
    });
  });

  describe('damaged files', () => {
    function plant(name: string, content: string) {
      fs.writeFileSync(path.join(home, 'ports', name), content);
    }

    it('skips and logs corrupted, truncated, empty and foreign files without losing valid entries', () => {
      ledger.tryClaim(entry('/src/web', 3000));
      plant('3001.json', '{"version":1,"projectId":"/src/api","po');
      plant('3002.json', '');
      plant('3003.json', 'garbage');
      plant('3004.json', JSON.stringify({ version: 1, projectId: '/src/x', port: 4000, allocatedAt: 1 }));
      plant('3005.json', JSON.stringify({ version: 1, projectId: 42, port: 3005, allocatedAt: 1 }));
      plant('3006.json', JSON.stringify({ version: 1, projectId: '/src/y', port: 3006, allocatedAt: 'yesterday' }));
      plant('notes.txt', 'hello');
      fs.mkdirSync(path.join(home, 'ports', '3007.json'));

      assert.deepStrictEqual(
        ledger.entries().map((e) => e.projectId),
        ['/src/web'],
      );
      const warnings = logger.warnings().join('\n');
      for (const name of ['3001.json', '3002.json', '3003.json', '3004.json', '3005.json', '3006.json', 'notes.txt', '3007.json']) {
        assert.match(warnings, new RegExp(name.replace('.', '\\.')), `no warning about ${name}`);
      }
    });

    it('reports a damaged file once, not on every read', () => {
      plant('3003.json', 'garbage');
      ledger.entries();
      ledger.entries();
      assert.strictEqual(logger.warnings().filter((w) => w.includes('3003.json')).length, 1);
    });

    it('moves a corrupted file that blocks a claim aside and claims the port', () => {
      plant('3000.json', '{"trunc');
      assert.strictEqual(ledger.tryClaim(entry('/src/web', 3000)), true);
      assert.strictEqual(ledger.get(3000)?.projectId, '/src/web');
      const aside = `3000.json.corrupt-${clock.now()}`;
      assert.strictEqual(fs.readFileSync(path.join(home, 'ports', aside), 'utf8'), '{"trunc');
      assert.ok(logger.warnings().some((w) => w.includes(aside)));
      assert.deepStrictEqual(ledger.entries().map((e) => e.port), [3000]);
    });
  });

  describe('orphans', () => {
    it('calls an entry orphaned only when its owner and its dev server are both gone', () => {
      const alive = new Set([10, 20]);
      const l = new Ledger({ home, isProcessAlive: (pid) => alive.has(pid) });
      assert.strictEqual(l.isOrphaned(entry('a', 1, { owner: { pid: 99, kind: 'vscode' } })), true);
      assert.strictEqual(l.isOrphaned(entry('a', 1, { owner: { pid: 99, kind: 'vscode' }, pid: 98 })), true);
      assert.strictEqual(l.isOrphaned(entry('a', 1, { owner: { pid: 10, kind: 'vscode' } })), false);
      assert.strictEqual(l.isOrphaned(entry('a', 1, { owner: { pid: 99, kind: 'vscode' }, pid: 20 })), false);
    });

    it('never calls a CLI reservation (no owner) orphaned', () => {
      const l = new Ledger({ home, isProcessAlive: () => false });
      assert.strictEqual(l.isOrphaned(entry('web', 3000)), false);
    });
  });

  describe('lock', () => {
    const lockFile = () => path.join(home, 'ledger.lock');

    it('holds the lock file while fn runs and removes it afterwards', () => {
      const inside = ledger.withLock(() => JSON.parse(fs.readFileSync(lockFile(), 'utf8')) as { pid: number });
      assert.strictEqual(inside.pid, process.pid);
      assert.strictEqual(fs.existsSync(lockFile()), false);
    });

    it('releases the lock when fn throws', () => {
      assert.throws(() => ledger.withLock(() => { throw new Error('boom'); }), /boom/);
      assert.strictEqual(fs.existsSync(lockFile()), false);
    });

    it('is re-entrant within one process', () => {
      assert.strictEqual(ledger.withLock(() => ledger.withLock(() => 7)), 7);
      assert.strictEqual(fs.existsSync(lockFile()), false);
    });

    it('breaks a lock whose holder process is dead', async () => {
      const pid = await deadPid();
      fs.writeFileSync(lockFile(), JSON.stringify({ pid, time: Date.now() }));
      assert.strictEqual(ledger.withLock(() => 'ran'), 'ran');
      assert.ok(logger.warnings().some((w) => w.includes(`Broke the ledger lock of PID ${pid}`)));
      assert.strictEqual(fs.existsSync(lockFile()), false);
    });

    it('breaks a lock older than 2 s even when its holder lives', () => {
      fs.writeFileSync(lockFile(), JSON.stringify({ pid: process.ppid, time: Date.now() - 2_500 }));
      assert.strictEqual(ledger.withLock(() => 'ran'), 'ran');
      assert.ok(logger.warnings().some((w) => w.includes('older than 2 s')));
    });

    it('breaks an empty lock file left by a crash once it is half a second old', () => {
      fs.writeFileSync(lockFile(), '');
      const past = new Date(Date.now() - 1_000);
      fs.utimesSync(lockFile(), past, past);
      assert.strictEqual(ledger.withLock(() => 'ran'), 'ran');
      assert.ok(logger.warnings().some((w) => w.includes('older than 0.5 s')));
    });

    it('waits for a live holder instead of breaking its lock', async () => {
      // A sibling process holds the lock for a moment; our withLock must run only after it let go.
      const script = `
        require(${JSON.stringify(path.join(__dirname, '../../register.js'))});
        const { Ledger } = require(${JSON.stringify(path.join(__dirname, '../../../src/core/ledger.ts'))});
        const l = new Ledger({ home: ${JSON.stringify(home)} });
        l.withLock(() => {
          process.stdout.write('locked\\n');
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
          l.tryClaim({ projectId: 'holder', port: 3000, allocatedAt: Date.now() });
        });`;
      const child = children.spawn(process.execPath, ['-e', script]);
      const done = outputOf(child);
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      const seen = ledger.withLock(() => ledger.get(3000)?.projectId);
      await done;
      assert.strictEqual(seen, 'holder');
      assert.ok(!logger.warnings().some((w) => w.includes('Broke')));
    });
  });

  describe('home', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const key of ['DEV_PORTS_HOME', 'XDG_STATE_HOME']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    });

    it('lives in DEV_PORTS_HOME when it is set', () => {
      const custom = path.join(temp.make(), 'custom');
      process.env.DEV_PORTS_HOME = custom;
      const l = new Ledger();
      assert.strictEqual(l.home, custom);
      l.tryClaim(entry('/src/web', 3000));
      assert.ok(fs.existsSync(path.join(custom, 'ports', '3000.json')));
    });

    it('defaults to the platform per-user state folder', () => {
      const home = os.homedir();
      assert.strictEqual(Ledger.defaultHome({}, 'linux'), path.join(home, '.local', 'state', 'dev-ports'));
      assert.strictEqual(Ledger.defaultHome({ XDG_STATE_HOME: '/xdg/state' }, 'linux'), '/xdg/state/dev-ports');
      assert.strictEqual(Ledger.defaultHome({}, 'darwin'), path.join(home, 'Library', 'Application Support', 'dev-ports'));
      assert.strictEqual(Ledger.defaultHome({ LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' }, 'win32'), 'C:\\Users\\me\\AppData\\Local\\dev-ports');
    });
  });

  describe('across processes', () => {
    async function runWorkers(mode: string, projectsPerWorker: string[][], range: [number, number]) {
      const startAt = Date.now() + 1500;
      const outputs = await Promise.all(
        projectsPerWorker.map((ids) =>
          outputOf(children.spawn(process.execPath, [WORKER, home, mode, String(startAt), String(range[0]), String(range[1]), ids.join(',')])),
        ),
      );
      return outputs.map((o) => JSON.parse(o.trim()) as { projectId: string; port: number }[]);
    }

    it('never gives one port to two projects when 6 processes reserve at once', async () => {
      const workers = Array.from({ length: 6 }, (_, w) => Array.from({ length: 5 }, (_, i) => `/w${w}/p${i}`));
      const results = (await runWorkers('ledger', workers, [5000, 5099])).flat();
      const ports = results.map((r) => r.port);
      assert.ok(ports.every((p) => typeof p === 'number'));
      assert.strictEqual(new Set(ports).size, ports.length, `duplicate ports: ${ports.join(',')}`);
      assert.strictEqual(ledger.entries().length, 30);
    });

    it('gives the same project one port when 6 processes reserve for it at once', async () => {
      const shared = Array.from({ length: 12 }, (_, i) => `/shared/p${i}`);
      const workers = Array.from({ length: 6 }, () => shared);
      const results = (await runWorkers('ledger', workers, [5000, 5999])).flat();
      for (const projectId of shared) {
        const ports = new Set(results.filter((r) => r.projectId === projectId).map((r) => r.port));
        assert.strictEqual(ports.size, 1, `${projectId} got ports ${[...ports].join(', ')}`);
      }
      assert.strictEqual(new Set(results.map((r) => r.port)).size, shared.length);
      assert.strictEqual(ledger.entries().length, shared.length);
    });

    it('lets exactly one of 6 processes win each port by link() alone, without the lock', async () => {
      const workers = Array.from({ length: 6 }, (_, w) => [`/raw/${w}`]);
      const results = (await runWorkers('raw', workers, [6000, 6019])).flat();
      const ports = results.map((r) => r.port).sort((a, b) => a - b);
      assert.deepStrictEqual(ports, Array.from({ length: 20 }, (_, i) => 6000 + i));
      for (const r of results) assert.strictEqual(ledger.get(r.port)?.projectId, r.projectId);
    });
  });
});
