/**
 * The real `dev-ports` CLI, bundled with esbuild into a temp folder and run as a subprocess with its own
 * DEV_PORTS_HOME per test, against real listeners on 127.0.0.1.
 */
import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { version } from '../../package.json';
import { freePort, isGone, killSpawned, LISTEN, listeningPort, parentOf, start, startListener, waitUntil } from './helpers';

const ROOT = path.resolve(__dirname, '../..');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let buildDir = '';
let cliPath = '';
let home = '';

function cli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      { env: { ...process.env, DEV_PORTS_HOME: home, ...options.env }, cwd: options.cwd ?? home, timeout: 15_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

function assertOneSentence(stderr: string): void {
  const lines = stderr.trim().split('\n');
  assert.strictEqual(lines.length, 1, `one line on stderr, got: ${stderr}`);
  assert.match(lines[0], /^dev-ports: [A-Z"].*[.)]$/, lines[0]);
}

describe('dev-ports CLI (subprocess)', () => {
  before(async function () {
    this.timeout(60_000);
    buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-cli-build-'));
    cliPath = path.join(buildDir, 'cli.js');
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: [path.join(ROOT, 'src/cli/main.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: cliPath,
      logLevel: 'silent',
    });
  });

  after(() => {
    fs.rmSync(buildDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-cli-home-'));
  });

  afterEach(() => {
    killSpawned();
    fs.rmSync(home, { recursive: true, force: true });
  });

  describe('check', () => {
    it('exits 1 and names the listening pid in JSON for a port in use', async () => {
      const { child, port } = await startListener();
      const result = await cli(['check', String(port), '--json']);
      assert.strictEqual(result.code, 1, result.stderr);
      assert.deepStrictEqual(JSON.parse(result.stdout), { port, free: false, pids: [child.pid] });
    });

    it('names the holder with its pid and command in text', async () => {
      const { child, port } = await startListener();
      const result = await cli(['check', String(port)]);
      assert.strictEqual(result.code, 1);
      assert.match(result.stdout, new RegExp(`^Port ${port} is in use on 127\\.0\\.0\\.1 by node \\(PID ${child.pid}: .*listen\\.js`));
    });

    it('exits 0 for a free port', async () => {
      const port = await freePort();
      const result = await cli(['check', String(port), '--json']);
      assert.strictEqual(result.code, 0, result.stderr);
      assert.deepStrictEqual(JSON.parse(result.stdout), { port, free: true, pids: [] });
    });
  });

  describe('free', () => {
    it('stops a sh → node chain with --yes and exits 0 once the port is free', async () => {
      // `; echo` keeps sh from exec'ing node, so the chain really is two processes.
      const shell = start('sh', ['-c', `"$NODE" "$LISTEN"; echo stopped`], { NODE: process.execPath, LISTEN });
      const shellExited = new Promise((resolve) => shell.once('exit', resolve));
      const port = await listeningPort(shell);
      const node = (JSON.parse((await cli(['check', String(port), '--json'])).stdout) as { pids: number[] }).pids[0];
      assert.strictEqual(parentOf(node), shell.pid, 'sh → node');

      const result = await cli(['free', String(port), '--yes', '--json']);
      assert.strictEqual(result.code, 0, result.stderr);
      const body = JSON.parse(result.stdout) as { port: number; killedPids: number[]; free: boolean };
      assert.strictEqual(body.port, port);
      assert.strictEqual(body.free, true);
      assert.ok(body.killedPids.includes(node), `killed ${body.killedPids.join(', ')} includes node ${node}`);
      await shellExited;
      await waitUntil(() => isGone(node));
      assert.strictEqual((await cli(['check', String(port)])).code, 0);
    });

    it('refuses without --yes when there is no terminal, and leaves the process alone', async () => {
      const { child, port } = await startListener();
      const result = await cli(['free', String(port)]);
      assert.strictEqual(result.code, 1);
      assert.match(result.stderr, /pass --yes/);
      assert.match(result.stderr, new RegExp(`PID ${child.pid}`));
      assert.ok(!isGone(child.pid!), 'the listener still runs');
    });

    it('exits 0 at once for a port that is already free', async () => {
      const port = await freePort();
      const result = await cli(['free', String(port), '--json']);
      assert.strictEqual(result.code, 0, result.stderr);
      assert.deepStrictEqual(JSON.parse(result.stdout), { port, killedPids: [], free: true });
    });
  });

  describe('find', () => {
    it('prints just a free port of the range', async () => {
      const start = await freePort();
      const result = await cli(['find', '--range', `${start}-${Math.min(start + 20, 65535)}`]);
      assert.strictEqual(result.code, 0, result.stderr);
      assert.match(result.stdout, /^\d+\n$/);
      const port = Number(result.stdout);
      assert.ok(port >= start && port <= start + 20);
      assert.strictEqual((await cli(['check', String(port)])).code, 0);
    });

    it('skips a port in use', async () => {
      const { port } = await startListener();
      const result = await cli(['find', '--range', `${port}-${port}`, '--json']);
      assert.strictEqual(result.code, 1);
      assert.match(result.stderr, new RegExp(`No free port in ${port}-${port}`));
    });

    it('skips a port reserved in the ledger', async () => {
      const port = await freePort();
      assert.strictEqual((await cli(['reserve', 'web', '--port', String(port)])).code, 0);
      const result = await cli(['find', '--range', `${port}-${port}`]);
      assert.strictEqual(result.code, 1);
    });
  });

  describe('reserve, release, allocations', () => {
    it('gives the same project the same port twice', async () => {
      const first = await cli(['reserve', 'web']);
      const second = await cli(['reserve', 'web']);
      assert.strictEqual(first.code, 0, first.stderr);
      assert.match(first.stdout, /^\d+\n$/);
      assert.strictEqual(second.stdout, first.stdout);
    });

    it('gives two projects different ports', async () => {
      const web = await cli(['reserve', 'web']);
      const api = await cli(['reserve', 'api']);
      assert.notStrictEqual(Number(web.stdout), Number(api.stdout));
    });

    it('stores the project as the absolute path of the folder, marked as the CLI\'s', async () => {
      const result = await cli(['reserve', 'apps/web/', '--json'], { cwd: home });
      const allocation = JSON.parse(result.stdout) as { projectId: string; port: number; allocatedAt: number; pid?: number };
      assert.strictEqual(allocation.projectId, path.join(fs.realpathSync(home), 'apps', 'web'));
      assert.strictEqual(allocation.pid, undefined);
      assert.ok(Number.isInteger(allocation.port) && allocation.allocatedAt > 0);
      // Marked as the CLI's (for "allocations"); a CLI reservation is never orphaned: it outlives the CLI process.
      const file = JSON.parse(fs.readFileSync(path.join(home, 'ports', `${allocation.port}.json`), 'utf8')) as { owner?: { kind: string } };
      assert.strictEqual(file.owner?.kind, 'cli');
    });

    it('lists a reservation, releases it and lists nothing after', async () => {
      const port = Number((await cli(['reserve', 'web'])).stdout);
      const projectId = path.join(fs.realpathSync(home), 'web');
      const listed = JSON.parse((await cli(['allocations', '--json'])).stdout) as { projectId: string; port: number }[];
      assert.deepStrictEqual(
        listed.map((a) => [a.projectId, a.port]),
        [[projectId, port]],
      );
      const released = await cli(['release', 'web', '--json']);
      assert.strictEqual(released.code, 0, released.stderr);
      assert.deepStrictEqual(JSON.parse(released.stdout), { projectId, released: true });
      assert.deepStrictEqual(JSON.parse((await cli(['allocations', '--json'])).stdout), []);
      assert.strictEqual((await cli(['allocations'])).stdout, 'No port is reserved.\n');
    });

    it('says released: false for a project without a reservation', async () => {
      const result = await cli(['release', 'nothing-here', '--json']);
      assert.strictEqual(result.code, 0);
      assert.strictEqual((JSON.parse(result.stdout) as { released: boolean }).released, false);
    });

    it('refuses a --port reserved by another project with exit 1 and the way out', async () => {
      const port = await freePort();
      await cli(['reserve', 'web', '--port', String(port)]);
      const result = await cli(['reserve', 'api', '--port', String(port)]);
      assert.strictEqual(result.code, 1);
      assert.strictEqual(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /reserved for .*web.*dev-ports release/);
    });

    it('refuses a --port in use with exit 1, naming the holder', async () => {
      const { child, port } = await startListener();
      const result = await cli(['reserve', 'web', '--port', String(port)]);
      assert.strictEqual(result.code, 1);
      assert.match(result.stderr, new RegExp(`Port ${port} is in use by node \\(PID ${child.pid}`));
    });

    it('gives 8 projects reserving at the same time 8 different ports', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => cli(['reserve', `project-${i}`, '--range', '41000-41999'])));
      for (const r of results) assert.strictEqual(r.code, 0, r.stderr);
      const ports = results.map((r) => Number(r.stdout));
      assert.strictEqual(new Set(ports).size, 8, `ports: ${ports.join(', ')}`);
      const listed = JSON.parse((await cli(['allocations', '--json'])).stdout) as { port: number }[];
      assert.deepStrictEqual(listed.map((a) => a.port).sort(), [...ports].sort());
    });
  });

  describe('cleanup', () => {
    it('releases a reservation whose port is free and keeps one whose port is listening', async () => {
      const idle = await freePort();
      assert.strictEqual((await cli(['reserve', 'idle', '--port', String(idle)])).code, 0);
      // Like `PORT=$(dev-ports reserve busy) npm run dev`: reserve first, then the server binds the port.
      const busy = Number((await cli(['reserve', 'busy', '--port', String(await freePort())])).stdout);
      await startListener(busy);

      const result = await cli(['cleanup', '--older-than', '0', '--json']);
      assert.strictEqual(result.code, 0, result.stderr);
      const released = (JSON.parse(result.stdout) as { released: { port: number }[] }).released.map((a) => a.port);
      assert.deepStrictEqual(released, [idle]);
      const left = (JSON.parse((await cli(['allocations', '--json'])).stdout) as { port: number }[]).map((a) => a.port);
      assert.deepStrictEqual(left, [busy]);
    });

    it('keeps reservations younger than --older-than', async () => {
      await cli(['reserve', 'web']);
      const result = await cli(['cleanup', '--json']);
      assert.deepStrictEqual(JSON.parse(result.stdout), { released: [] });
      assert.strictEqual((JSON.parse((await cli(['allocations', '--json'])).stdout) as unknown[]).length, 1);
    });
  });

  describe('list', () => {
    it('shows a listener with its pid, command and reservation in JSON', async () => {
      const reserved = await cli(['reserve', 'web', '--port', String(await freePort())]);
      const { child, port } = await startListener(Number(reserved.stdout));
      const result = await cli(['list', '--json']);
      assert.strictEqual(result.code, 0, result.stderr);
      const rows = JSON.parse(result.stdout) as {
        port: number;
        address: string;
        pids: number[];
        processes: { pid: number; command: string; cwd?: string }[];
        allocation?: { projectId: string; port: number };
      }[];
      const row = rows.find((r) => r.port === port);
      assert.ok(row, `port ${port} is listed`);
      assert.strictEqual(row.address, '127.0.0.1');
      assert.deepStrictEqual(row.pids, [child.pid]);
      assert.strictEqual(row.processes[0].pid, child.pid);
      assert.match(row.processes[0].command, /listen\.js/);
      assert.strictEqual(row.processes[0].cwd, process.cwd());
      assert.deepStrictEqual(row.allocation && [row.allocation.projectId, row.allocation.port], [path.join(fs.realpathSync(home), 'web'), port]);
    });

    it('prints an aligned table with the header PORT ADDRESS PID USER COMMAND PROJECT', async () => {
      const { child, port } = await startListener();
      const result = await cli(['list']);
      const lines = result.stdout.split('\n');
      assert.match(lines[0], /^PORT\s+ADDRESS\s+PID\s+USER\s+COMMAND\s+PROJECT$/);
      const line = lines.find((l) => l.startsWith(`${port} `));
      assert.ok(line, `a row for ${port}`);
      assert.match(line, new RegExp(`^${port}\\s+127\\.0\\.0\\.1\\s+${child.pid}\\s+\\S+\\s+\\S*node .*listen\\.js`));
      assert.strictEqual(line.indexOf(String(child.pid)), lines[0].indexOf('PID'));
    });
  });

  describe('bad input', () => {
    const cases: [string, string[]][] = [
      ['port 0', ['check', '0']],
      ['port 70000', ['check', '70000']],
      ['a port that is not a number', ['check', 'abc']],
      ['an inverted range', ['find', '--range', '4000-3000']],
      ['a malformed range', ['find', '--range', '4000:5000']],
      ['an unknown flag', ['--bogus']],
      ['an unknown flag of a command', ['list', '--bogus']],
      ['an unknown command', ['launch']],
      ['a missing port', ['free']],
      ['a missing project', ['reserve']],
    ];
    for (const [what, args] of cases) {
      it(`exits 2 with one sentence on stderr for ${what} (${args.join(' ')})`, async () => {
        const result = await cli(args);
        assert.strictEqual(result.code, 2, `${result.stdout}${result.stderr}`);
        assert.strictEqual(result.stdout, '');
        assertOneSentence(result.stderr);
      });
    }
  });

  describe('help and version', () => {
    it('prints the overview for --help', async () => {
      const result = await cli(['--help']);
      assert.strictEqual(result.code, 0);
      assert.match(result.stdout, /Usage: dev-ports <command>/);
      for (const command of ['list', 'check', 'free', 'find', 'reserve', 'release', 'allocations', 'cleanup']) {
        assert.match(result.stdout, new RegExp(`\\n  ${command}\\b`));
      }
    });

    it('prints the help of a command for <command> --help', async () => {
      const result = await cli(['reserve', '--help']);
      assert.strictEqual(result.code, 0);
      assert.match(result.stdout, /^Usage: dev-ports reserve <project>/);
      assert.match(result.stdout, /absolute path/);
    });

    it('prints the package.json version for --version, also after a command', async () => {
      assert.deepStrictEqual(await cli(['--version']), { code: 0, stdout: `${version}\n`, stderr: '' });
      assert.deepStrictEqual(await cli(['check', '--version']), { code: 0, stdout: `${version}\n`, stderr: '' });
    });
  });

  describe('errors of the core', () => {
    it('exits 1 with one line naming the remedy when the ledger folder cannot be created', async () => {
      const file = path.join(home, 'not-a-folder');
      fs.writeFileSync(file, '');
      const result = await cli(['allocations'], { env: { DEV_PORTS_HOME: file } });
      assert.strictEqual(result.code, 1);
      assert.strictEqual(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /Cannot create the port ledger folder.*DEV_PORTS_HOME/);
    });
  });
});
