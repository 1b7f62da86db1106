import * as assert from 'assert';
import type { Listener } from '../../src/os/types';
import type { Allocation } from '../../src/core/types';
import {
  formatAge,
  formatAllocationsTable,
  formatJson,
  formatListTable,
  formatTable,
  toAllocation,
  toListEntries,
  truncate,
  truncateStart,
  escapeControl,
} from '../../src/cli/format';

const web: Listener = {
  port: 3000,
  address: '127.0.0.1',
  pids: [1234],
  processes: [{ pid: 1234, name: 'node', command: 'node server.js --port 3000', cwd: '/w/web', uid: 1000, user: 'me' }],
};
const postgres: Listener = { port: 5432, address: '::1', pids: [], processes: [], ownerUid: 999 };
const api: Listener = {
  port: 3001,
  address: '::',
  pids: [77],
  processes: [{ pid: 77, name: 'node', command: 'node api.js', uid: 0 }],
};
const webAllocation: Allocation & { owner: { pid: number; kind: 'cli' } } = {
  projectId: '/w/web',
  port: 3000,
  allocatedAt: 1_700_000_000_000,
  owner: { pid: 9, kind: 'cli' },
};

describe('cli format: JSON shapes', () => {
  it('prints pretty JSON ending with a newline', () => {
    assert.strictEqual(formatJson({ port: 3000 }), '{\n  "port": 3000\n}\n');
  });

  it('keeps only the contract fields of an allocation', () => {
    assert.deepStrictEqual(toAllocation(webAllocation), { projectId: '/w/web', port: 3000, allocatedAt: 1_700_000_000_000 });
    assert.deepStrictEqual(toAllocation({ projectId: '/w/api', port: 3001, allocatedAt: 5, pid: 42 }), {
      projectId: '/w/api',
      port: 3001,
      allocatedAt: 5,
      pid: 42,
    });
  });

  it('builds list rows sorted by port with pid, command, cwd and the allocation of their port', () => {
    const rows = toListEntries([postgres, api, web], [webAllocation]);
    assert.deepStrictEqual(rows, [
      {
        port: 3000,
        address: '127.0.0.1',
        pids: [1234],
        processes: [{ pid: 1234, command: 'node server.js --port 3000', cwd: '/w/web' }],
        allocation: { projectId: '/w/web', port: 3000, allocatedAt: 1_700_000_000_000 },
      },
      { port: 3001, address: '::', pids: [77], processes: [{ pid: 77, command: 'node api.js' }] },
      { port: 5432, address: '::1', pids: [], processes: [] },
    ]);
  });
});

describe('cli format: text', () => {
  it('truncates with an ellipsis only when too long', () => {
    assert.strictEqual(truncate('node server.js', 20), 'node server.js');
    assert.strictEqual(truncate('node server.js', 8), 'node se…');
    assert.strictEqual(truncateStart('/home/me/shop/apps/web', 10), '…/apps/web');
  });

  it('aligns columns with two spaces and no trailing spaces', () => {
    const text = formatTable(['PORT', 'COMMAND', 'X'], [['3000', 'node a.js', ''], ['65535', 'n', 'y']]);
    assert.strictEqual(text, 'PORT   COMMAND    X\n3000   node a.js\n65535  n          y\n');
  });

  it('shrinks the chosen column to fit the width', () => {
    const text = formatTable(['A', 'COMMAND'], [['1', 'x'.repeat(50)]], { maxWidth: 20, shrink: [{ column: 1, min: 10 }] });
    for (const line of text.trimEnd().split('\n')) assert.ok(line.length <= 20, line);
    assert.match(text, /x…\n$/);
  });

  it('never shrinks a column below its minimum', () => {
    const text = formatTable(['A', 'COMMAND'], [['1', 'x'.repeat(50)]], { maxWidth: 5, shrink: [{ column: 1, min: 10 }] });
    assert.strictEqual(text.split('\n')[1], `1  ${'x'.repeat(9)}…`);
  });

  it('lists ports under PORT ADDRESS PID USER COMMAND PROJECT', () => {
    const text = formatListTable([api, web], [webAllocation]);
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0], /^PORT\s+ADDRESS\s+PID\s+USER\s+COMMAND\s+PROJECT$/);
    assert.match(lines[1], /^3000\s+127\.0\.0\.1\s+1234\s+me\s+node server\.js --port 3000\s+\/w\/web$/);
    assert.match(lines[2], /^3001\s+::\s+77\s+0\s+node api\.js$/);
    const commandColumn = lines[0].indexOf('COMMAND');
    assert.strictEqual(lines[1].indexOf('node server.js'), commandColumn);
    assert.strictEqual(lines[2].indexOf('node api.js'), commandColumn);
  });

  it("names another user's socket by uid when its process cannot be read", () => {
    const text = formatListTable([postgres], []);
    assert.match(text, /5432\s+::1\s+-\s+999\s+\(another user's process/);
  });

  it('says a socket of our own uid without visible PIDs is in another PID namespace', () => {
    const text = formatListTable([{ ...postgres, ownerUid: 0 }], [], undefined, 0);
    assert.match(text, /5432\s+::1\s+-\s+0\s+\(not visible from here: another PID namespace/);
  });

  it('cuts long commands to the terminal width', () => {
    const long: Listener = { ...web, processes: [{ ...web.processes[0], command: `node ${'very-long-argument '.repeat(20)}` }] };
    const text = formatListTable([long], [webAllocation], 80);
    for (const line of text.trimEnd().split('\n')) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    assert.match(text, /…\s+\/w\/web\n$/);
  });

  it('says so when nothing listens', () => {
    assert.strictEqual(formatListTable([], []), 'No TCP port is listening.\n');
  });

  it('formats ages in the largest sensible unit', () => {
    assert.strictEqual(formatAge(5_000), '5 s');
    assert.strictEqual(formatAge(90_000), '1 min');
    assert.strictEqual(formatAge(3 * 3_600_000), '3 h');
    assert.strictEqual(formatAge(3 * 86_400_000), '3 d');
    assert.strictEqual(formatAge(-10), '0 s');
  });

  it('lists allocations by port with their age, pid and who made them', () => {
    const now = 1_700_000_120_000;
    const text = formatAllocationsTable(
      [
        { projectId: '/w/api', port: 3001, allocatedAt: now - 5_000, pid: 42, owner: { pid: 4242, kind: 'vscode' } },
        { ...webAllocation, owner: { pid: 7, kind: 'cli' } },
        { projectId: '/w/lib', port: 3002, allocatedAt: now - 5_000, owner: { pid: 8, kind: 'library' } },
        { projectId: '/w/new', port: 3003, allocatedAt: now + 3_600_000, foreign: 'newer-version' },
      ],
      now,
    );
    assert.strictEqual(
      text,
      [
        'PORT  PROJECT  AGE            PID  BY',
        '3000  /w/web   2 min               cli',
        '3001  /w/api   5 s            42   VS Code (PID 4242)',
        '3002  /w/lib   5 s                 library',
        '3003  /w/new   in the future       a newer Dev Ports',
        '',
      ].join('\n'),
    );
  });

  it('escapes control characters of project ids and command lines in tables', () => {
    const text = formatAllocationsTable([{ projectId: '/w/\x1b[2Jevil\nroot', port: 3000, allocatedAt: 0 }], 0);
    assert.ok(!/[\x00-\x1f]/.test(text.replace(/\n/g, '')), JSON.stringify(text));
    assert.match(text, /\/w\/\\x1b\[2Jevil\\nroot/);
    assert.strictEqual(escapeControl('a\tb\rc\u202ed\u0085'), 'a\\tb\\rc\\u202ed\\x85');
  });

  it('says so when nothing is reserved', () => {
    assert.strictEqual(formatAllocationsTable([], 0), 'No port is reserved.\n');
  });
});
