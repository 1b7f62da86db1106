import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ancestors, descendants, runNow, runSliced, snapshotProcessTable } from '../../src/os/processTable';
import { LISTENER, Spawned } from './helpers';

describe('os processTable', () => {
  const spawned = new Spawned();
  let tempDir: string | undefined;
  afterEach(() => {
    spawned.cleanup();
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
    tempDir = undefined;
  });

  it('reads parent, group and session of a process whose name contains ") ("', async () => {
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-comm-'));
    const odd = path.join(tempDir, 'x) (y');
    // comm is taken from the name the program was started by, so a symlink named like this is enough.
    fs.symlinkSync(process.execPath, odd);
    const { info } = await spawned.start(odd, [LISTENER, '127.0.0.1', '0']);
    const table = await snapshotProcessTable();
    const entry = table.get(info.pid);
    const me = table.get(process.pid);
    assert.ok(entry && me);
    assert.equal(entry.name, 'x) (y');
    assert.equal(entry.ppid, process.pid);
    assert.equal(entry.pgid, me.pgid);
    assert.equal(entry.sid, me.sid);
    assert.equal(entry.uid, process.getuid!());
  });

  it('walks the descendants of sh → node and the ancestors of this process', async () => {
    const { child, info } = await spawned.start('sh', ['-c', 'node "$0" 127.0.0.1 0; exit 0', LISTENER]);
    const table = await snapshotProcessTable();
    assert.deepEqual(descendants(table, child.pid!), [info.pid]);
    assert.ok(descendants(table, process.pid).includes(info.pid));
    const up = ancestors(table, info.pid);
    assert.deepEqual(up.slice(0, 2), [child.pid, process.pid]);
    assert.equal(up.at(-1), 1);
  });

  it('reads the same relations through ps, as on macOS', async () => {
    const { child, info } = await spawned.start('sh', ['-c', 'node "$0" 127.0.0.1 0; exit 0', LISTENER]);
    const viaPs = await snapshotProcessTable('darwin');
    const viaProc = await snapshotProcessTable('linux');
    const entry = viaPs.get(info.pid);
    assert.ok(entry);
    assert.equal(entry.ppid, child.pid);
    assert.equal(entry.pgid, viaProc.get(info.pid)!.pgid);
    assert.equal(entry.command, `node ${LISTENER} 127.0.0.1 0`);
    assert.deepEqual(descendants(viaPs, child.pid!), [info.pid]);
  });

  describe('runSliced', () => {
    /** `steps` steps of ~20 µs of work each, logging `name` at every step; answers `name` and its step count. */
    function* busy(name: string, steps: number, log: string[]): Generator<void, string> {
      for (let i = 0; i < steps; i++) {
        const until = process.hrtime.bigint() + 20_000n;
        while (process.hrtime.bigint() < until);
        log.push(name);
        yield;
      }
      return `${name} ${steps}`;
    }

    it('gives the same answer as runNow, shares the turns between concurrent runs, and lets timers run between slices', async () => {
      const log: string[] = [];
      let timerRan = false;
      setTimeout(() => (timerRan = true), 0);
      const [a, b] = await Promise.all([runSliced(busy('a', 1500, log)), runSliced(busy('b', 1500, log), { pause: false })]);
      assert.equal(a, runNow(busy('a', 1500, [])));
      assert.equal(b, 'b 1500');
      assert.ok(timerRan);
      // Round-robin: b started long before a finished (a alone is ~30 ms of steps, a slice is a few ms).
      assert.ok(log.indexOf('b') < log.lastIndexOf('a'), 'b waited for the whole of a');
      assert.ok(log.indexOf('a') < log.lastIndexOf('b'));
    });

    it('rejects only the run whose step throws; the others finish', async () => {
      function* failing(): Generator<void, number> {
        yield;
        throw new Error('step failed');
      }
      const log: string[] = [];
      const [failed, ok] = await Promise.allSettled([runSliced(failing()), runSliced(busy('c', 50, log))]);
      assert.equal(failed.status, 'rejected');
      assert.equal((failed as PromiseRejectedResult).reason.message, 'step failed');
      assert.deepEqual(ok, { status: 'fulfilled', value: 'c 50' });
      assert.equal(log.length, 50);
    });
  });
});
