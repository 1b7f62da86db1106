// Child process of the host-crash test: plays a VS Code extension host. Reserves ports for two projects with an
// allocator owned by { kind: 'vscode', pid: its own }, starts each one's dev server (`sh -c` → node, detached as
// the extension's terminals are), records the server's PID, prints one JSON line and waits to be SIGKILLed.
// argv: <ledger home> <store file> <rangeStart> <rangeEnd> <server script> <project ids, comma-separated>
require('../../../register.js');
const { spawn } = require('child_process');
const path = require('path');
const readline = require('readline');
const { Ledger } = require(path.join(__dirname, '../../../../src/core/ledger.ts'));
const { PortAllocator } = require(path.join(__dirname, '../../../../src/core/allocator.ts'));
const { nodeOs } = require(path.join(__dirname, '../../../../src/os/index.ts'));
const { createFileStore } = require('./fileStore');

const [home, storeFile, start, end, server, projects] = process.argv.slice(2);

async function main() {
  const allocator = new PortAllocator({
    store: createFileStore(storeFile),
    ledger: new Ledger({ home }),
    os: nodeOs,
    range: () => ({ start: Number(start), end: Number(end) }),
    owner: { pid: process.pid, kind: 'vscode' },
  });
  const out = [];
  for (const projectId of projects.split(',')) {
    const { port } = await allocator.allocate(projectId);
    const sh = spawn('sh', ['-c', '"$0" "$1" || exit $?', process.execPath, server], {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, PORT: String(port) },
    });
    const info = await new Promise((resolve, reject) => {
      readline.createInterface({ input: sh.stdout }).once('line', (line) => resolve(JSON.parse(line)));
      sh.once('exit', (code) => reject(new Error(`the server of ${projectId} exited (${code})`)));
    });
    await allocator.setPid(projectId, sh.pid);
    out.push({ projectId, port, sh: sh.pid, node: info.pid, helper: info.helper });
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  setInterval(() => undefined, 1000); // until the test's SIGKILL
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
