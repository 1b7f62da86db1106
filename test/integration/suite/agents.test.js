// Agent integrations in real VS Code: the language model tools through vscode.lm (no model needed), the devPorts
// task type, and devPorts.port through a real `inputs` entry of the fixture's .vscode/tasks.json.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');
const h = require('./helpers');

const TOOLS = ['devPorts_listPorts', 'devPorts_startDevServer', 'devPorts_stopDevServer', 'devPorts_freePort'];

/** Invokes a tool as an extension (outside a chat request) and parses its JSON text result. */
async function invoke(name, input) {
  const result = await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined });
  const part = result.content[0];
  assert.ok(part instanceof vscode.LanguageModelTextPart, `${name} returns a text part`);
  return JSON.parse(part.value);
}

/** Runs a task and resolves with its process's exit code once it ended. */
function runTaskToEnd(task) {
  return new Promise((resolve, reject) => {
    const sub = vscode.tasks.onDidEndTaskProcess((e) => {
      if (e.execution.task.name === task.name) {
        sub.dispose();
        resolve(e.exitCode);
      }
    });
    vscode.tasks.executeTask(task).then(undefined, (e) => {
      sub.dispose();
      reject(e);
    });
  });
}

describe('agent integrations', function () {
  /** @type {any} */
  let api;
  h.setUpSuite(this, (a) => (api = a));

  afterEach(() => {
    for (const e of vscode.tasks.taskExecutions) e.terminate();
  });

  it('lists the four language model tools with their input schemas', () => {
    const ours = vscode.lm.tools.filter((t) => TOOLS.includes(t.name));
    assert.deepEqual(ours.map((t) => t.name).sort(), [...TOOLS].sort());
    const start = ours.find((t) => t.name === 'devPorts_startDevServer');
    assert.deepEqual(start.inputSchema.required, ['project']);
    assert.match(start.description, /reserves/);
  });

  it('runs the tools from dist/agents.js, which dist/extension.js loads on their first use', async () => {
    const ext = vscode.extensions.getExtension('dev-ports.dev-ports');
    const file = path.join(ext.extensionPath, 'dist', 'agents.js');
    assert.ok(fs.existsSync(file), `${file} is built`);
    const listed = await invoke('devPorts_listPorts', {});
    assert.ok(Array.isArray(listed.projects));
    // The extension host's module cache: the tool's body came from the lazy bundle, not from extension.js.
    assert.ok(require.cache[file], `${file} is loaded in the extension host`);
  });

  it('starts, lists, frees and stops a dev server through the tools', async () => {
    const started = await invoke('devPorts_startDevServer', { project: 'web' });
    assert.equal(started.projectId, h.projectId('web'));
    assert.ok(started.port >= 43100 && started.port <= 43199, `port ${started.port}`);
    assert.equal(started.state, 'listening');
    assert.ok(started.url.includes(String(started.port)), `url ${started.url} names the port`);
    assert.equal(await h.listening(started.port), true);

    const listed = await invoke('devPorts_listPorts', {});
    const web = listed.projects.find((p) => p.projectId === h.projectId('web'));
    assert.equal(web.state, 'listening');
    assert.equal(web.port, started.port);
    assert.equal(web.startedByDevPorts, true);
    assert.equal(web.url, started.url);
    assert.deepEqual([web.pid], await h.listenerPids(started.port));
    const api2 = listed.projects.find((p) => p.projectId === h.projectId('api'));
    assert.equal(api2.state, 'stopped');
    assert.deepEqual(listed.range, { start: 43100, end: 43199 });

    const again = await invoke('devPorts_startDevServer', { project: 'apps/web' });
    assert.deepEqual([again.port, again.started], [started.port, false]);

    const stopped = await invoke('devPorts_stopDevServer', { project: h.projectId('web') });
    assert.deepEqual(stopped, { projectId: h.projectId('web'), port: started.port, released: true });
    assert.equal(await h.core.isPortAvailable(started.port), true);
    assert.equal(api.getAllocations().length, 0);
  });

  it('frees the port of a server Dev Ports started without asking, and says so for a free port', async () => {
    const started = await invoke('devPorts_startDevServer', { project: 'api' });
    const [pid] = await h.listenerPids(started.port);
    const freed = await invoke('devPorts_freePort', { port: started.port });
    assert.equal(freed.free, true);
    assert.ok(freed.killedPids.includes(pid), `killed ${freed.killedPids} includes ${pid}`);
    await h.waitFor(() => !api._test.servers().length, 'the server gone from the manager');

    const port = await h.freeTestPort();
    assert.deepEqual(await invoke('devPorts_freePort', { port }), { port, killedPids: [], free: true });
  });

  it('rejects an unknown project with a message that lists the projects', async () => {
    await assert.rejects(invoke('devPorts_startDevServer', { project: 'shop' }), /No dev-server project "shop"\. Projects: .*web \(apps\/web\)/);
  });

  it('runs a project from the devPorts task provider on its reserved port and releases it at the end', async () => {
    const tasks = await vscode.tasks.fetchTasks({ type: 'devPorts' });
    const task = tasks.find((t) => t.definition.project === 'apps/web');
    assert.ok(task, `a task for apps/web among ${tasks.map((t) => t.name).join(', ')}`);
    assert.equal(task.source, 'Dev Ports');
    const ended = new Promise((resolve) => {
      const sub = vscode.tasks.onDidEndTask((e) => {
        if (e.execution.task.definition.project === 'apps/web') {
          sub.dispose();
          resolve(undefined);
        }
      });
    });
    const execution = await vscode.tasks.executeTask(task);
    const allocation = await h.waitFor(() => api.getAllocations().find((a) => a.projectId === h.projectId('web')), 'the reservation');
    await h.waitFor(() => h.listening(allocation.port), `web listening on ${allocation.port}`);
    assert.equal(await vscode.commands.executeCommand('devPorts.port', 'web'), String(allocation.port));
    execution.terminate();
    await ended;
    await h.waitFor(() => !api.getAllocations().some((a) => a.projectId === h.projectId('web')), 'the port released');
    await h.waitFor(async () => h.core.isPortAvailable(allocation.port), 'the port free');
  });

  it('runs a devPorts task written in tasks.json', async () => {
    const tasks = await vscode.tasks.fetchTasks({ type: 'devPorts' });
    const task = tasks.find((t) => t.name === 'api through Dev Ports');
    assert.ok(task, `the tasks.json task among ${tasks.map((t) => t.name).join(', ')}`);
    const execution = await vscode.tasks.executeTask(task);
    const allocation = await h.waitFor(() => api.getAllocations().find((a) => a.projectId === h.projectId('api')), 'the reservation');
    await h.waitFor(() => h.listening(allocation.port), 'api listening');
    execution.terminate();
    await h.waitFor(() => !api.getAllocations().some((a) => a.projectId === h.projectId('api')), 'the port released');
  });

  it('resolves ${input:webPort} through devPorts.port to the port web is reserved for', async () => {
    const out = path.join(h.workspaceRoot(), '.vscode', 'web-port.txt');
    fs.rmSync(out, { force: true });
    try {
      const tasks = await vscode.tasks.fetchTasks();
      const task = tasks.find((t) => t.name === 'write web port');
      assert.ok(task, 'the fixture task "write web port"');
      assert.equal(await runTaskToEnd(task), 0);
      const written = fs.readFileSync(out, 'utf8');
      const allocation = api.getAllocations().find((a) => a.projectId === h.projectId('web'));
      assert.ok(allocation, 'devPorts.port reserved a port for web');
      assert.equal(written, String(allocation.port));
      // The same port from code, by id, relative path and name; undefined for what is no project.
      for (const arg of [h.projectId('web'), 'apps/web', 'web']) assert.equal(await vscode.commands.executeCommand('devPorts.port', arg), written);
      assert.equal(await vscode.commands.executeCommand('devPorts.port', 'no-such-app'), undefined);
    } finally {
      fs.rmSync(out, { force: true });
    }
  });
});
