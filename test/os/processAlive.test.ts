import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { isProcessAlive } from '../../src/os';
import { eventually, isGoneOrZombie } from './helpers';

describe('isProcessAlive', () => {
  it('is true for this process and false for a PID that does not exist or is not a positive integer', () => {
    assert.equal(isProcessAlive(process.pid), true);
    assert.equal(isProcessAlive(0), false);
    assert.equal(isProcessAlive(-1), false);
    assert.equal(isProcessAlive(1.5), false);
    assert.equal(isProcessAlive(2 ** 22 + 1), false);
  });

  (process.platform === 'linux' ? it : it.skip)('is false for a zombie, which signal 0 still finds', async () => {
    // The shell starts `sleep 0` in the background and becomes `sleep 5`, which never reaps it: a zombie, as a dev
    // server becomes when it exits after its parent died on a machine whose PID 1 never reaps.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = await new Promise<number>((resolve, reject) => {
        parent.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
        parent.once('error', reject);
      });
      assert.ok(await eventually(() => isGoneOrZombie(zombie)), 'the background sleep never exited');
      process.kill(zombie, 0); // still there for signal 0 (it has not been reaped) …
      assert.equal(isProcessAlive(zombie), false); // … yet not alive
      assert.equal(isProcessAlive(parent.pid!), true);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
