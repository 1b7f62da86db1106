// Child process of the ledger crash tests: a reserver that gets a port through the library and then either starts
// its server or waits to be SIGKILLed before it does (the crash between "reserved" and "listening").
// argv: <home> <projectId> <mode: listen|die> <rangeStart> <rangeEnd>
// Prints `reserved <port>`, then (listen) `listening` once its server listens on 127.0.0.1:<port>.
require('../../../register.js');
const net = require('net');
const path = require('path');
const { Ledger } = require(path.join(__dirname, '../../../../src/core/ledger.ts'));
const { PortAllocator } = require(path.join(__dirname, '../../../../src/core/allocator.ts'));
const { createMemoryStore } = require(path.join(__dirname, '../../../../src/core/memoryStore.ts'));
const { nodeOs } = require(path.join(__dirname, '../../../../src/os/index.ts'));

const [home, projectId, mode, start, end] = process.argv.slice(2);

async function main() {
  const allocator = new PortAllocator({
    store: createMemoryStore(),
    ledger: new Ledger({ home }),
    os: nodeOs,
    range: () => ({ start: Number(start), end: Number(end) }),
    owner: { pid: process.pid, kind: 'library' },
  });
  // The reserver records itself as the dev server, as `dev-ports run` does before it starts the command.
  const { port } = await allocator.allocate(projectId, { pid: process.pid });
  process.stdout.write(`reserved ${port}\n`);
  if (mode === 'die') {
    setInterval(() => undefined, 1000); // stays alive until the test's SIGKILL
    return;
  }
  // Another reserver's free-port check binds each candidate for a fraction of a millisecond; one that picked this
  // port from its ledger listing just before our claim landed can still be probing it. Retry briefly, as the bind
  // probe cannot hold it longer; a real holder would still fail us after the retries.
  const listen = (tries) => {
    const server = net.createServer();
    server.once('error', (e) => {
      if (e.code !== 'EADDRINUSE' || tries <= 0) throw e;
      setTimeout(() => listen(tries - 1), 20);
    });
    server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
  };
  listen(10);
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
