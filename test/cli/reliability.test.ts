// The bundled CLI against bad input, hostile names and races: a clear one-sentence error and exit 2 with no change
// to the ledger, nothing from outside printed raw, one port per project, and race losers told what happened.
import * as assert from 'assert';
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LISTEN, freePort, isGone, killSpawned, listeningPort, startListener, waitUntil } from './helpers';

const ROOT = path.resolve(__dirname, '../..');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let buildDir = '';
let cliPath = '';
let home = '';

function cli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      { env: { ...process.env, DEV_PORTS_HOME: home, ...options.env }, cwd: options.cwd ?? home, timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/** Every file of the ledger folder with its content: "no state change" compares two of these. */
function snapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of ['ports', 'projects']) {
    const full = path.join(home, dir);
    if (!fs.existsSync(full)) continue;
    for (const name of fs.readdirSync(full)) out[`${dir}/${name}`] = fs.readFileSync(path.join(full, name), 'utf8');
  }
  return out;
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('dev-ports CLI reliability (subprocess)', () => {
  before(async function () {
    this.timeout(60_000);
    buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-cli-rel-'));
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

  after(() => fs.rmSync(buildDir, { recursive: true, force: true }));

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-cli-rel-home-'));
  });

  afterEach(() => {
    killSpawned();
    fs.rmSync(home, { recursive: true, force: true });
  });

  describe('bad input: exit 2, one sentence, no state change', () => {
    const cases: [string, string[]][] = [
      ['port 0', ['check', '0']],
      ['port 65536', ['check', '65536']],
      ['a negative port', ['check', '-1']],
      ['a fractional port', ['check', '3000.5']],
      ['a hexadecimal port', ['check', '0x10']],
      ['an exponent port', ['check', '3e3']],
      ['an empty port', ['check', '']],
      ['a port with spaces', ['check', ' 3000 ']],
      ['a port with a sign', ['check', '+3000']],
      ['all zeros', ['check', '0000000']],
      ['a port with a control character', ['check', '30\u001b[2J00']],
      ['two ports', ['check', '3000', '3001']],
      ['free without a port', ['free']],
      ['free with a bad timeout', ['free', '3000', '--timeout', 'soon']],
      ['free with a negative timeout', ['free', '3000', '--timeout', '-5']],
      ['an inverted range', ['reserve', 'web', '--range', '4000-3000']],
      ['a range with one end', ['reserve', 'web', '--range', '4000-']],
      ['a range of words', ['find', '--range', 'low-high']],
      ['a range past 65535', ['find', '--range', '65000-70000']],
      ['a range from 0', ['find', '--range', '0-100']],
      ['a range with a colon', ['find', '--range', '4000:5000']],
      ['reserve --port 0', ['reserve', 'web', '--port', '0']],
      ['reserve --port without a value', ['reserve', 'web', '--port']],
      ['reserve --port twice', ['reserve', 'web', '--port', '4000', '--port', '4001']],
      ['an empty project', ['reserve', '']],
      ['a blank project', ['reserve', '   ']],
      ['release without a project', ['release']],
      ['a value for a boolean flag', ['list', '--json=yes']],
      ['an unknown flag', ['allocations', '--all']],
      ['an unknown short flag', ['list', '-x']],
      ['an unknown command', ['rm', '3000']],
      ['an unknown command with control characters', ['\u001b]0;pwned\u0007']],
      ['cleanup with minutes in words', ['cleanup', '--older-than', 'five']],
      ['help of an unknown command', ['help', 'nothing']],
      ['a flag with control characters', ['list', '--\u001b[31mred']],
    ];
    for (const [what, args] of cases) {
      it(`refuses ${what}`, async () => {
        // A reservation that must survive every bad command unchanged.
        assert.strictEqual((await cli(['reserve', 'keep', '--range', '46000-46100'])).code, 0);
        const before = snapshot();
        const result = await cli(args);
        assert.strictEqual(result.code, 2, `${result.stdout}${result.stderr}`);
        assert.strictEqual(result.stdout, '');
        const lines = result.stderr.trim().split('\n');
        assert.strictEqual(lines.length, 1, result.stderr);
        assert.match(lines[0], /^dev-ports: [A-Z"-].*[.)]$/);
        assert.ok(!CONTROL.test(result.stderr), `control characters printed raw: ${JSON.stringify(result.stderr)}`);
        assert.deepStrictEqual(snapshot(), before, 'the ledger did not change');
      });
    }

    it('has at least 30 cases', () => assert.ok(cases.length >= 30));
  });

  describe('ports written with leading zeros', () => {
    it('reads 042000 and 0042000 as the same port 42000, in check and reserve', async () => {
      const a = await cli(['check', '042000', '--json']);
      const b = await cli(['check', '0042000', '--json']);
      assert.strictEqual(a.code, b.code);
      assert.strictEqual(JSON.parse(a.stdout).port, 42000);
      assert.deepStrictEqual(JSON.parse(a.stdout), JSON.parse(b.stdout));
      const port = await freePort();
      const r = await cli(['reserve', 'web', '--port', `000${port}`]);
      assert.strictEqual(r.stdout, `${port}\n`, r.stderr);
    });
  });

  describe('names from outside', () => {
    const hostile = ['a b', "it's", 'say "hi"', '$(touch pwned)', '`touch pwned`', 'x; touch pwned', 'evil\u001b[2Jname', 'new\nline', 'rtl\u202eexe'];

    it('stores hostile project names literally, never runs them, and escapes them in every human output', async () => {
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-cli-names-'));
      try {
        for (const name of hostile) {
          const r = await cli(['reserve', name, '--range', '46200-46299', '--json'], { cwd });
          assert.strictEqual(r.code, 0, r.stderr);
          assert.strictEqual((JSON.parse(r.stdout) as { projectId: string }).projectId, path.join(fs.realpathSync(cwd), name));
        }
        const allocations = await cli(['allocations']);
        assert.ok(!CONTROL.test(allocations.stdout), JSON.stringify(allocations.stdout));
        assert.match(allocations.stdout, /evil\\x1b\[2Jname/);
        assert.match(allocations.stdout, /new\\nline/);
        assert.match(allocations.stdout, /rtl\\u202eexe/);
        assert.strictEqual(allocations.stdout.trim().split('\n').length, hostile.length + 1, 'one line per reservation');
        for (const name of hostile) {
          const r = await cli(['release', name], { cwd });
          assert.strictEqual(r.code, 0);
          assert.ok(!CONTROL.test(r.stdout), JSON.stringify(r.stdout));
          assert.match(r.stdout, /^Released port \d+ of /);
        }
        assert.strictEqual(fs.existsSync(path.join(cwd, 'pwned')), false);
        assert.strictEqual(fs.existsSync(path.join(home, 'pwned')), false);
      } finally {
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    });

    it('escapes a listener\'s command line in list and check', async () => {
      const { child, port } = await startListener();
      // The fixture's command line is ours; a project id with escapes stands in for outside text next to it.
      fs.mkdirSync(path.join(home, 'ports'), { recursive: true });
      fs.writeFileSync(
        path.join(home, 'ports', `${port}.json`),
        JSON.stringify({ version: 1, projectId: '/p/\u001b]0;owned\u0007', port, allocatedAt: Date.now() }),
      );
      const list = await cli(['list']);
      assert.ok(!CONTROL.test(list.stdout), JSON.stringify(list.stdout));
      assert.match(list.stdout, new RegExp(`${port} .*${child.pid}`));
      const check = await cli(['check', String(port)]);
      assert.ok(!CONTROL.test(check.stdout));
    });
  });

  describe('free as root', () => {
    it('says whose process it stopped when it belongs to another user', async function () {
      if (process.getuid?.() !== 0) this.skip(); // only root can stop another user's process
      // The fixture is copied to a world-readable folder: root's checkout may not be readable by uid 65534.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-cli-other-'));
      fs.chmodSync(dir, 0o755);
      fs.copyFileSync(LISTEN, path.join(dir, 'listen.js'));
      const child = spawn(process.execPath, [path.join(dir, 'listen.js')], { uid: 65534, gid: 65534, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        const port = await listeningPort(child);
        const result = await cli(['free', String(port), '--yes']);
        assert.strictEqual(result.code, 0, result.stderr);
        assert.match(result.stdout, new RegExp(`^Stopped PID .*${child.pid}.* \\(a process of user (nobody|uid 65534)\\); port ${port} is free\\.\n$`));
        await waitUntil(() => isGone(child.pid!));
      } finally {
        if (!isGone(child.pid!)) process.kill(child.pid!, 'SIGKILL');
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('one project, one port', () => {
    it('gives a project its existing port and refuses a second one', async () => {
      const first = Number((await cli(['reserve', 'web', '--range', '46300-46399'])).stdout);
      assert.strictEqual(Number((await cli(['reserve', 'web'])).stdout), first, 'same port without a range');
      assert.strictEqual(Number((await cli(['reserve', 'web', '--range', '46500-46599'])).stdout), first, 'same port with another range');
      const before = snapshot();
      const other = await cli(['reserve', 'web', '--port', String(first + 1)]);
      assert.strictEqual(other.code, 1);
      assert.match(other.stderr, new RegExp(`already holds port ${first} .*one project gets one port.*dev-ports release web`));
      assert.deepStrictEqual(snapshot(), before);
      assert.strictEqual((await cli(['reserve', 'web', '--port', String(first)])).stdout, `${first}\n`);
    });

    it('keeps a VS Code window\'s reservation of the project, and says who made it', async () => {
      const port = await freePort();
      fs.mkdirSync(path.join(home, 'ports'), { recursive: true });
      const projectId = path.join(fs.realpathSync(home), 'web');
      fs.writeFileSync(
        path.join(home, 'ports', `${port}.json`),
        JSON.stringify({ version: 1, projectId, port, allocatedAt: Date.now(), owner: { pid: process.pid, kind: 'vscode' } }),
      );
      assert.strictEqual((await cli(['reserve', 'web'])).stdout, `${port}\n`);
      const table = (await cli(['allocations'])).stdout;
      assert.match(table, /BY/);
      assert.match(table, new RegExp(`${port} .*VS Code \\(PID ${process.pid}\\)`));
    });

    it('tells the losers of a race for one --port who won it', async function () {
      this.timeout(60_000);
      const port = await freePort();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => cli(['reserve', `racer-${i}`, '--port', String(port)])));
      const winners = results.filter((r) => r.code === 0);
      assert.strictEqual(winners.length, 1, results.map((r) => r.stderr).join(''));
      for (const r of results.filter((x) => x.code !== 0)) {
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /reserved for .*racer-\d/, r.stderr);
        assert.doesNotMatch(r.stderr, /another user/);
      }
    });
  });

  describe('the workspace range', () => {
    it('reserves in the devPorts.portRange of the nearest .vscode/settings.json (JSONC), unless --range says otherwise', async () => {
      const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-cli-ws-'));
      try {
        fs.mkdirSync(path.join(ws, '.vscode'));
        fs.mkdirSync(path.join(ws, 'apps', 'web'), { recursive: true });
        fs.writeFileSync(
          path.join(ws, '.vscode', 'settings.json'),
          '{\n  // Dev Ports\n  "devPorts.portRange.start": 46700, /* first */\n  "devPorts.portRange.end": 46799,\n}\n',
        );
        const port = Number((await cli(['reserve', 'apps/web'], { cwd: ws })).stdout);
        assert.ok(port >= 46700 && port <= 46799, `got ${port}`);
        const flagged = Number((await cli(['reserve', 'apps/api', '--range', '46800-46899'], { cwd: ws })).stdout);
        assert.ok(flagged >= 46800 && flagged <= 46899, `got ${flagged}`);
      } finally {
        fs.rmSync(ws, { recursive: true, force: true });
      }
    });
  });

  describe('damaged ledgers', () => {
    it('warns once on stderr about a corrupted entry and still lists and reserves', async () => {
      fs.mkdirSync(path.join(home, 'ports'), { recursive: true });
      fs.writeFileSync(path.join(home, 'ports', '46900.json'), '{"version":1,"proj');
      assert.strictEqual((await cli(['reserve', 'web', '--range', '46901-46950'])).code, 0);
      const listed = await cli(['allocations']);
      assert.strictEqual(listed.code, 0);
      assert.strictEqual(listed.stderr.split('\n').filter((l) => l.includes('46900.json')).length, 1, listed.stderr);
      assert.match(listed.stdout, /46901/);
    });

    it('reports a dangling <port>.json link as a link and cleanup removes it', async () => {
      fs.mkdirSync(path.join(home, 'ports'), { recursive: true });
      fs.symlinkSync(path.join(home, 'gone'), path.join(home, 'ports', '46950.json'));
      const listed = await cli(['allocations']);
      assert.match(listed.stderr, /46950\.json: it is a symbolic link to .*which does not exist/);
      const cleaned = await cli(['cleanup']);
      assert.strictEqual(cleaned.code, 0);
      assert.match(cleaned.stderr, /removed the ledger file of port 46950/);
      assert.strictEqual(fs.readdirSync(path.join(home, 'ports')).includes('46950.json'), false);
    });

    it('finishes reserve at once despite a dangling ledger.lock link', async () => {
      fs.symlinkSync(path.join(home, 'nowhere'), path.join(home, 'ledger.lock'));
      const t0 = Date.now();
      const r = await cli(['reserve', 'web', '--range', '46960-46970']);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.ok(Date.now() - t0 < 5000);
    });
  });
});
