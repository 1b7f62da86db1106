import * as assert from 'node:assert/strict';
import { parseCimProcesses } from '../../src/os/cimParser';
import { parseLsofAddress, parseLsofCwd, parseLsofListeners } from '../../src/os/lsofParser';
import { parseNetstatListeners } from '../../src/os/netstatParser';
import { decodeProcNetAddress, parseProcNetSockets, parseProcNetTcp } from '../../src/os/procNet';
import { descendants, parseProcStat, parsePsTable } from '../../src/os/processTable';
import { readFixture } from './helpers';

describe('os parsers', () => {
  describe('/proc/net/tcp{,6} (captured in a network namespace)', () => {
    it('reads only the LISTEN rows of /proc/net/tcp, decoding little-endian IPv4 addresses', () => {
      const rows = parseProcNetTcp(readFixture('procnet-tcp.txt'));
      assert.deepEqual(
        rows.map((r) => [r.address, r.port, r.family]),
        [
          ['0.0.0.0', 30001, 4],
          ['127.0.0.1', 3000, 4],
        ],
      );
      assert.deepEqual(rows.map((r) => r.inode), [99210, 99173]);
      assert.deepEqual(rows.map((r) => r.uid), [0, 0]);
    });

    it('decodes ::, ::1 and a v4-mapped address from /proc/net/tcp6 and skips ESTABLISHED rows', () => {
      const rows = parseProcNetTcp(readFixture('procnet-tcp6.txt'));
      assert.deepEqual(
        rows.map((r) => `[${r.address}]:${r.port}`),
        ['[::]:5173', '[::ffff:127.0.0.1]:4321', '[::]:8080', '[::1]:3001'],
      );
      assert.ok(rows.every((r) => r.family === 6));
    });

    it('keeps the state of every socket row when asked for all of them', () => {
      const rows = parseProcNetSockets(readFixture('procnet-tcp.txt'));
      const established = rows.filter((r) => r.state === '01');
      assert.deepEqual(
        established.map((r) => `${r.address}:${r.port}->${r.remoteAddress}:${r.remotePort}`),
        ['127.0.0.1:3000->127.0.0.1:51488', '127.0.0.1:51488->127.0.0.1:3000'],
      );
    });

    it('reads the uid and a global IPv6 address of a row', () => {
      const text =
        '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
        '   0: B80D0120000000000000000001000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n';
      assert.deepEqual(parseProcNetTcp(text), [{ address: '2001:db8::1', port: 3000, family: 6, uid: 1000, inode: 4242 }]);
    });

    it('decodes addresses in big-endian word order when told the kernel is big-endian', () => {
      assert.equal(decodeProcNetAddress('7F000001', false), '127.0.0.1');
      assert.equal(decodeProcNetAddress('0100007F'), '127.0.0.1');
      assert.equal(decodeProcNetAddress('xyz'), undefined);
    });
  });

  describe('lsof -F (captured on this machine)', () => {
    it('finds the listeners of every family, mapping the wildcard by its t field', () => {
      const sockets = parseLsofListeners(readFixture('lsof-listen.txt'));
      assert.deepEqual(
        sockets.map((s) => `${s.pid} ${s.command} ${s.uid} ${s.login} [${s.address}]:${s.port}`),
        ['10529 node 0 root [127.0.0.1]:3000', '10536 node 0 root [::1]:3001', '10543 node 0 root [0.0.0.0]:30001', '10550 node 0 root [::]:5173'],
      );
    });

    it('excludes a client connected to the port even when lsof listed every TCP state', () => {
      const sockets = parseLsofListeners(readFixture('lsof-all-states.txt'), 3000);
      assert.deepEqual(sockets.map((s) => [s.pid, s.address, s.port]), [[10529, '127.0.0.1', 3000]]);
    });

    it('matches the port exactly: 3000 is not 30001', () => {
      assert.deepEqual(parseLsofListeners(readFixture('lsof-listen.txt'), 3000).map((s) => s.port), [3000]);
      assert.deepEqual(parseLsofListeners(readFixture('lsof-one-port.txt')).map((s) => s.pid), [10529]);
    });

    it('reads output with only the fields p, c, u, L and n', () => {
      const sockets = parseLsofListeners(readFixture('lsof-minimal-fields.txt'));
      assert.deepEqual(sockets.map((s) => `[${s.address}]:${s.port}`), ['[127.0.0.1]:3000', '[::1]:3001', '[*]:30001', '[*]:5173']);
    });

    it('splits lsof addresses and rejects connected sockets', () => {
      assert.deepEqual(parseLsofAddress('[::1]:3000', 'IPv6'), { address: '::1', port: 3000 });
      assert.deepEqual(parseLsofAddress('*:3000', 'IPv6'), { address: '::', port: 3000 });
      assert.equal(parseLsofAddress('127.0.0.1:3000->127.0.0.1:5000'), undefined);
    });

    it('reads working directories from lsof -d cwd -Fpn', () => {
      const cwds = parseLsofCwd('p42\nfcwd\nn/Users/me/shop\np43\nn/tmp\n');
      assert.deepEqual([...cwds], [
        [42, '/Users/me/shop'],
        [43, '/tmp'],
      ]);
    });
  });

  describe('netstat -ano (hand-written fixtures)', () => {
    it('finds IPv4 and IPv6 listeners of port 3000 and no client, remote port or prefix match', () => {
      const sockets = parseNetstatListeners(readFixture('netstat-ano.txt'), 3000);
      assert.deepEqual(sockets, [
        { address: '127.0.0.1', port: 3000, family: 4, pid: 5120 },
        { address: '::1', port: 3000, family: 6, pid: 5120 },
      ]);
    });

    it('lists every TCP listener of full output, including zoned IPv6 addresses, and skips UDP', () => {
      const sockets = parseNetstatListeners(readFixture('netstat-ano.txt'));
      assert.deepEqual(
        sockets.map((s) => `${s.pid} [${s.address}]:${s.port}`),
        [
          '1024 [0.0.0.0]:135',
          '4 [0.0.0.0]:445',
          '7788 [0.0.0.0]:30001',
          '5120 [127.0.0.1]:3000',
          '1024 [::]:135',
          '6200 [::]:5173',
          '5120 [::1]:3000',
          '4 [fe80::1c2d:3e4f:5a6b:7c8d%12]:139',
        ],
      );
    });

    it('matches exactly on -p tcp output: not :30001, not :13000, not a client with local or remote port 3000', () => {
      assert.deepEqual(parseNetstatListeners(readFixture('netstat-p-tcp.txt'), 3000).map((s) => s.pid), [4321]);
    });

    it('recognises listeners when the State column is translated', () => {
      const sockets = parseNetstatListeners(readFixture('netstat-ano-german.txt'), 3000);
      assert.deepEqual(sockets.map((s) => [s.address, s.pid]), [
        ['0.0.0.0', 5120],
        ['::', 5120],
      ]);
    });
  });

  describe('Win32_Process CIM JSON (hand-written fixtures)', () => {
    it('reads an array of processes, with null command lines and a bad entry skipped', () => {
      const entries = parseCimProcesses(readFixture('cim-processes.json'));
      assert.deepEqual(entries.map((e) => e.pid), [0, 4, 3000, 4100, 5000, 5120]);
      assert.deepEqual(entries[1], { pid: 4, ppid: 0, name: 'System' });
      assert.equal(entries[5].command, '"C:\\Program Files\\nodejs\\node.exe" "C:\\Users\\me\\shop\\node_modules\\vite\\bin\\vite.js"');
    });

    it('walks the npm → cmd → node tree of the CIM snapshot', () => {
      const table = new Map(parseCimProcesses(readFixture('cim-processes.json')).map((e) => [e.pid, e]));
      assert.deepEqual(descendants(table, 4100), [5000, 5120]);
    });

    it('reads the single object ConvertTo-Json prints for one process', () => {
      assert.deepEqual(parseCimProcesses(readFixture('cim-single.json')), [
        { pid: 5120, ppid: 5000, name: 'node.exe', command: '"C:\\Program Files\\nodejs\\node.exe" server.js' },
      ]);
    });

    it('reads empty output as no processes', () => {
      assert.deepEqual(parseCimProcesses('  \r\n'), []);
    });
  });

  describe('/proc/<pid>/stat and ps', () => {
    it('reads the fields after a comm that contains ") (" (captured)', () => {
      assert.deepEqual(parseProcStat(readFixture('proc-stat-paren.txt').trim()), {
        pid: 22477,
        comm: 'x) (y',
        state: 'S',
        ppid: 22421,
        pgid: 22421,
        sid: 4498,
        tty: 0,
        startTime: 182403,
      });
    });

    it('rejects text that is not a stat line', () => {
      assert.equal(parseProcStat('garbage'), undefined);
    });

    it('reads ps -o pid=,ppid=,pgid=,uid=,command= output with spaces in the command', () => {
      assert.deepEqual(parsePsTable('  501     1   501   501 /usr/local/bin/node /Users/me/my app/server.js\n 77 1 77 0\n'), [
        { pid: 501, ppid: 1, pgid: 501, uid: 501, command: '/usr/local/bin/node /Users/me/my app/server.js' },
        { pid: 77, ppid: 1, pgid: 77, uid: 0 },
      ]);
    });
  });
});
