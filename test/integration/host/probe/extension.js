// The host-level tests' probe (test/integration/host/README.md): a tiny extension installed next to Dev Ports in the
// test server's extensions folder. In each window (extension host) it announces itself in DEV_PORTS_PROBE_DIR and
// answers a fixed set of requests the harness writes there: run a command, read the Dev Ports view's data, the
// servers, the allocations. Nothing here runs unless that variable is set, and it never evaluates code it is sent.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');

/** JSON-safe copy: Uris become their fsPath, functions and cycles are dropped. */
function plain(value, seen = new Set()) {
  if (value === null || value === undefined) return value;
  if (value instanceof vscode.Uri) return value.fsPath;
  if (typeof value === 'function') return undefined;
  if (typeof value !== 'object') return value;
  if (seen.has(value)) return undefined;
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => plain(v, seen));
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    const p = plain(v, seen);
    if (p !== undefined) out[k] = p;
  }
  return out;
}

async function devPortsApi() {
  const ext = vscode.extensions.getExtension('dev-ports.dev-ports');
  if (!ext) throw new Error('the extension dev-ports.dev-ports is not installed in this window');
  const api = await ext.activate();
  if (api && api._test) {
    await api._test.startup;
    await api._test.projectsReady();
  }
  return api;
}

/** Root nodes of the view and, one level down, each root's children (`children` on the node). */
async function tree(api) {
  const roots = await api._test.tree();
  const out = [];
  for (const node of roots) {
    let children = [];
    try {
      children = await api._test.tree(node);
    } catch {
      // A leaf.
    }
    out.push({ ...plain(node), children: plain(children) || [] });
  }
  return out;
}

const handlers = {
  info: async () => ({
    pid: process.pid,
    folders: (vscode.workspace.workspaceFolders || []).map((f) => f.uri.fsPath),
    trusted: vscode.workspace.isTrusted,
    version: vscode.version,
  }),
  /** { id, args } → the command's result. */
  command: async (api, req) => plain(await vscode.commands.executeCommand(req.id, ...(req.args || []))),
  tree: async (api) => tree(api),
  servers: async (api) => plain(api._test.servers()),
  allocations: async (api) => plain(api.getAllocations()),
  allocate: async (api, req) => plain(await api.allocate(req.projectId, req.options || {})),
  idle: async (api) => {
    await api._test.idle();
    return true;
  },
  lastConflictMessage: async (api) => api._test.lastConflictMessage() ?? null,
};

function activate(context) {
  const root = process.env.DEV_PORTS_PROBE_DIR;
  if (!root) return;
  const inbox = path.join(root, String(process.pid));
  fs.mkdirSync(inbox, { recursive: true });
  let apiPromise;
  const api = () => (apiPromise ||= devPortsApi());
  /** Answers one request; requests run side by side (a start may wait on a question while the harness clicks). */
  const answer = async (name, req) => {
    let reply;
    try {
      const handler = handlers[req.op];
      if (!handler) throw new Error(`unknown request "${req.op}"`);
      reply = { ok: true, value: await handler(req.op === 'info' ? undefined : await api(), req) };
    } catch (e) {
      reply = { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    const out = path.join(inbox, name.replace('.request.json', '.reply.json'));
    fs.writeFileSync(`${out}.tmp`, JSON.stringify(reply === undefined ? null : reply));
    fs.renameSync(`${out}.tmp`, out);
  };
  const timer = setInterval(() => {
    try {
      for (const name of fs.readdirSync(inbox).filter((n) => n.endsWith('.request.json')).sort()) {
        const file = path.join(inbox, name);
        const req = JSON.parse(fs.readFileSync(file, 'utf8'));
        fs.rmSync(file);
        void answer(name, req);
      }
    } catch (e) {
      console.error(`[dev-ports-probe] ${e && e.message}`);
    }
  }, 50);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
  // Announce last, once the inbox is served: the harness waits for this file.
  const hello = { pid: process.pid, folders: (vscode.workspace.workspaceFolders || []).map((f) => f.uri.fsPath), at: Date.now() };
  fs.writeFileSync(path.join(root, `${process.pid}.window.json`), JSON.stringify(hello));
}

module.exports = { activate, deactivate() {} };
