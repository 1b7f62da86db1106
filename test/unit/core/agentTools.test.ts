/**
 * The agent tools' shared definitions and pure logic (src/core/agentTools.ts): package.json declares exactly
 * them, projects are found by id, relative path or name, and the listPorts result says who holds what.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { AGENT_TOOLS, buildListPorts, findProject, freePortInput, localUrl, projectInput } from '../../../src/core/agentTools';
import { InvalidInputError } from '../../../src/core/errors';
import type { Project } from '../../../src/core/projects';
import type { Listener } from '../../../src/os/types';

const ROOT = path.resolve(__dirname, '../../..');

function project(rel: string, name = path.basename(rel)): Project {
  const folder = path.join('/src/shop', rel);
  return { id: folder, name, folder, workspaceFolder: '/src/shop', packageManager: 'npm', script: 'dev', scriptCommand: 'vite', label: name, relativePath: rel, role: 'server' };
}

function listener(port: number, pid: number, name = 'node', command = 'node server.js'): Listener {
  return { port, address: '127.0.0.1', pids: [pid], processes: [{ pid, name, command }] };
}

const web = project('apps/web');
const api = project('apps/api', '@shop/api');

describe('agent tools (shared core)', () => {
  it('are the tools package.json contributes, with the same names, descriptions and schemas', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const contributed = pkg.contributes.languageModelTools as { name: string; modelDescription: string; inputSchema: unknown; displayName: string }[];
    assert.deepStrictEqual(
      contributed.map((t) => [t.name, t.displayName, t.modelDescription, t.inputSchema]),
      AGENT_TOOLS.map((t) => [t.name, t.displayName, t.modelDescription, t.inputSchema]),
    );
    assert.deepStrictEqual(AGENT_TOOLS.map((t) => t.name), ['devPorts_listPorts', 'devPorts_startDevServer', 'devPorts_stopDevServer', 'devPorts_freePort']);
  });

  it('finds a project by absolute path, path relative to a workspace folder, package.json name or folder name', () => {
    const projects = [web, api];
    assert.strictEqual(findProject(projects, '/src/shop/apps/web/', ['/src/shop']), web);
    assert.strictEqual(findProject(projects, 'apps/api', ['/src/shop']), api);
    assert.strictEqual(findProject(projects, '@shop/api', ['/src/shop']), api);
    assert.strictEqual(findProject(projects, 'api', ['/src/shop']), api);
  });

  it('names the known projects when nothing matches, and asks for a path when a name is ambiguous', () => {
    assert.throws(() => findProject([web, api], 'admin', ['/src/shop']), (e: Error) => e instanceof InvalidInputError && e.message === 'No dev-server project "admin". Projects: web (apps/web), @shop/api (apps/api).');
    const other = project('tools/web');
    assert.throws(() => findProject([web, other], 'web', ['/src/shop']), /names 2 projects; use its folder path/);
  });

  it('checks tool inputs', () => {
    assert.strictEqual(projectInput({ project: ' web ' }), 'web');
    assert.throws(() => projectInput({}), InvalidInputError);
    assert.deepStrictEqual(freePortInput({ port: 3000 }), { port: 3000, force: false });
    assert.deepStrictEqual(freePortInput({ port: '3000', force: true }), { port: 3000, force: true });
    assert.throws(() => freePortInput({ port: 0 }), /"port" must be an integer from 1 to 65535, got 0\./);
  });

  it('lists each project with its state, port, listening PID and URL, and the range\'s other listeners with their holders', () => {
    const result = buildListPorts({
      projects: [web, api, project('apps/admin')],
      reservations: new Map([[api.id, 3001], [project('apps/admin').id, 3002]]),
      servers: [{ projectId: web.id, port: 3000, state: 'starting', pid: 100 }],
      listeners: [listener(3000, 101), listener(3001, 200, 'python3', 'python3 -m http.server'), listener(3500, 300), listener(8080, 400)],
      range: { start: 3000, end: 3999 },
      ownedPids: new Map([[100, web.id], [101, web.id]]),
      url: localUrl,
    });
    assert.deepStrictEqual(result.projects, [
      { projectId: web.id, name: 'web', relativePath: 'apps/web', state: 'listening', startedByDevPorts: true, port: 3000, pid: 101, url: 'http://localhost:3000/' },
      {
        projectId: api.id,
        name: '@shop/api',
        relativePath: 'apps/api',
        state: 'listening',
        startedByDevPorts: false,
        port: 3001,
        pid: 200,
        heldBy: [{ pid: 200, name: 'python3', command: 'python3 -m http.server' }],
        url: 'http://localhost:3001/',
      },
      { projectId: project('apps/admin').id, name: 'admin', relativePath: 'apps/admin', state: 'reserved', startedByDevPorts: false, port: 3002 },
    ]);
    assert.deepStrictEqual(result.otherListeners, [
      { port: 3500, address: '127.0.0.1', pids: [300], processes: [{ pid: 300, name: 'node', command: 'node server.js' }], url: 'http://localhost:3500/' },
    ]);
  });
});
