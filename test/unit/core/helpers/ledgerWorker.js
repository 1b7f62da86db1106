// Child process of the ledger tests: reserves ports for projects at the same moment as its siblings.
// argv: <home> <mode: ledger|raw|allocator> <startAt epoch ms> <rangeStart> <rangeEnd> <project ids, comma-separated>
// Prints one JSON line: [{ projectId, port }] (raw mode: the ports tryClaim said true for).
require('../../../register.js');
const path = require('path');
const { Ledger } = require(path.join(__dirname, '../../../../src/core/ledger.ts'));

const [home, mode, startAt, start, end, projects] = process.argv.slice(2);
const ids = projects.split(',');
const ledger = new Ledger({ home });
const rangeStart = Number(start);
const rangeEnd = Number(end);

function reserveWithLock(projectId) {
  return ledger.withLock(() => {
    const mine = ledger.findByProject(projectId);
    if (mine) return mine.port;
    // A random starting point, so two processes racing for the same project would pick different ports if the
    // lock did not serialise them.
    const size = rangeEnd - rangeStart + 1;
    const offset = Math.floor(Math.random() * size);
    for (let i = 0; i < size; i++) {
      const port = rangeStart + ((offset + i) % size);
      if (ledger.get(port)) continue;
      if (ledger.tryClaim({ projectId, port, allocatedAt: Date.now(), owner: { pid: process.pid, kind: 'library' } })) return port;
    }
    return undefined;
  });
}

async function main() {
  // Everyone starts together so the claims really contend.
  const wait = Number(startAt) - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const out = [];
  if (mode === 'ledger') {
    for (const projectId of ids) out.push({ projectId, port: reserveWithLock(projectId) });
  } else if (mode === 'raw') {
    for (const projectId of ids) {
      for (let port = rangeStart; port <= rangeEnd; port++) {
        if (ledger.tryClaim({ projectId, port, allocatedAt: Date.now() })) out.push({ projectId, port });
      }
    }
  } else if (mode === 'allocator') {
    const { PortAllocator } = require(path.join(__dirname, '../../../../src/core/allocator.ts'));
    const { createMemoryStore } = require(path.join(__dirname, '../../../../src/core/memoryStore.ts'));
    const { nodeOs } = require(path.join(__dirname, '../../../../src/os/index.ts'));
    const allocator = new PortAllocator({
      store: createMemoryStore(),
      ledger,
      os: nodeOs,
      range: () => ({ start: rangeStart, end: rangeEnd }),
      // No owner, like the CLI: siblings that already exited must not leave orphans others may take over.
    });
    for (const projectId of ids) out.push({ projectId, port: (await allocator.allocate(projectId)).port });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
