// The servers' poll reads only their own trees: the children of a real process from the lazy table. (The view's
// and the status bar's ledger reads are one parse per change of the ledger folder: Ledger.entries(), tested with
// the ledger.)
import * as assert from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import { childEntries, lazyProcessTable, snapshotProcessTable } from '../../../src/os/processTable';

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
