/**
 * `dev-ports run` and `dev-ports port` through the real bundled CLI as a subprocess, with a fake `vite` on PATH
 * (a node script that prints its argv and PORT, listens on the port it was given and reports signals), and a
 * throw-away DEV_PORTS_HOME per test.
 */
import * as assert from 'assert';
import { execFile, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Ledger } from '../../src/core/ledger';
import { freePort, isGone, waitUntil } from './helpers';

const ROOT = path.resolve(__dirname, '../..');

const FAKE_VITE = `#!/usr/bin/env node
// A stand-in for vite: prints what it was given, listens on --port (else PORT) on 127.0.0.1, reports signals.
const net = require('net');
const argv = process.argv.slice(2);
const i = argv.indexOf('--port');
const port = Number(i >= 0 ? argv[i + 1] : process.env.PORT);
console.log(JSON.stringify({ argv, PORT: process.env.PORT, pid: process.pid }));
process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); });
process.on('SIGHUP', () => { console.log('got SIGHUP'); process.exit(3); });
net.createServer().listen(port, '127.0.0.1', () => console.log('listening ' + port));
`;

let buildDir = '';
let cliPath = '';
let tmp = '';
let home = '';
let project = '';
let binDir = '';
const spawned: ChildProcess[] = [];

interface Result {
  code: number | null;
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function env(): NodeJS.ProcessEnv {
  return { ...process.env, DEV_PORTS_HOME: home, PATH: `${binDir}${path.delimiter}${process.env.PATH}` };
}

function cli(args: string[], cwd = project, extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cliPath, ...args], { env: { ...env(), ...extraEnv }, cwd, timeout: 15_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

/** Starts `dev-ports run …` and collects its output; `lines` resolves once stdout has a line matching `re`. */
function startRun(args: string[]) {
  const child = spawn(process.execPath, [cliPath, 'run', ...args], { env: env(), cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.push(child);
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
    for (const w of waiters.splice(0)) if (w.re.test(stdout)) w.resolve();
    else waiters.push(w);
  });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Result>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    done,
    output: () => stdout,
    until: (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(stdout)) return resolve();
        waiters.push({ re, resolve });
        void done.then((r) => reject(new Error(`run exited (${r.code ?? r.signal}) before printing ${re}: ${r.stdout}\n${r.stderr}`)));
      }),
  };
}

function firstJson(stdout: string): { argv: string[]; PORT: string; pid: number } {
  return JSON.parse(stdout.split('\n').find((l) => l.startsWith('{'))!);
}

async function allocations(): Promise<{ projectId: string; port: number }[]> {
  return JSON.parse((await cli(['allocations', '--json'])).stdout);
}

describe('dev-ports run and port (subprocess)', () => {
  before(async function () {
    this.timeout(60_000);
    buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-run-build-'));
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
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-run-'));
    home = path.join(tmp, 'home');
    project = path.join(tmp, 'web');
    binDir = path.join(tmp, 'bin');
    fs.mkdirSync(project);
    fs.mkdirSync(binDir);
    fs.writeFileSync(path.join(binDir, 'vite'), FAKE_VITE, { mode: 0o755 });
  });

  afterEach(() => {
    for (const child of spawned.splice(0)) {
      // The fake vite runs in its own group (no terminal): end it by the PID it printed, then run itself.
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function range(): Promise<string> {
    const start = await freePort();
    return `${start}-${Math.min(start + 50, 65535)}`;
  }

  function killFake(stdout: string): void {
    try {
      process.kill(firstJson(stdout).pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }

  it('runs a known dev server with PORT and its port flags, and dev-ports port prints that port meanwhile', async () => {
    const run = startRun(['--range', await range(), '--', 'vite', '--host', '127.0.0.1']);
    try {
      await run.until(/listening \d+/);
      const seen = firstJson(run.output());
      const port = Number(seen.PORT);
      assert.deepStrictEqual(seen.argv, ['--host', '127.0.0.1', '--port', String(port), '--strictPort']);
      const printed = await cli(['port']);
      assert.strictEqual(printed.code, 0, printed.stderr);
      assert.strictEqual(printed.stdout, `${port}\n`);
      const json = await cli(['port', project, '--json']);
      assert.deepStrictEqual(JSON.parse(json.stdout), { projectId: project, port });
      // From a folder inside the project, and by the folder's name from elsewhere.
      fs.mkdirSync(path.join(project, 'src'));
      assert.strictEqual((await cli(['port'], path.join(project, 'src'))).stdout, `${port}\n`);
      assert.strictEqual((await cli(['port', 'web'], tmp)).stdout, `${port}\n`);
      assert.deepStrictEqual(await allocations().then((a) => a.map((x) => [x.projectId, x.port])), [[project, port]]);
    } finally {
      killFake(run.output());
    }
  });

  it('passes the exit code of the command on and releases the port', async () => {
    const run = startRun(['--range', await range(), '--', process.execPath, '-e', 'console.log(process.env.PORT); process.exit(7)']);
    const result = await run.done;
    assert.strictEqual(result.code, 7, result.stderr);
    assert.match(result.stdout, /^\d+\n$/);
    assert.deepStrictEqual(await allocations(), []);
    const none = await cli(['port']);
    assert.strictEqual(none.code, 1);
    assert.match(none.stderr, /^dev-ports: No port is reserved for .*\.\n$/);
  });

  it('passes SIGTERM on to the command and exits with its code once it ended, port released', async () => {
    const run = startRun(['--range', await range(), '--', 'vite']);
    await run.until(/listening \d+/);
    run.child.kill('SIGTERM');
    const result = await run.done;
    assert.match(result.stdout, /got SIGTERM/);
    assert.strictEqual(result.code, 0, result.stderr);
    assert.deepStrictEqual(await allocations(), []);
  });

  it('passes SIGHUP on as well', async () => {
    const run = startRun(['--range', await range(), '--', 'vite']);
    await run.until(/listening \d+/);
    run.child.kill('SIGHUP');
    const result = await run.done;
    assert.match(result.stdout, /got SIGHUP/);
    assert.strictEqual(result.code, 3);
  });

  it('exits 128 + the signal when SIGINT ends the command, and releases the port', async () => {
    const run = startRun(['--range', await range(), '--', 'vite']);
    await run.until(/listening \d+/);
    const pid = firstJson(run.output()).pid;
    run.child.kill('SIGINT');
    const result = await run.done;
    assert.strictEqual(result.code, 130, result.stderr);
    await waitUntil(() => isGone(pid));
    assert.deepStrictEqual(await allocations(), []);
  });

  it('releases the port when the command is killed from outside, exiting 137', async () => {
    const run = startRun(['--range', await range(), '--', 'vite']);
    await run.until(/listening \d+/);
    process.kill(firstJson(run.output()).pid, 'SIGKILL');
    const result = await run.done;
    assert.strictEqual(result.code, 137);
    assert.deepStrictEqual(await allocations(), []);
  });

  it('gives the same project the port it reserved before and keeps that reservation afterwards', async () => {
    const port = await freePort();
    const reserved = await cli(['reserve', '.', '--port', String(port)]);
    assert.strictEqual(reserved.stdout, `${port}\n`, reserved.stderr);
    const run = startRun(['--', process.execPath, '-e', 'console.log(process.env.PORT)']);
    const result = await run.done;
    assert.strictEqual(result.code, 0, result.stderr);
    assert.strictEqual(result.stdout, `${port}\n`);
    assert.deepStrictEqual((await allocations()).map((a) => a.port), [port]);
  });

  it('uses the port of a Dev Ports host that started it with PORT (dev script "dev-ports run -- vite") and leaves the reservation to the host', async () => {
    const port = await freePort();
    // This test process stands in for the host (a VS Code window): alive, owner of the project's reservation.
    assert.ok(new Ledger({ home }).tryClaim({ projectId: project, port, allocatedAt: Date.now(), owner: { pid: process.pid, kind: 'vscode' } }));
    const hosted = await cli(['run', '--', process.execPath, '-e', 'console.log(process.env.PORT)'], project, { PORT: String(port) });
    assert.strictEqual(hosted.code, 0, hosted.stderr);
    assert.strictEqual(hosted.stdout, `${port}\n`);
    assert.deepStrictEqual((await allocations()).map((a) => a.port), [port]);
    // Without that PORT it is a second server for a project that already runs: refused, nothing started.
    const second = await cli(['run', '--', process.execPath, '-e', 'console.log("ran")'], project, { PORT: '' });
    assert.strictEqual(second.code, 1);
    assert.match(second.stderr, /already runs on port \d+ from a VS Code window/);
    assert.strictEqual(second.stdout, '');
  });

  it('refuses bad input with exit 2 and one sentence, running nothing', async () => {
    for (const args of [['run'], ['run', '--port', '70000', '--', 'vite'], ['run', '--range', '5-1', '--', 'vite'], ['run', '--nope', '--', 'vite'], ['port', '--nope'], ['port', 'a', 'b']]) {
      const result = await cli(args);
      assert.strictEqual(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^dev-ports: [A-Z"-].*[.)]\n$/, args.join(' '));
      assert.strictEqual(result.stdout, '');
    }
    assert.deepStrictEqual(await allocations(), []);
  });

  it('exits 127 for a command that does not exist, and releases the port', async () => {
    const result = await cli(['run', '--', 'no-such-command-dev-ports']);
    assert.strictEqual(result.code, 127);
    assert.match(result.stderr, /no such command/);
    assert.deepStrictEqual(await allocations(), []);
  });

  it('shows its help with --help and dev-ports help run', async () => {
    assert.match((await cli(['run', '--help'])).stdout, /^Usage: dev-ports run /);
    assert.match((await cli(['help', 'port'])).stdout, /^Usage: dev-ports port /);
    assert.match((await cli(['--help'])).stdout, /\n {2}mcp {2,}/);
  });
});
