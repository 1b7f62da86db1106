import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { darwinListeners } from '../../src/os/darwinListeners';
import { linuxToolListeners } from '../../src/os/linuxToolListeners';
import { snapshotProcessTable } from '../../src/os/processTable';
import { parseSsListeners } from '../../src/os/ssParser';
import { MissingToolError, missingToolMessage, onToolNotice, toolNotices } from '../../src/os/tools';
import { parseNetTcpConnectionJson } from '../../src/os/win32Listeners';
import { Spawned } from './helpers';

/** Which tool found in the machine's PATH, or undefined. */
function which(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const file = path.join(dir, tool);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

describe('os missing platform tools', () => {
  const spawned = new Spawned();
  const savedPath = process.env.PATH;
  let bin = '';
  beforeEach(() => {
    bin = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-path-'));
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    fs.rmSync(bin, { recursive: true, force: true });
    spawned.cleanup();
  });

  /** PATH holding only the named tools (symlinks to the machine's own). */
  function onlyTools(...tools: string[]): void {
    for (const tool of tools) {
      const real = which(tool);
      if (real) fs.symlinkSync(real, path.join(bin, tool));
    }
    process.env.PATH = bin;
  }

  it('parses ss -ltnpeH rows (IPv4, IPv6, several holders, another user, no readable process)', () => {
    const text = [
      'LISTEN 0      511        127.0.0.1:3000      0.0.0.0:*    users:(("node",pid=4321,fd=19),("node",pid=4322,fd=19)) uid:1000 ino:48213 sk:1 <->',
      'LISTEN 0      511            [::1]:5173         [::]:*    users:(("node",pid=777,fd=22)) ino:48999 sk:2 <->',
      'LISTEN 0      4096               *:8080             *:*    ino:50000 sk:3 uid:999 <->',
      'LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*    users:(("systemd-resolve",pid=600,fd=14)) uid:991 ino:1 sk:4 <->',
    ].join('\n');
    assert.deepEqual(parseSsListeners(text), [
      { pid: 4321, command: 'node', port: 3000, address: '127.0.0.1', uid: 1000 },
      { pid: 4322, command: 'node', port: 3000, address: '127.0.0.1', uid: 1000 },
      { pid: 777, command: 'node', port: 5173, address: '::1', uid: 0 },
      { pid: 0, command: '', port: 8080, address: '0.0.0.0', uid: 999 },
      { pid: 600, command: 'systemd-resolve', port: 53, address: '127.0.0.53', uid: 991 },
    ]);
    assert.deepEqual(parseSsListeners(text, 5173).map((s) => s.pid), [777]);
  });

  it('parses Get-NetTCPConnection JSON (one object or an array), the fallback for a missing netstat.exe', () => {
    assert.deepEqual(parseNetTcpConnectionJson('{"LocalAddress":"0.0.0.0","LocalPort":3000,"OwningProcess":42}'), [{ pid: 42, port: 3000, address: '0.0.0.0', family: 4 }]);
    assert.deepEqual(
      parseNetTcpConnectionJson('[{"LocalAddress":"::","LocalPort":3000,"OwningProcess":4321},{"LocalAddress":"127.0.0.1","LocalPort":5173,"OwningProcess":77}]', 5173),
      [{ pid: 77, port: 5173, address: '127.0.0.1', family: 4 }],
    );
    assert.deepEqual(parseNetTcpConnectionJson('not json'), []);
  });

  it('names the package to install for each tool on each platform', () => {
    assert.equal(missingToolMessage('lsof', 'find which process holds a port', 'linux'), 'lsof was not found in PATH; it is needed to find which process holds a port. Install the package "lsof" (apt install lsof, dnf install lsof, apk add lsof).');
    assert.match(missingToolMessage('lsof', 'x', 'darwin'), /part of macOS at \/usr\/sbin\/lsof/);
    assert.match(missingToolMessage('ps', 'x', 'linux'), /the package "procps"/);
    assert.match(missingToolMessage('ss', 'x', 'linux'), /the package "iproute2"/);
    assert.match(missingToolMessage('netstat', 'x', 'win32'), /C:\\Windows\\System32/);
    assert.match(missingToolMessage('powershell.exe', 'x', 'win32'), /PowerShell 7 \(winget install Microsoft\.PowerShell\)/);
  });

  it('without /proc/net, finds the listener with ss', async function () {
    if (!which('ss')) this.skip();
    const { port, pid } = await spawned.listener('127.0.0.1');
    onlyTools('ss');
    const listeners = await linuxToolListeners(port);
    assert.deepEqual(listeners.map((l) => [l.address, l.pids]), [['127.0.0.1', [pid]]]);
  });

  it('without /proc/net and without ss, falls back to lsof and says so', async function () {
    if (!which('lsof') || !which('ps')) this.skip();
    const { port, pid } = await spawned.listener('127.0.0.1');
    onlyTools('lsof', 'ps');
    const listeners = await linuxToolListeners(port);
    assert.deepEqual(listeners.map((l) => [l.address, l.pids]), [['127.0.0.1', [pid]]]);
    assert.ok(toolNotices().some((n) => /^ss was not found in PATH \(install the package "iproute2".*\); used lsof instead\.$/.test(n)), toolNotices().join('\n'));
    const heard: string[] = [];
    const stop = onToolNotice((line) => heard.push(line));
    stop();
    assert.ok(heard.some((n) => /^ss was not found in PATH .*used lsof instead\.$/.test(n)), 'a listener hears the notices so far');
  });

  it('with neither ss nor lsof, rejects with one sentence naming both packages', async () => {
    onlyTools();
    await assert.rejects(linuxToolListeners(3000), (err: Error) => {
      assert.ok(err instanceof MissingToolError);
      assert.deepEqual(err.tools, ['ss', 'lsof']);
      assert.match(err.message, /^None of ss, lsof was found in PATH; one is needed to find which process holds a port when \/proc\/net cannot be read\. Install the package "iproute2" .*, or the package "lsof" .*\.$/);
      return true;
    });
  });

  it('on macOS without lsof or ps, says which to put back on PATH', async () => {
    onlyTools();
    await assert.rejects(darwinListeners(3000, 'darwin'), { name: 'MissingToolError', message: /^lsof was not found in PATH; .*part of macOS at \/usr\/sbin\/lsof/ });
    await assert.rejects(snapshotProcessTable('darwin'), { name: 'MissingToolError', message: /^ps was not found in PATH; it is needed to read the process table .*part of macOS at \/bin\/ps/ });
  });
});
