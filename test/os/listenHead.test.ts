import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { readListenHead, readListenHeadAsync } from '../../src/os/linuxListeners';
import { parseProcNetTcp } from '../../src/os/procNet';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (sl: number, local: string, state: string, inode: number) =>
  `  ${sl}: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

describe('readListenHead', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-head-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stops at the first row that is neither LISTEN nor a half-open request', () => {
    const file = path.join(dir, 'tcp');
    const head = HEADER + row(0, '0100007F:0BB8', '0A', 11) + row(1, '0100007F:0BB8', '03', 12) + row(2, '00000000:1F90', '0A', 13);
    fs.writeFileSync(file, head + row(3, '0100007F:0BB8', '01', 14) + row(4, '00000000:1F91', '0A', 15));
    assert.equal(readListenHead(file), head);
  });

  it('reads the same head off the event loop (async), over several chunks and for a missing file', async () => {
    const file = path.join(dir, 'tcp');
    let head = HEADER;
    for (let i = 0; i < 300; i++) head += row(i, `0100007F:${(3000 + i).toString(16).toUpperCase().padStart(4, '0')}`, '0A', 100 + i);
    fs.writeFileSync(file, head + row(300, '0100007F:0BB8', '01', 14) + row(301, '00000000:1F91', '0A', 15));
    assert.ok(head.length > 3 * 4096);
    assert.equal(await readListenHeadAsync(file), head);
    assert.equal(await readListenHeadAsync(path.join(dir, 'tcp6')), '');
  });

  it('reads a file of more than one chunk to its end when every row listens', () => {
    const file = path.join(dir, 'tcp');
    let text = HEADER;
    for (let i = 0; i < 2000; i++) text += row(i, `0100007F:${(3000 + i).toString(16).toUpperCase().padStart(4, '0')}`, '0A', 100 + i);
    fs.writeFileSync(file, text);
    assert.ok(text.length > 64 * 1024);
    assert.equal(readListenHead(file), text);
  });

  it('answers empty for a missing file (IPv6 disabled)', () => {
    assert.equal(readListenHead(path.join(dir, 'tcp6')), '');
  });

  it('keeps every LISTEN row of the real /proc/net/tcp while connections exist', async function () {
    if (process.platform !== 'linux') this.skip();
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    try {
      const little = os.endianness() === 'LE';
      const full = parseProcNetTcp(fs.readFileSync('/proc/net/tcp', 'utf8'), little);
      const head = parseProcNetTcp(readListenHead('/proc/net/tcp'), little);
      assert.deepEqual(head, full);
      assert.ok(head.some((r) => r.port === port));
    } finally {
      client.destroy();
      server.close();
    }
  });
});
