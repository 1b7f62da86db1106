// The dev-server lifecycle's pure parts: which port a drifted server serves on, which processes are its job,
// what its output says about a taken port, and the HTTP probe (on a real socket).
import * as assert from 'assert';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { portTrouble } from '../../../src/core/portAnnouncements';
import type { ProcessEntry, ProcessTable } from '../../../src/os/index';
import { answersHttp, exitReportText, isDeliberateExit, notListeningNote } from '../../../src/vscode/servers/health';
import { isAuxiliaryPort, servedPort } from '../../../src/vscode/servers/portFollower';
import { programOf, runsProgram, TerminalJob } from '../../../src/vscode/servers/terminalJob';

function table(entries: (Partial<ProcessEntry> & { pid: number; ppid: number })[]): ProcessTable {
  return new Map(entries.map((e) => [e.pid, { state: 'S', ...e } as ProcessEntry]));
}

describe('servers: the port a server serves on (drift)', () => {
  it('keeps the current port while its own tree listens there', () => {
    assert.strictEqual(servedPort({ current: 3000, ownPorts: [3000, 24678], announced: [3001] }), 3000);
  });

  it('follows the port it announced and listens on, even when the old one is held by another process', () => {
    assert.strictEqual(servedPort({ current: 3000, ownPorts: [3001, 24678], announced: [3001] }), 3001);
  });

  it('takes the last announced port its tree holds (a launcher announcing its API first)', () => {
    assert.strictEqual(servedPort({ current: 3000, ownPorts: [4000, 5174], announced: [4000, 5174] }), 5174);
  });

  it('follows a silent move to a port in the range before HMR and inspector ports', () => {
    assert.strictEqual(servedPort({ current: 3000, ownPorts: [9229, 24678, 3003], announced: [], range: { start: 3000, end: 3999 } }), 3003);
    assert.strictEqual(servedPort({ current: 43100, ownPorts: [24678, 43103], announced: [] }), 43103);
  });

  it("never takes a debugger's or an HMR port it did not announce for the one it serves on", () => {
    assert.strictEqual(servedPort({ current: 43102, ownPorts: [53531], announced: [], range: { start: 43100, end: 43199 } }), undefined);
    assert.strictEqual(servedPort({ current: 43100, ownPorts: [24678, 3000], announced: [], range: { start: 43100, end: 43199 } }), undefined);
    assert.strictEqual(servedPort({ current: 43100, ownPorts: [24678, 3000], announced: [3000] }), 3000);
  });

  it('says nothing when its tree listens on nothing', () => {
    assert.strictEqual(servedPort({ current: 3000, ownPorts: [], announced: [3001] }), undefined);
  });

  it('knows the HMR and inspector ports', () => {
    assert.deepStrictEqual([24678, 9229, 3000].map(isAuxiliaryPort), [true, true, false]);
  });
});

describe('servers: which processes are the job', () => {
  it('names the program a command line starts', () => {
    assert.strictEqual(programOf('npm run dev'), 'npm');
    assert.strictEqual(programOf('/x/node_modules/.bin/vite --port 1'), 'vite');
    assert.strictEqual(programOf('"C:\\Program Files\\nodejs\\npm.cmd" run dev'), 'npm');
    assert.strictEqual(runsProgram('/usr/bin/node /usr/lib/node_modules/npm/bin/npm-cli.js run dev', 'npm-cli'), true);
    assert.strictEqual(runsProgram('node /usr/bin/npm run dev', 'npm'), true);
    assert.strictEqual(runsProgram('/bin/bash --init-file x', 'npm'), false);
  });

  it('is not ended by a shell that has no child yet, nor by a prompt subshell before the command started', () => {
    const job = new TerminalJob(100, 'npm run dev', 'npm');
    assert.strictEqual(job.observe(table([{ pid: 100, ppid: 1 }])), false);
    // A prompt hook's subshell comes and goes before the command was sent: it is not the job.
    assert.strictEqual(job.observe(table([{ pid: 100, ppid: 1 }, { pid: 101, ppid: 100, pgid: 100, command: '/bin/bash -c __git_ps1' }])), false);
    assert.strictEqual(job.observe(table([{ pid: 100, ppid: 1 }])), false);
    assert.strictEqual(job.ended, false);
    assert.strictEqual(job.rootPid(), undefined);
  });

  it('follows the job by its program and process group, and ends when every process of it is gone', () => {
    const job = new TerminalJob(100, 'npm run dev', 'npm');
    const running = table([
      { pid: 100, ppid: 1, pgid: 100 },
      { pid: 200, ppid: 100, pgid: 200, command: 'node /usr/bin/npm run dev' },
      { pid: 201, ppid: 200, pgid: 200, command: 'sh -c node server.js' },
      { pid: 202, ppid: 201, pgid: 200, command: 'node server.js' },
    ]);
    assert.strictEqual(job.observe(running), false);
    assert.strictEqual(job.rootPid(), 200);
    assert.deepStrictEqual(job.pids(running).sort(), [200, 201, 202]);
    // npm is a zombie not yet reaped: dead.
    assert.strictEqual(job.observe(table([{ pid: 100, ppid: 1 }, { pid: 200, ppid: 100, pgid: 200, state: 'Z' }])), true);
    assert.strictEqual(job.ended, true);
  });

  it('takes a child after its execution started as the job, but never the shell between fork and exec', () => {
    const job = new TerminalJob(100, 'pnpm dev', 'pnpm');
    job.started = true;
    job.execution = {} as never;
    job.observe(table([{ pid: 100, ppid: 1 }, { pid: 300, ppid: 100, pgid: 300, command: '/bin/bash --init-file x' }]));
    assert.strictEqual(job.rootPid(), undefined);
    job.observe(table([{ pid: 100, ppid: 1 }, { pid: 300, ppid: 100, pgid: 300, command: '/usr/bin/node /usr/lib/pnpm/bin/pnpm.cjs dev' }]));
    assert.strictEqual(job.rootPid(), 300);
  });
});

describe('servers: a taken port in the output (minimal portTrouble)', () => {
  it("reads Node's EADDRINUSE with its port", () => {
    assert.deepStrictEqual(portTrouble('Error: listen EADDRINUSE: address already in use 127.0.0.1:43120\n'), {
      kind: 'inUse',
      port: 43120,
      line: 'Error: listen EADDRINUSE: address already in use 127.0.0.1:43120',
    });
    assert.strictEqual(portTrouble('Error: listen EADDRINUSE: address already in use :::3000')?.port, 3000);
  });

  it("reads Vite's strict error and CRA's prompt", () => {
    assert.strictEqual(portTrouble('\u001b[31merror\u001b[39m Port 5173 is already in use')?.port, 5173);
    const prompt = portTrouble('Something is already running on port 3000.\n\nWould you like to run the app on another port instead? (Y/n) ');
    assert.deepStrictEqual([prompt?.kind, prompt?.port], ['prompt', 3000]);
    assert.strictEqual(portTrouble('? Would you like to use a different port? (Y/n)')?.kind, 'prompt');
  });

  it('says nothing about an ordinary start', () => {
    assert.strictEqual(portTrouble('  ➜  Local:   http://localhost:5173/\nready in 300 ms'), undefined);
  });
});

describe('servers: health', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  it('is ready once something answers HTTP on 127.0.0.1, whatever the status', async () => {
    const server = http.createServer((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    assert.strictEqual(await answersHttp((server.address() as AddressInfo).port, '127.0.0.1'), true);
  });

  it('is not ready while nothing answers HTTP', async () => {
    const raw = require('net').createServer((socket: { destroy(): void }) => socket.destroy());
    servers.push(raw);
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    assert.strictEqual(await answersHttp(raw.address().port, '127.0.0.1'), false);
  });

  it('takes Ctrl+C and a TERM from outside as meant, and words the timeout', () => {
    assert.deepStrictEqual([130, 143, 1, 0, undefined].map(isDeliberateExit), [true, true, false, false, false]);
    assert.strictEqual(notListeningNote(60_000), 'not listening after 60 s');
  });

  it('says a crash, an exit without listening, and nothing for a meant stop or a code still unknown', () => {
    const report = (code: number | undefined, seenListening: boolean) => exitReportText({ name: 'web', port: 3000, code, seenListening });
    assert.strictEqual(report(1, true), 'web stopped (exit code 1); port 3000 was released.');
    assert.strictEqual(report(137, false), 'web stopped (exit code 137); port 3000 was released.');
    assert.match(report(0, false)!, /^web ended with code 0 without ever listening on port 3000 /);
    assert.match(report(undefined, false)!, /^web ended without ever listening on port 3000 /);
    // A server that listened and whose code is not known yet: its code comes later and is judged then.
    assert.strictEqual(report(undefined, true), undefined);
    assert.strictEqual(report(0, true), undefined);
    assert.strictEqual(report(130, true), undefined);
    assert.strictEqual(report(143, false), undefined);
  });
});
