/**
 * Fixture processes and ports for the CLI tests: real listeners on 127.0.0.1, started in their own process group
 * so `killSpawned` can end them and their children, by the PIDs this test process started.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

export const LISTEN = path.join(__dirname, 'fixtures', 'listen.js');

const spawned: ChildProcess[] = [];

/** Starts a process in its own group and records it for `killSpawned`. */
export function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  spawned.push(child);
  return child;
}

/** Resolves to the port the fixture prints once it listens; rejects with its stderr if it exits first. */
export function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(Number(out.split('\n')[0]));
    });
    child.once('exit', (code, signal) => reject(new Error(`the fixture exited (${code ?? signal}) before listening: ${err}`)));
  });
}

/** A node process listening on 127.0.0.1 at `port` (0: any free one). */
export async function startListener(port = 0): Promise<{ child: ChildProcess; port: number }> {
  const child = start(process.execPath, [LISTEN, String(port)]);
  return { child, port: await listeningPort(child) };
}

/** Ends every process group started by `start`, even when its leader already exited. */
export function killSpawned(): void {
  for (const child of spawned.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The whole group is gone already.
    }
  }
}

/** A port nothing listens on right now (bound on 127.0.0.1 then closed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True once the PID is gone or a zombie (a zombie holds no socket; only its parent's wait() removes it). */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** The parent PID, from /proc/<pid>/stat (the field after the state). */
export function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Polls until `condition` holds; the mocha timeout bounds the wait. */
export async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}
