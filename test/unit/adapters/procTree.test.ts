// The servers' poll reads only their own trees: the children of a real process from the lazy table, and one
// ledger read shared by the view and the status bar.
import * as assert from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import { childEntries, lazyProcessTable, snapshotProcessTable } from '../../../src/os/processTable';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { folderVersion, sharedRead } from '../../../src/vscode/sharedRead';

describe('procTree: the children of one process', () => {
  const kids: ChildProcess[] = [];
  afterEach(() => {
    for (const k of kids.splice(0)) if (k.pid !== undefined && k.exitCode === null) k.kill('SIGKILL');
  });

  it('finds the same live children in the lazy table as in a full snapshot', async function () {
    if (process.platform !== 'linux') this.skip();
    for (let i = 0; i < 2; i++) kids.push(spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' }));
    const pids = kids.map((k) => k.pid as number).sort((a, b) => a - b);
    const lazy = childEntries(await lazyProcessTable(), process.pid).map((e) => e.pid).filter((p) => pids.includes(p)).sort((a, b) => a - b);
    const full = childEntries(await snapshotProcessTable(), process.pid).map((e) => e.pid).filter((p) => pids.includes(p)).sort((a, b) => a - b);
    assert.deepStrictEqual(lazy, pids);
    assert.deepStrictEqual(full, pids);
    const entry = childEntries(await lazyProcessTable(), process.pid).find((e) => e.pid === pids[0]);
    assert.strictEqual(entry?.ppid, process.pid);
  });

  it('is empty for a process that is gone', async () => {
    const k = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => k.once('exit', r));
    assert.deepStrictEqual(childEntries(await lazyProcessTable(), k.pid as number), []);
  });
});

describe('sharedRead: one read for callers of the same moment', () => {
  it('reads once while the version holds, again when it changes, is unknown, or after a change event', () => {
    let reads = 0;
    let version: number | undefined = 1;
    let fire: () => void = () => undefined;
    const read = sharedRead(() => ++reads, { version: () => version, changed: (l) => (fire = l) });
    assert.strictEqual(read(), 1);
    assert.strictEqual(read(), 1);
    version = 2;
    assert.strictEqual(read(), 2);
    fire();
    assert.strictEqual(read(), 3);
    version = undefined;
    assert.strictEqual(read(), 4);
    assert.strictEqual(read(), 5);
  });

  it('sees a file added to a folder (the ledger) once its mtime has settled', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-shared-'));
    try {
      const read = sharedRead(() => fs.readdirSync(dir).length, { version: folderVersion(dir, 30) });
      await new Promise((r) => setTimeout(r, 40));
      assert.strictEqual(read(), 0);
      fs.writeFileSync(path.join(dir, '3000.json'), '{}');
      assert.strictEqual(read(), 1);
      await new Promise((r) => setTimeout(r, 40));
      assert.strictEqual(read(), 1);
      fs.writeFileSync(path.join(dir, '3001.json'), '{}');
      assert.strictEqual(read(), 2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
