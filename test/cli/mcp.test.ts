/**
 * `dev-ports mcp` driven over stdio with real JSON-RPC messages (initialize, notifications/initialized,
 * tools/list, tools/call), as an MCP client sends them: the bundled CLI as a subprocess, a project whose dev script
 * is a fake `vite` on PATH, a throw-away DEV_PORTS_HOME, and real listeners on 127.0.0.1.
 */
import * as assert from 'assert';
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as url from 'url';
import { isGone, killSpawned, startListener, waitUntil } from './helpers';

const ROOT = path.resolve(__dirname, '../..');

const FAKE_VITE = `#!/usr/bin/env node
const net = require('net');
const argv = process.argv.slice(2);
const i = argv.indexOf('--port');
console.log(JSON.stringify({ argv, PORT: process.env.PORT, pid: process.pid }));
net.createServer().listen(Number(argv[i + 1]), '127.0.0.1', () => console.log('listening'));
`;

let buildDir = '';
let cliPath = '';
let tmp = '';
let home = '';
let server: ChildProcess | undefined;
const startedPids: number[] = [];

interface RpcResponse {
  id: number;
  result?: any;
  error?: { code: number; message: string };
}

/** A minimal MCP client: newline-delimited JSON-RPC over the server's stdin/stdout. */
class Client {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, (r: RpcResponse) => void>();
  readonly stderr: string[] = [];
  /** Answers the server's requests to the client: the result, or undefined for "method not found". */
  onRequest?: (method: string, params: unknown) => object | undefined;
  constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const message = JSON.parse(line) as RpcResponse & { method?: string; params?: unknown };
        if (message.method !== undefined) {
          // A request from the server (roots/list): answered by the test's handler, else "method not found".
          const result = this.onRequest?.(message.method, message.params);
          const reply = result !== undefined ? { result } : { error: { code: -32601, message: `no ${message.method} here` } };
          child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id: message.id, ...reply })}\n`);
          continue;
        }
        this.pending.get(message.id)?.(message);
        this.pending.delete(message.id);
      }
    });
    child.stderr!.on('data', (c: Buffer) => this.stderr.push(c.toString()));
  }
  request(method: string, params?: object): Promise<RpcResponse> {
    const id = this.nextId++;
    this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) })}\n`);
    return new Promise((resolve) => this.pending.set(id, resolve));
  }
  notify(method: string): void {
    this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', method })}\n`);
  }
  async call(name: string, args: object): Promise<{ isError?: boolean; text: string; data: any }> {
    const response = await this.request('tools/call', { name, arguments: args });
    assert.ok(response.result, `tools/call ${name}: ${JSON.stringify(response.error)}`);
    const text = response.result.content[0].text as string;
    return { isError: response.result.isError, text, data: response.result.isError ? undefined : JSON.parse(text) };
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts `dev-ports mcp [args]` in `cwd` (the fake `vite` on PATH, the test's DEV_PORTS_HOME) and initialises it as a
 * client with `capabilities` does; `onRequest` answers what the server asks the client (roots/list).
 */
async function startMcp(
  cwd: string,
  options: { args?: string[]; capabilities?: object; onRequest?: Client['onRequest'] } = {},
): Promise<{ child: ChildProcess; client: Client; init: RpcResponse }> {
  const child = spawn(process.execPath, [cliPath, 'mcp', ...(options.args ?? [])], {
    cwd,
    env: { ...process.env, DEV_PORTS_HOME: home, PATH: `${path.join(tmp, 'bin')}${path.delimiter}${process.env.PATH}` },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const client = new Client(child);
  client.onRequest = options.onRequest;
  const init = await client.request('initialize', {
    protocolVersion: '2025-06-18',
    capabilities: options.capabilities ?? {},
    clientInfo: { name: 'dev-ports-test', version: '1.0.0' },
  });
  client.notify('notifications/initialized');
  return { child, client, init };
}

describe('dev-ports mcp (stdio, JSON-RPC)', () => {
  let client: Client;

  before(async function () {
    this.timeout(60_000);
    buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-mcp-build-'));
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

  beforeEach(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-mcp-'));
    home = path.join(tmp, 'home');
    fs.mkdirSync(path.join(tmp, 'bin'));
    fs.writeFileSync(path.join(tmp, 'bin', 'vite'), FAKE_VITE, { mode: 0o755 });
    fs.mkdirSync(path.join(tmp, 'apps', 'web'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'apps', 'web', 'package.json'), JSON.stringify({ name: 'web', scripts: { dev: 'vite' } }));
    let init: RpcResponse;
    ({ child: server, client, init } = await startMcp(tmp));
    assert.strictEqual(init.result.serverInfo.name, 'dev-ports');
    assert.ok(init.result.capabilities.tools, 'the server offers tools');
  });

  afterEach(async () => {
    // Every dev server the MCP server started (its records), even when a test failed before stopping it.
    const records = path.join(home, 'servers');
    if (fs.existsSync(records)) {
      for (const name of fs.readdirSync(records)) startedPids.push(JSON.parse(fs.readFileSync(path.join(records, name), 'utf8')).pid);
    }
    for (const pid of startedPids.splice(0)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // The group is gone.
      }
    }
    killSpawned();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.stdin!.end();
      await exited;
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lists the four tools with descriptions and object input schemas', async () => {
    const { result } = await client.request('tools/list');
    const names = result.tools.map((t: { name: string }) => t.name);
    assert.deepStrictEqual(names, ['devPorts_listPorts', 'devPorts_startDevServer', 'devPorts_stopDevServer', 'devPorts_freePort']);
    for (const tool of result.tools) {
      assert.ok(tool.description.length > 80, tool.name);
      assert.strictEqual(tool.inputSchema.type, 'object');
    }
    const start = result.tools.find((t: { name: string }) => t.name === 'devPorts_startDevServer');
    assert.deepStrictEqual(start.inputSchema.required, ['project']);
  });

  it('starts a project in the background on its reserved port, lists it, and stops it with its port released', async () => {
    const started = await client.call('devPorts_startDevServer', { project: 'web' });
    assert.ok(!started.isError, started.text);
    const { projectId, port, url } = started.data;
    assert.strictEqual(projectId, path.join(tmp, 'apps', 'web'));
    assert.strictEqual(url, `http://localhost:${port}/`);
    assert.ok(await canConnect(port), 'the dev server listens on the port the tool returned');
    const log = fs.readFileSync(started.data.output, 'utf8');
    const seen = JSON.parse(log.split('\n').find((l) => l.startsWith('{'))!);
    startedPids.push(seen.pid);
    assert.deepStrictEqual(seen.argv, ['--port', String(port), '--strictPort']);
    assert.strictEqual(seen.PORT, String(port));

    const again = await client.call('devPorts_startDevServer', { project: 'apps/web' });
    assert.deepStrictEqual({ port: again.data.port, started: again.data.started }, { port, started: false });

    const listed = await client.call('devPorts_listPorts', {});
    const web = listed.data.projects.find((p: { name: string }) => p.name === 'web');
    assert.strictEqual(web.state, 'listening');
    assert.strictEqual(web.port, port);
    assert.strictEqual(web.url, url);
    assert.strictEqual(web.startedByDevPorts, true);
    assert.strictEqual(web.pid, seen.pid, 'the PID that listens');
    assert.strictEqual(web.relativePath, 'apps/web');

    const stopped = await client.call('devPorts_stopDevServer', { project: projectId });
    assert.deepStrictEqual(stopped.data, { projectId, port, released: true });
    await waitUntil(() => isGone(seen.pid));
    assert.strictEqual(await canConnect(port), false);
    const ledger = JSON.parse(execFileSync(process.execPath, [cliPath, 'allocations', '--json'], { env: { ...process.env, DEV_PORTS_HOME: home } }).toString());
    assert.deepStrictEqual(ledger, []);
  });

  it('frees a port of a server it started without asking, but stops a foreign holder only with force', async () => {
    const started = await client.call('devPorts_startDevServer', { project: 'web' });
    const freed = await client.call('devPorts_freePort', { port: started.data.port });
    assert.strictEqual(freed.data.free, true, freed.text);
    assert.ok(freed.data.killedPids.length > 0);
    const list = await client.call('devPorts_listPorts', {});
    assert.strictEqual(list.data.projects[0].state, 'stopped');

    const { child, port } = await startListener();
    const refused = await client.call('devPorts_freePort', { port });
    assert.deepStrictEqual([refused.data.free, refused.data.killedPids], [false, []]);
    assert.strictEqual(refused.data.holders[0].pid, child.pid);
    assert.match(refused.data.note, /did not start.*force: true/);
    assert.ok(!isGone(child.pid!), 'the foreign listener still runs');

    const forced = await client.call('devPorts_freePort', { port, force: true });
    assert.strictEqual(forced.data.free, true, forced.text);
    assert.ok(forced.data.killedPids.includes(child.pid));
  });

  it('answers bad input and unknown projects with an error result the model can read', async () => {
    const unknown = await client.call('devPorts_startDevServer', { project: 'shop' });
    assert.strictEqual(unknown.isError, true);
    assert.match(unknown.text, /^No dev-server project "shop"\. Projects: web \(apps\/web\)\.$/);
    const badPort = await client.call('devPorts_freePort', { port: 70000 });
    assert.strictEqual(badPort.isError, true);
    assert.match(badPort.text, /70000/);
  });

  it("serves the projects of the client's roots, not of its working directory, and follows a change of roots", async () => {
    const elsewhere = path.join(tmp, 'elsewhere');
    const other = path.join(tmp, 'other', 'docs');
    fs.mkdirSync(elsewhere);
    fs.mkdirSync(other, { recursive: true });
    fs.writeFileSync(path.join(other, 'package.json'), JSON.stringify({ name: 'docs', scripts: { dev: 'vite' } }));
    let roots = [{ uri: url.pathToFileURL(path.join(tmp, 'apps')).href, name: 'apps' }];
    const asked: string[] = [];
    const onRequest = (method: string) => {
      asked.push(method);
      return method === 'roots/list' ? { roots } : undefined;
    };
    const { child, client: rooted } = await startMcp(elsewhere, { args: ['--verbose'], capabilities: { roots: { listChanged: true } }, onRequest });
    try {
      const listed = await rooted.call('devPorts_listPorts', {});
      assert.deepStrictEqual(asked, ['roots/list']);
      assert.deepStrictEqual(listed.data.projects.map((p: { name: string }) => p.name), ['web']);

      roots = [{ uri: url.pathToFileURL(path.join(tmp, 'other')).href, name: 'other' }];
      rooted.notify('notifications/roots/list_changed');
      const again = await rooted.call('devPorts_listPorts', {});
      assert.deepStrictEqual(asked, ['roots/list', 'roots/list']);
      assert.deepStrictEqual(again.data.projects.map((p: { name: string }) => p.name), ['docs']);
      assert.match(rooted.stderr.join(''), /projects come from the client's roots: .*other/);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      await exited;
    }
  });

  it('serves the projects of its working directory for a client without roots', async () => {
    const listed = await client.call('devPorts_listPorts', {});
    assert.deepStrictEqual(listed.data.projects.map((p: { name: string }) => p.name), ['web']);
  });

  it('exits 0 when the client closes stdin', async () => {
    const exited = new Promise<number | null>((r) => server!.once('exit', (code) => r(code)));
    server!.stdin!.end();
    assert.strictEqual(await exited, 0);
  });
});
