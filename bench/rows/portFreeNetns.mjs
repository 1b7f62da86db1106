// Row 2's sub-benchmark, run by portFree.mjs as `unshare -n node portFreeNetns.mjs <core.cjs>`: a private network
// namespace, so listeners on the wildcard addresses (0.0.0.0, ::) and every tool's wildcard binds touch nothing
// outside. Prints one JSON line on stdout; kills its listeners itself.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { freePeers, preloadPeers } from '../lib/peers.mjs';
import { pickPort } from '../lib/ports.mjs';
import { FIXTURES, waitForLine } from '../lib/procs.mjs';
import { measure } from '../lib/stats.mjs';

const ip = spawnSync('ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8' });
if (ip.status !== 0) {
  process.stderr.write(`portFreeNetns: could not bring lo up: ${ip.stderr || ip.error?.message}\n`);
  process.exit(2);
}

const lib = createRequire(import.meta.url)(process.argv[2]);
await preloadPeers();

const KINDS = [
  { kind: '127.0.0.1', host: '127.0.0.1' },
  { kind: '0.0.0.0', host: '0.0.0.0' },
  { kind: ':: dual-stack', host: '::' },
  { kind: ':: IPv6-only', host: '::', ipv6Only: true },
  { kind: '::1', host: '::1' },
];

const tools = [{ name: 'ours isPortAvailable', inUse: async (port) => !(await lib.isPortAvailable(port)) }, ...freePeers];
const children = new Set();
const killChildren = () => children.forEach((c) => c.kill('SIGKILL'));
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

const matrix = [];
for (const { kind, host, ipv6Only } of [...KINDS, { kind: 'nothing (free port)' }]) {
  const port = await pickPort();
  let child;
  if (host) {
    child = spawn(process.execPath, [`${FIXTURES}server.cjs`], {
      env: { ...process.env, PORT: String(port), HOST: host, IPV6ONLY: ipv6Only ? '1' : '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(child);
    await waitForLine(child, /^listening/, 15000, `listener on ${kind}`);
  }
  const answers = {};
  for (const tool of tools) answers[tool.name] = await tool.inUse(port);
  matrix.push({ kind, expectedInUse: Boolean(host), answers });
  if (child) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    children.delete(child);
  }
}

const timing = [];
const freePort = await pickPort();
for (const tool of tools) {
  const res = await measure(() => tool.inUse(freePort), { warmup: 20, minIterations: 50, maxIterations: 400, budgetMs: 1500 });
  timing.push({ tool: tool.name, stats: res.stats, saidInUse: res.last });
}
process.stdout.write(`${JSON.stringify({ matrix, timing })}\n`);
process.exit(0);
