import * as assert from 'assert';
import type { Project } from '../../../src/core/projects';
import type { Allocation } from '../../../src/core/types';
import { isProcessAlive } from '../../../src/os/index';
import type { Listener } from '../../../src/os/types';
import {
  buildPortsModel,
  diffTree,
  formatAge,
  freePortChoices,
  startAllScope,
  toListenerNode,
  type GroupNode,
  type ModelInput,
  type PortsNode,
  type ProjectNode,
  type Reservation,
  type ServerInfo,
} from '../../../src/vscode/portsModel';
import { deadPid } from '../core/helpers/testUtils';

const NOW = 1_700_000_000_000;
const MINUTE = 60_000;
const STALE_AFTER = 5 * MINUTE;

function project(name: string, extra: Partial<Project> = {}): Project {
  return { id: `/ws/${name}`, name, label: name, relativePath: name, role: 'server', folder: `/ws/${name}`, workspaceFolder: '/ws', packageManager: 'npm', script: 'dev', ...extra };
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

  it('shows a managed server that does not listen yet as starting, naming its shell PID as the shell', () => {
    const node = only(model({ projects: [project('web')], servers: [server('/ws/web', 3001, 'starting', { shellPid: 4242 })] }));
    assert.strictEqual(node.state, 'starting');
    assert.strictEqual(node.port, 3001);
    assert.strictEqual(node.pid, undefined);
    assert.strictEqual(node.shellPid, 4242);
    assert.strictEqual(node.managed, true);
  });

  it('shows a server in its stopping phase with a stopping note', () => {
    const node = only(model({ projects: [project('web')], servers: [server('/ws/web', 3001, 'listening', { phase: 'stopping' })] }));
    assert.strictEqual(node.state, 'running');
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
    assert.strictEqual(node.note, 'held by another user (uid 1001)');
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
    assert.strictEqual(node.state, 'reserved');
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

describe('buildPortsModel: what a user sees per state', () => {
  let dead: number;
  before(async () => {
    dead = await deadPid();
  });

  it('puts port and state before the PID in a running row, and offers Stop, Restart and Open', () => {
    const node = only(model({ projects: [project('web')], servers: [server('/ws/web', 3001, 'ready', { shellPid: 4242 })], listeners: [listener(3001, 4300)] }));
    assert.strictEqual(node.description, ':3001 · ready · PID 4300');
    assert.strictEqual(node.contextValue, 'project.running.open');
    assert.strictEqual(node.pidName, 'node');
    assert.strictEqual(node.shellPid, 4242);
  });

  it('offers no Open in Browser on a stopped project, only Start', () => {
    const node = only(model({ projects: [project('web')] }));
    assert.strictEqual(node.contextValue, 'project.stopped');
    assert.strictEqual(node.description, '');
  });

  it('says "waiting for your answer" while a conflict question is open', () => {
    const node = only(model({ projects: [project('web')], servers: [server('/ws/web', 3001, 'starting', { phase: 'waiting' })] }));
    assert.strictEqual(node.state, 'waiting');
    assert.strictEqual(node.description, ':3001 · waiting for your answer');
    assert.strictEqual(node.contextValue, 'project.waiting');
  });

  it('shows an unhealthy server with its note, and an exited one with its code and Start', () => {
    const [sick] = model({ projects: [project('web')], servers: [server('/ws/web', 3001, 'unhealthy', { note: 'not listening after 60 s', pid: 4300 })] }) as ProjectNode[];
    assert.strictEqual(sick.description, ':3001 · unhealthy · not listening after 60 s · PID 4300');
    assert.strictEqual(sick.contextValue, 'project.unhealthy');
    const [gone] = model({ projects: [project('web')], servers: [server('/ws/web', 3001, 'exited', { exitCode: 1 })] }) as ProjectNode[];
    assert.strictEqual(gone.state, 'exited');
    assert.strictEqual(gone.description, ':3001 · exited (code 1)');
    assert.strictEqual(gone.contextValue, 'project.exited');
  });

  it('gives a conflict row its holder and the conflict menu (Start and Free Port inline)', () => {
    const allocation: Allocation = { projectId: '/ws/web', port: 3002, allocatedAt: NOW - MINUTE, pid: dead };
    const node = only(model({ projects: [project('web')], allocations: [allocation], listeners: [listener(3002, 5000)] }));
    assert.strictEqual(node.description, ':3002 · conflict · held by node (PID 5000)');
    assert.strictEqual(node.contextValue, 'project.conflict');
  });

  it('gives a stale row the stale menu (Stop releases)', () => {
    const allocation: Allocation = { projectId: '/ws/web', port: 3004, allocatedAt: NOW - STALE_AFTER, pid: dead };
    const node = only(model({ projects: [project('web')], allocations: [allocation] }));
    assert.strictEqual(node.contextValue, 'project.stale');
    assert.strictEqual(node.description, ':3004 · stale · nothing listens');
  });

  it('lists extra ports of the server as child rows of its project', () => {
    const node = only(
      model({
        projects: [project('web')],
        servers: [server('/ws/web', 3001, 'ready', { extraPorts: [24678, 9229] })],
        listeners: [listener(3001, 4300), listener(24678, 4300)],
      }),
    );
    assert.deepStrictEqual(node.listeners.map((l) => [l.port, !!l.extra, l.contextValue]), [
      [3001, false, 'listener.project'],
      [24678, true, 'listener.project'],
      [9229, true, 'listener.project'],
    ]);
  });

  it("shows another window's reservation as that window's, and a CLI reservation as the CLI's", () => {
    const reservations: Reservation[] = [
      { projectId: '/ws/web', port: 3010, allocatedAt: NOW, owner: { pid: process.ppid, kind: 'vscode' }, ownerIsThisWindow: false },
      { projectId: '/ws/api', port: 3011, allocatedAt: NOW, ownerIsThisWindow: false },
      { projectId: '/ws/docs', port: 3012, allocatedAt: NOW, owner: { pid: process.pid, kind: 'vscode' }, ownerIsThisWindow: true },
      { projectId: '/other/thing', port: 3013, allocatedAt: NOW, ownerIsThisWindow: false },
    ];
    const nodes = model({ projects: [project('web'), project('api'), project('docs')], reservations, listeners: [listener(3010, 888)] }) as ProjectNode[];
    const [apiNode, docs, web] = nodes;
    assert.strictEqual(nodes.length, 3, 'a reservation of a project outside the workspace is not shown');
    assert.strictEqual(web.state, 'elsewhere');
    assert.strictEqual(web.description, `:3010 · another window (PID ${process.ppid}) · running there`);
    assert.strictEqual(web.contextValue, 'project.elsewhere.open');
    assert.deepStrictEqual(web.listeners.map((l) => l.contextValue), ['listener.project']);
    assert.strictEqual(apiNode.description, ':3011 · the CLI · nothing listens yet');
    assert.strictEqual(apiNode.contextValue, 'project.elsewhere');
    assert.strictEqual(docs.state, 'stopped', "this window's own reservation is not 'elsewhere'");
  });

  it("drops a closed window's reservation whose port is free, and names a closed window whose server still listens", () => {
    const closed = (projectId: string, port: number): Reservation => ({ projectId, port, allocatedAt: NOW, owner: { pid: dead, kind: 'vscode' }, ownerIsThisWindow: false });
    const [apiNode, web] = model({ projects: [project('api'), project('web')], reservations: [closed('/ws/api', 3014), closed('/ws/web', 3015)], listeners: [listener(3015, 999)] }) as ProjectNode[];
    assert.strictEqual(apiNode.state, 'stopped');
    assert.strictEqual(web.state, 'elsewhere');
    assert.strictEqual(web.reservedBy, `a closed window (PID ${dead})`);
  });

  it('lists watchers apart, with no port and no actions', () => {
    const nodes = model({ projects: [project('web'), project('types', { role: 'watcher', port: 3020 } as Partial<Project>)] });
    assert.strictEqual(nodes.length, 2);
    const group = nodes[1] as GroupNode;
    assert.strictEqual(group.label, 'Watchers');
    assert.strictEqual(group.projects[0].port, undefined);
    assert.strictEqual(group.projects[0].contextValue, 'watcher');
    assert.strictEqual(group.projects[0].description, 'watcher');
  });

  it('offers Start All, not Start, on an orchestrator', () => {
    const node = only(model({ projects: [project('root', { role: 'orchestrator' } as Partial<Project>)] }));
    assert.strictEqual(node.contextValue, 'orchestrator');
    assert.strictEqual(node.description, 'starts its apps');
  });

  it("labels the editor's own listeners and VS Code's forwarder, and offers Free Port for neither", () => {
    const nodes = model({
      editorPids: new Set([9000]),
      listeners: [
        listener(3030, 9000, { processes: [{ pid: 9000, name: 'node', command: '/usr/lib/code-server/lib/node /usr/lib/code-server/out/node/entry' }] }),
        listener(3031, 9100, { processes: [{ pid: 9100, name: 'code', command: '/usr/share/code/code --type=utility' }] }),
        listener(3032, 9200),
      ],
    });
    const group = nodes[0] as GroupNode;
    assert.deepStrictEqual(group.listeners.map((l) => [l.port, l.holderText, l.contextValue]), [
      [3030, 'held by this editor', 'listener.editor'],
      [3031, 'held by VS Code (port forwarding)', 'listener.forwarder'],
      [3032, 'node (PID 9200)', 'listener'],
    ]);
  });

  it('tells VS Code processes from dev servers that merely live in a folder named code', () => {
    const kind = (command: string) => toListenerNode(listener(3050, 9500, { processes: [{ pid: 9500, name: 'node', command }] }), {}).holder;
    assert.strictEqual(kind('/usr/lib/code-server/lib/node /usr/lib/code-server/out/node/entry'), 'forwarder');
    assert.strictEqual(kind('/root/.vscode-server/bin/abc/node /root/.vscode-server/bin/abc/out/server-main.js --port 0'), 'forwarder');
    assert.strictEqual(kind('code tunnel --accept-server-license-terms'), 'forwarder');
    assert.strictEqual(kind('node /home/me/code/app/server.js'), 'process');
    assert.strictEqual(kind('node /srv/vscode-like/app.js'), 'process');
  });

  it("names another user's process and offers no Free Port for it", () => {
    const l = toListenerNode(
      listener(3040, 9300, { processes: [{ pid: 9300, name: 'node', command: 'node x', uid: 1001, user: 'alice' }] }),
      { uid: 1000 },
    );
    assert.strictEqual(l.holderText, 'another user (alice)');
    assert.strictEqual(l.contextValue, 'listener.otherUser');
    const root = toListenerNode(listener(3040, 9300, { processes: [{ pid: 9300, name: 'node', command: 'node x', uid: 1001 }] }), { uid: 0 });
    assert.strictEqual(root.contextValue, 'listener', 'root can stop any process');
  });

  it('says a socket of your own uid that no process here holds is out of sight (another PID namespace), not "another user"', () => {
    const mine = toListenerNode(listener(2024, undefined, { ownerUid: 0 }), { uid: 0 });
    assert.strictEqual(mine.holder, 'outOfSight');
    assert.strictEqual(mine.holderText, 'not visible from here (another PID namespace, container or VM)');
    assert.strictEqual(mine.contextValue, 'listener.outOfSight');
    const theirs = toListenerNode(listener(2024, undefined, { ownerUid: 1001 }), { uid: 1000 });
    assert.strictEqual(theirs.holderText, 'another user (uid 1001)');
  });
});

describe('freePortChoices: order', () => {
  it("puts what Dev Ports can stop before another user's and out-of-sight holders, so Enter never picks one it cannot stop", () => {
    const nodes = [toListenerNode(listener(2024, undefined, { ownerUid: 0 }), { uid: 0 }), toListenerNode(listener(8080, 7000), { uid: 0 })];
    const choices = freePortChoices(nodes, [], { start: 3000, end: 3999 });
    assert.deepStrictEqual(choices.rest.map((c) => c.listener.port), [8080, 2024]);
  });
});

describe('startAllScope', () => {
  it("limits Start All to an orchestrator's folder, and takes any other row (the title button's selection) as the whole workspace", () => {
    const [web] = model({ projects: [project('web')] }) as ProjectNode[];
    assert.strictEqual(startAllScope(web), undefined);
    assert.strictEqual(startAllScope({ ...web, role: 'orchestrator' }), web.folder);
    const l = toListenerNode(listener(3001, 4300), {});
    assert.strictEqual(startAllScope(l), undefined);
  });
});

describe('freePortChoices', () => {
  it("lists the range's listeners first with their projects, then the rest, and never the editor's", () => {
    const editorPids = new Set([9000]);
    const listeners = [listener(8080, 9000), listener(5432, 7000), listener(3001, 4300), listener(3900, 7100)];
    const roots = model({ projects: [project('web')], servers: [server('/ws/web', 3001, 'ready')], listeners, editorPids });
    const choices = freePortChoices(listeners.map((l) => toListenerNode(l, { editorPids })), roots, { start: 3000, end: 3999 });
    assert.deepStrictEqual(choices.inRange.map((c) => [c.listener.port, c.project]), [[3001, 'web'], [3900, undefined]]);
    assert.deepStrictEqual(choices.rest.map((c) => c.listener.port), [5432]);
    assert.deepStrictEqual(choices.hidden.map((l) => [l.port, l.holderText]), [[8080, 'held by this editor']]);
  });

  it('does not name a project for the holder of its taken port', () => {
    const listeners = [listener(3002, 5000)];
    const allocation: Allocation = { projectId: '/ws/web', port: 3002, allocatedAt: NOW };
    const roots = model({ projects: [project('web')], allocations: [allocation], listeners });
    const choices = freePortChoices(listeners.map((l) => toListenerNode(l, {})), roots, { start: 3000, end: 3999 });
    assert.deepStrictEqual(choices.inRange.map((c) => [c.listener.port, c.project]), [[3002, undefined]]);
  });
});

describe('diffTree', () => {
  const base = (servers: ServerInfo[], listeners: Listener[] = []) => model({ projects: [project('api'), project('web')], servers, listeners });

  it('keeps row objects and reports no change when nothing changed', () => {
    const first = diffTree(undefined, base([server('/ws/web', 3001, 'ready')])).roots;
    const again = diffTree(first, base([server('/ws/web', 3001, 'ready')]));
    assert.strictEqual(again.structural, false);
    assert.deepStrictEqual(again.changed, []);
    assert.strictEqual(again.roots[0], first[0]);
    assert.strictEqual(again.roots[1], first[1]);
  });

  it('reports only the row whose state changed, updated in place', () => {
    const first = diffTree(undefined, base([server('/ws/web', 3001, 'listening')])).roots;
    const web = first[1] as ProjectNode;
    const next = diffTree(first, base([server('/ws/web', 3001, 'ready')]));
    assert.strictEqual(next.structural, false);
    assert.deepStrictEqual(next.changed, [web]);
    assert.strictEqual(web.health, 'ready');
    assert.strictEqual(web.description, ':3001 · ready');
  });

  it('reports the parent, not the child, when a row gains a child', () => {
    const first = diffTree(undefined, base([server('/ws/web', 3001, 'listening')])).roots;
    const next = diffTree(first, base([server('/ws/web', 3001, 'listening')], [listener(3001, 4300)]));
    assert.deepStrictEqual(next.changed.map((n) => n.id), ['project:/ws/web']);
    assert.strictEqual((first[1] as ProjectNode).listeners.length, 1);
  });

  it('reports a change of the root rows as structural', () => {
    const first = diffTree(undefined, base([])).roots;
    const next = diffTree(first, model({ projects: [project('api'), project('web'), project('zoo')] }));
    assert.strictEqual(next.structural, true);
    assert.strictEqual(next.roots.length, 3);
    assert.strictEqual(next.roots[0], first[0], 'kept rows keep their objects');
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
