import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ancestors, descendants, snapshotProcessTable } from '../../src/os/processTable';
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
});
