import * as assert from 'assert';
import type { Project } from '../../../src/core/projects';
import type { Allocation } from '../../../src/core/types';
import { isProcessAlive } from '../../../src/os/index';
import type { Listener } from '../../../src/os/types';
import { buildPortsModel, formatAge, type GroupNode, type ModelInput, type PortsNode, type ProjectNode, type ServerInfo } from '../../../src/vscode/portsModel';
import { deadPid } from '../core/helpers/testUtils';

const NOW = 1_700_000_000_000;
const MINUTE = 60_000;
const STALE_AFTER = 5 * MINUTE;

function project(name: string, extra: Partial<Project> = {}): Project {
  return { id: `/ws/${name}`, name, folder: `/ws/${name}`, workspaceFolder: '/ws', packageManager: 'npm', script: 'dev', ...extra };
}

function listener(port: number, pid: number | undefined, extra: Partial<Listener> = {}): Listener {
  return {
    port,
    address: '127.0.0.1',
    pids: pid === undefined ? [] : [pid],
    processes: pid === undefined ? [] : [{ pid, name: 'node', command: 'node server.js' }],
    ...extra,
  };
}

function server(projectId: string, port: number, state: ServerInfo['state'], extra: Partial<ServerInfo> = {}): ServerInfo {
  return { projectId, port, state, startedAt: NOW - MINUTE, commandLine: 'npm run dev -- --port ' + port, terminalName: `web :${port}`, ...extra };
}

/** The model of a window; liveness is asked of the real OS (this process is alive, `dead` has exited). */
function model(input: Partial<ModelInput>): PortsNode[] {
  const listeners = input.listeners ?? [];
  return buildPortsModel({
    projects: [],
    allocations: [],
    servers: [],
    starting: new Set(),
    listening: new Set(listeners.map((l) => l.port)),
    range: { start: 3000, end: 3999 },
    now: NOW,
    staleAfterMs: STALE_AFTER,
    isAlive: isProcessAlive,
    ...input,
  });
}

function only(nodes: PortsNode[]): ProjectNode {
  assert.strictEqual(nodes.length, 1, JSON.stringify(nodes));
  const node = nodes[0];
  assert.strictEqual(node.kind, 'project');
  return node as ProjectNode;
}

describe('buildPortsModel', () => {
  let dead: number;
  before(async () => {
    dead = await deadPid();
  });

  it('is empty when there are no projects, allocations or listeners', () => {
    assert.deepStrictEqual(model({}), []);
  });

  it('shows a project with nothing allocated as stopped, with its dev command', () => {
    const node = only(model({ projects: [project('web')] }));
    assert.strictEqual(node.state, 'stopped');
    assert.strictEqual(node.command, 'npm run dev');
    assert.strictEqual(node.managed, false);
  });

  it('shows a project whose start is under way as starting', () => {
    const node = only(model({ projects: [project('web')], starting: new Set(['/ws/web']) }));
    assert.strictEqual(node.state, 'starting');
  });

  it('shows a managed server that does not listen yet as starting, on its shell PID', () => {
    const node = only(model({ projects: [project('web')], servers: [server('/ws/web', 3001, 'starting', { shellPid: 4242 })] }));
    assert.strictEqual(node.state, 'starting');
    assert.strictEqual(node.port, 3001);
    assert.strictEqual(node.pid, 4242);
    assert.strictEqual(node.managed, true);
  });

  it('shows a stopping server as starting with a stopping note', () => {
    const node = only(model({ projects: [project('web')], servers: [server('/ws/web', 3001, 'starting', { phase: 'stopping' })] }));
    assert.strictEqual(node.state, 'starting');
    assert.strictEqual(node.note, 'stopping…');
  });

  it('shows a running managed server with the PID that listens, and claims its listener', () => {
    const nodes = model({
      projects: [project('web')],
      servers: [server('/ws/web', 3001, 'listening', { shellPid: 4242 })],
      listeners: [listener(3001, 4300)],
    });
    const node = only(nodes);
    assert.strictEqual(node.state, 'running');
    assert.strictEqual(node.pid, 4300);
    assert.deepStrictEqual(node.listeners.map((l) => l.port), [3001]);
    assert.strictEqual(node.since, NOW - MINUTE);
  });

  it('attaches listeners of processes in the server tree on other ports too', () => {
    const node = only(
      model({
        projects: [project('web')],
        servers: [server('/ws/web', 3001, 'listening')],
        listeners: [listener(3001, 4300), listener(24678, 4300)],
        ownedPids: new Map([[4300, '/ws/web']]),
      }),
    );
    assert.deepStrictEqual(node.listeners.map((l) => l.port), [3001, 24678]);
  });

  it('shows an allocation whose live process listens, without a terminal, as running', () => {
    const allocation: Allocation = { projectId: '/ws/web', port: 3002, allocatedAt: NOW - MINUTE, pid: process.pid };
    const node = only(model({ projects: [project('web')], allocations: [allocation], listeners: [listener(3002, 5000)] }));
    assert.strictEqual(node.state, 'running');
    assert.strictEqual(node.note, 'no terminal');
    assert.strictEqual(node.pid, 5000);
  });

  it('shows an allocation whose port another process holds as a conflict naming the holder', () => {
    const allocation: Allocation = { projectId: '/ws/web', port: 3002, allocatedAt: NOW - MINUTE, pid: dead };
    const node = only(model({ projects: [project('web')], allocations: [allocation], listeners: [listener(3002, 5000)] }));
    assert.strictEqual(node.state, 'conflict');
    assert.strictEqual(node.note, 'held by node (PID 5000)');
    assert.strictEqual(node.pid, 5000);
  });

  it('names a holder by PID when its process could not be read', () => {
    const allocation: Allocation = { projectId: '/ws/web', port: 3002, allocatedAt: NOW };
    const node = only(model({ projects: [project('web')], allocations: [allocation], listeners: [listener(3002, 5000, { processes: [] })] }));
    assert.strictEqual(node.note, 'held by PID 5000');
  });

  it("says another user holds the port when only the socket's uid is known", () => {
    const allocation: Allocation = { projectId: '/ws/web', port: 3002, allocatedAt: NOW };
    const node = only(model({ projects: [project('web')], allocations: [allocation], listeners: [listener(3002, undefined, { ownerUid: 1001 })] }));
    assert.strictEqual(node.state, 'conflict');
    assert.strictEqual(node.note, 'held by another user');
  });

  it('says only "in use" when the port listens but no listener scan was made', () => {
    const allocation: Allocation = { projectId: '/ws/web', port: 3002, allocatedAt: NOW };
    const node = only(model({ projects: [project('web')], allocations: [allocation], listening: new Set([3002]) }));
    assert.strictEqual(node.state, 'conflict');
    assert.strictEqual(node.note, 'in use by another process');
  });

  it('shows a project whose configured port is taken, with no allocation, as a conflict', () => {
    const node = only(model({ projects: [project('web', { port: 3003 })], listeners: [listener(3003, 5000)] }));
    assert.strictEqual(node.state, 'conflict');
    assert.strictEqual(node.port, 3003);
  });

  it('shows an allocation older than the stale age, free and without a live process, as stale', () => {
    const allocation: Allocation = { projectId: '/ws/web', port: 3004, allocatedAt: NOW - STALE_AFTER, pid: dead };
    const node = only(model({ projects: [project('web')], allocations: [allocation] }));
    assert.strictEqual(node.state, 'stale');
    assert.strictEqual(node.note, 'nothing listens');
  });

  it('keeps a younger free allocation as reserved, not stale', () => {
    const allocation: Allocation = { projectId: '/ws/web', port: 3004, allocatedAt: NOW - STALE_AFTER + 1 };
    const node = only(model({ projects: [project('web')], allocations: [allocation] }));
    assert.strictEqual(node.state, 'stopped');
    assert.strictEqual(node.note, 'reserved');
  });

  it('keeps an old free allocation whose process still lives as reserved, not stale', () => {
    const allocation: Allocation = { projectId: '/ws/web', port: 3004, allocatedAt: NOW - 10 * STALE_AFTER, pid: process.pid };
    const node = only(model({ projects: [project('web')], allocations: [allocation] }));
    assert.strictEqual(node.note, 'reserved');
  });

  it('names a project only known from an allocation after its folder', () => {
    const node = only(model({ allocations: [{ projectId: '/elsewhere/api', port: 3005, allocatedAt: NOW }] }));
    assert.strictEqual(node.name, 'api');
    assert.strictEqual(node.folder, '/elsewhere/api');
  });

  it('sorts projects by name', () => {
    const nodes = model({ projects: [project('zeta'), project('alpha'), project('mid')] });
    assert.deepStrictEqual(nodes.map((n) => (n as ProjectNode).name), ['alpha', 'mid', 'zeta']);
  });

  it('groups unclaimed listeners in the range under Other listeners, by port, and leaves out those outside it', () => {
    const nodes = model({
      projects: [project('web')],
      servers: [server('/ws/web', 3001, 'listening')],
      listeners: [listener(3900, 1), listener(3001, 2), listener(3100, 3), listener(8080, 4)],
    });
    assert.strictEqual(nodes.length, 2);
    const group = nodes[1] as GroupNode;
    assert.strictEqual(group.kind, 'group');
    assert.strictEqual(group.label, 'Other listeners');
    assert.deepStrictEqual(group.listeners.map((l) => l.port), [3100, 3900]);
  });

  it("shows the holder of a project's taken configured port under the project, not under Other listeners", () => {
    const nodes = model({ projects: [project('web', { port: 3003 })], listeners: [listener(3003, 5000)] });
    assert.strictEqual(nodes.length, 1);
    assert.deepStrictEqual((nodes[0] as ProjectNode).listeners.map((l) => l.port), [3003]);
  });
});

describe('formatAge', () => {
  it('shows seconds under a minute', () => {
    assert.strictEqual(formatAge(45_000), '45s');
  });

  it('shows whole minutes under an hour', () => {
    assert.strictEqual(formatAge(125_000), '2m');
  });

  it('shows hours and minutes under a day, dropping zero minutes', () => {
    assert.strictEqual(formatAge(2 * 3_600_000 + 5 * MINUTE), '2h 5m');
    assert.strictEqual(formatAge(3 * 3_600_000), '3h');
  });

  it('shows whole days from a day on', () => {
    assert.strictEqual(formatAge(3 * 86_400_000 + 7 * 3_600_000), '3d');
  });

  it('shows a negative age (clock skew) as 0s', () => {
    assert.strictEqual(formatAge(-5_000), '0s');
  });
});
