// The peers: command-line tools (run through execFile, as a library calling them would) and npm packages doing the
// same work as ours. Each "who" peer resolves to the sorted PIDs it reports for the port.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Peer modules, loaded once by preloadPeers() so no measured call pays for an import. */
const mods = {};

/** execFile that resolves on exit code 1 too: lsof and fuser use it for "nothing found". */
function run(command, args) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && error.code !== 1) reject(error);
      else resolve({ stdout, stderr });
    });
  });
}

const uniqSorted = (pids) => [...new Set(pids)].sort((a, b) => a - b);
const numbers = (text, re) => [...text.matchAll(re)].map((m) => Number(m[1]));

/** @type {Array<{ name: string, find: (port: number) => Promise<number[]> }>} */
export const whoPeers = [
  {
    name: 'lsof -ti tcp:P -sTCP:LISTEN',
    async find(port) {
      const { stdout } = await run('lsof', ['-ti', `tcp:${port}`, '-sTCP:LISTEN']);
      return uniqSorted(numbers(stdout, /^(\d+)$/gm));
    },
  },
  {
    name: 'ss -ltnpH sport = :P',
    async find(port) {
      const { stdout } = await run('ss', ['-ltnpH', `sport = :${port}`]);
      return uniqSorted(numbers(stdout, /pid=(\d+)/g));
    },
  },
  {
    name: 'fuser P/tcp',
    async find(port) {
      // fuser prints "P/tcp:" on stderr and only the PIDs on stdout.
      const { stdout } = await run('fuser', [`${port}/tcp`]);
      return uniqSorted(numbers(stdout, /(\d+)/g));
    },
  },
  {
    name: 'pid-port portToPid',
    async find(port) {
      const { portToPid } = mods.pidPort;
      try {
        const pid = await portToPid(port);
        return pid === undefined ? [] : [pid];
      } catch (error) {
        if (/Could not find/.test(error.message)) return [];
        throw error;
      }
    },
  },
  {
    name: "find-process find('port')",
    async find(port) {
      const find = mods.findProcess.default ?? mods.findProcess;
      const list = await find('port', port);
      return uniqSorted(list.map((p) => Number(p.pid)));
    },
  },
];

/**
 * "Is this port in use?" peers. Each resolves to true when the tool says the port is taken.
 * @type {Array<{ name: string, inUse: (port: number) => Promise<boolean> }>}
 */
export const freePeers = [
  {
    name: 'get-port',
    async inUse(port) {
      const { default: getPort, clearLockedPorts } = mods.getPort;
      // get-port locks every port it returns for 15-30 s inside this process; clear it so each call really checks.
      clearLockedPorts();
      return (await getPort({ port })) !== port;
    },
  },
  {
    name: 'detect-port',
    async inUse(port) {
      const { detectPort } = mods.detectPort;
      return (await detectPort(port)) !== port;
    },
  },
  {
    name: 'portfinder',
    async inUse(port) {
      const { portfinder } = mods;
      try {
        return (await portfinder.getPortPromise({ port, stopPort: port })) !== port;
      } catch {
        return true;
      }
    },
  },
];

/**
 * "Free the port" peers. Each only starts the kill; the bench then polls until the port is free, as a user of the
 * tool would have to.
 * @type {Array<{ name: string, kill: (port: number, chain: { rootPid: number, pgid: number }) => Promise<void> }>}
 */
export const killPeers = [
  {
    name: 'kill-port',
    async kill(port) {
      await mods.killPort(port).catch((error) => {
        if (!/No process running/.test(error.message)) throw error;
      });
    },
  },
  {
    name: "fkill(':P')",
    async kill(port) {
      await mods.fkill.default(`:${port}`);
    },
  },
  {
    name: "tree-kill(root, 'SIGTERM')",
    async kill(_port, chain) {
      await new Promise((resolve, reject) => mods.treeKill(chain.rootPid, 'SIGTERM', (error) => (error ? reject(error) : resolve())));
    },
  },
  {
    name: "process.kill(-pgid, 'SIGTERM')",
    async kill(_port, chain) {
      process.kill(-chain.pgid, 'SIGTERM');
    },
  },
];

/** Loads every peer module once so no row times a first import. */
export async function preloadPeers() {
  [mods.pidPort, mods.getPort, mods.fkill] = await Promise.all([import('pid-port'), import('get-port'), import('fkill')]);
  mods.findProcess = require('find-process');
  mods.detectPort = require('detect-port');
  mods.portfinder = require('portfinder');
  mods.killPort = require('kill-port');
  mods.treeKill = require('tree-kill');
}
