import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAllocator, Ledger } from '../../../src/core/index';

describe('createAllocator', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-create-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('reserves through the machine-wide ledger as a library, never orphaned, so the reservation outlives the script', async () => {
    const allocator = createAllocator({ ledger: new Ledger({ home }), range: () => ({ start: 41500, end: 41999 }) });
    const a = await allocator.allocate('/tmp/dp-create/web');
    const entry = new Ledger({ home }).findByProject('/tmp/dp-create/web');
    assert.equal(entry?.port, a.port);
    assert.deepEqual(entry?.owner, { pid: process.pid, kind: 'library' });
    assert.equal(new Ledger({ home, isProcessAlive: () => false }).isOrphaned(entry!), false);
    assert.equal(await allocator.releasePortForProject('/tmp/dp-create/web'), true);
    assert.equal(new Ledger({ home }).findByProject('/tmp/dp-create/web'), undefined);
  });
});
