// Issue 7's stress test: start → running with its terminal → close the terminal → port free and allocation released,
// 20 times in a row, with two CPU-burning processes alongside (the "loaded 2-core machine" the bug was seen on).
'use strict';

const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const vscode = require('vscode');
const h = require('./helpers');

const CYCLES = 20;
/**
 * Open descriptors this extension host may gain over the cycles without a leak: VS Code itself opens some lazily
 * (file watchers, IPC and pty sockets it keeps for reuse). Measured over three runs: 40–44 open, the floor flat at
 * 40 (see RELIABILITY.md). A leak of one per cycle would raise the floor by 17, far above it.
 */
const FD_SLACK = 4;
/** Open file descriptors of this process: the tests run inside the extension host. */
const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('stress: start and close the terminal, under CPU load', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));

  it(`keeps every record true and leaks nothing over ${CYCLES} cycles with two CPU burners`, async function () {
    this.timeout(CYCLES * 20000);
    const burners = [0, 1].map(() => {
      const child = childProcess.spawn(process.execPath, ['-e', 'for (;;) {}'], { detached: true, stdio: 'ignore' });
      child.unref();
      h.spawned.add(child.pid);
      return child.pid;
    });
    const wrong = [];
    const leaks = [];
    const times = [];
    const id = h.projectId('web');
    /** Every state the record went through, from the change events. */
    let seen = [];
    const fdsBefore = openFds();
    /** Open descriptors after each cycle; the first cycle warms VS Code up, the growth is counted from it. */
    const fds = [];
    const sub = api.onDidChangeServers(() => {
      const s = api.getServers().find((x) => x.projectId === id);
      if (s) seen.push(s.state);
    });
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        seen = [];
        const t0 = Date.now();
        const started = await h.run('devPorts.startDevServer', id);
        await h.waitFor(() => h.listening(started.port), `cycle ${cycle}: web listening`, 30000).catch((e) => {
          throw new Error(`${e.message}; the record: ${JSON.stringify(api._test.servers())}; terminals: ${vscode.window.terminals.map((t) => t.name).join(', ')}`);
        });
        const running = await h.waitFor(() => {
          const s = api.getServers().find((x) => x.projectId === id);
          return s && (s.state === 'listening' || s.state === 'ready') && s;
        }, `cycle ${cycle}: the record listening`, 30000);
        // Held for a while, as a person would: the bug marked a running server gone 1.6–2.3 s after its start.
        await h.sleep(2500);
        const during = api.getServers().find((x) => x.projectId === id);
        if (!during || !['listening', 'ready'].includes(during.state)) wrong.push(`cycle ${cycle}: ${JSON.stringify(during)} while the server ran`);
        if (seen.some((s) => s === 'exited' || s === 'unhealthy')) wrong.push(`cycle ${cycle}: went through ${seen.join(' → ')}`);
        const terminal = vscode.window.terminals.find((t) => t.name === started.terminalName);
        if (!terminal) wrong.push(`cycle ${cycle}: no terminal "${started.terminalName}"`);
        const [serverPid] = await h.listenerPids(started.port);
        if (running.pid !== serverPid) wrong.push(`cycle ${cycle}: record PID ${running.pid}, listener ${serverPid}`);
        const closedAt = Date.now();
        terminal?.dispose();
        await h.waitFor(async () => !(await h.listening(started.port)), `cycle ${cycle}: port free after the close`, 30000);
        await h.waitFor(() => !api.getAllocations().some((a) => a.projectId === id), `cycle ${cycle}: the allocation released`, 30000);
        await api._test.idle();
        times.push(Date.now() - closedAt);
        if (api._test.servers().some((s) => s.projectId === id)) wrong.push(`cycle ${cycle}: a record is left after the close`);
        if (api.getAllocations().length) leaks.push(`cycle ${cycle}: ${JSON.stringify(api.getAllocations())}`);
        if (h.alive(serverPid)) wrong.push(`cycle ${cycle}: server PID ${serverPid} survived`);
        fds.push(openFds());
        console.log(`      cycle ${cycle}: ${fds[fds.length - 1]} fds; ${seen.join(' → ')}; released ${times[times.length - 1]} ms after the close (${Date.now() - t0} ms in all)`);
      }
    } finally {
      sub.dispose();
      for (const pid of burners) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    const sorted = [...times].sort((a, b) => a - b);
    console.log(`      ${CYCLES} cycles: ${wrong.length} wrong states, ${leaks.length} leaked allocations; close → released median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms`);
    console.log(`      extension host fds: ${fdsBefore} before, ${fds[0]} after cycle 0, ${fds[fds.length - 1]} after cycle ${CYCLES - 1} (max ${Math.max(...fds)})`);
    assert.deepEqual(wrong, []);
    assert.deepEqual(leaks, []);
    // The floor of the first three counts against the floor of the last three: a descriptor open only at the moment
    // of one count (a socket VS Code is about to close) is not a leak; a leak raises the floor.
    const growth = Math.min(...fds.slice(-3)) - Math.min(...fds.slice(0, 3));
    assert.ok(growth <= FD_SLACK, `the extension host's open descriptors grew by ${growth} over ${CYCLES} cycles: ${fds.join(', ')}`);
  });
});
