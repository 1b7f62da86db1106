/**
 * Helpers of the OS-layer tests: start real fixture processes, read the JSON line they print, and kill exactly
 * what was started (by PID; detached groups by their own group id, since the tests created those groups).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'os');
export const LISTENER = path.join(FIXTURES, 'listener.js');
export const CLIENT = path.join(FIXTURES, 'client.js');
export const REGISTER = path.join(__dirname, '..', 'register.js');

/** A fixture file without its header comment lines (`#` or `//`), which document where it came from. */
export function readFixture(name: string): string {
  return fs
    .readFileSync(path.join(FIXTURES, name), 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('#') && !line.startsWith('//'))
    .join('\n');
}

export interface Started {
  child: ChildProcess;
  /** The first JSON line the process printed. */
  info: Record<string, unknown> & { pid: number };
}

/** Processes started by the current test, killed by {@link cleanup}. */
export class Spawned {
  private readonly children: { child: ChildProcess; detached: boolean }[] = [];
  private readonly extraPids = new Set<number>();

  /** Starts `command args` and resolves with the first JSON line it prints on stdout. */
  start(command: string, args: string[], options: SpawnOptions = {}): Promise<Started> {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.push({ child, detached: options.detached === true });
    let stderr = '';
    child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
    return new Promise((resolve, reject) => {
      const lines = readline.createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        try {
          const info = JSON.parse(line) as Started['info'];
          if (typeof info.pid === 'number') this.extraPids.add(info.pid);
          if (info.error) reject(new Error(`${command} failed: ${String(info.error)}`));
          else resolve({ child, info });
        } catch (err) {
          reject(new Error(`${command} printed ${JSON.stringify(line)} instead of JSON (${String(err)})`));
        }
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`${command} exited (${code ?? signal}) before printing: ${stderr}`)));
    });
  }

  /** Starts the listener fixture under node: `listener.js host port [flags]`. */
  listener(host: string, port = 0, flags: string[] = []): Promise<Started & { port: number; pid: number }> {
    return this.start(process.execPath, [LISTENER, host, String(port), ...flags]).then((s) => ({
      ...s,
      pid: s.info.pid,
      port: s.info.port as number,
    }));
  }

  /** Remembers a PID a fixture started (a grandchild) so cleanup kills it too. */
  track(pid: number): void {
    this.extraPids.add(pid);
  }

  /** SIGKILLs everything this test started; ESRCH (already gone) is fine. */
  cleanup(): void {
    const kill = (pid: number) => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    };
    for (const { child, detached } of this.children) {
      if (child.pid === undefined) continue;
      if (detached) kill(-child.pid);
      kill(child.pid);
    }
    for (const pid of this.extraPids) if (pid !== process.pid && pid > 1) kill(pid);
    this.children.length = 0;
    this.extraPids.clear();
  }
}

/** Polls `predicate` every 20 ms for up to `ms`; resolves to its last value. */
export async function eventually(predicate: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** True when the process is gone or a zombie (exited, not yet reaped by a parent that is not us). */
export function isGoneOrZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/** The unprivileged user the "another user" tests run processes as. */
export const NOBODY = 65534;

/** What a process of another user needs, copied where that user can read it. */
export interface OtherUserKit {
  uid: number;
  gid: number;
  /** World-readable temporary folder holding the copies; removed by {@link removeOtherUserKit}. */
  dir: string;
  /** Copies of the listener and client fixtures. */
  listener: string;
  client: string;
  /** test/fixtures/os/as-other-user.ts bundled with the OS layer into one CommonJS file (no TypeScript loader needed). */
  asOtherUser: string;
}

/**
 * Prepares the "processes of another user" tests, or says why they cannot run. The checkout may sit in a private
 * home folder (root's is 0700 on Debian; Ubuntu and Debian create 0700/0750 homes) that the unprivileged child
 * cannot read, so what it runs is copied (and bundled) into a world-readable temporary folder.
 */
export function prepareOtherUser(): OtherUserKit | string {
  if (process.getuid?.() !== 0) return 'needs root to start processes as another user';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-other-user-'));
  try {
    fs.chmodSync(dir, 0o755);
    const listener = path.join(dir, 'listener.js');
    fs.copyFileSync(LISTENER, listener);
    const client = path.join(dir, 'client.js');
    fs.copyFileSync(CLIENT, client);
    const asOtherUser = path.join(dir, 'as-other-user.cjs');
    // esbuild is a devDependency (the test loader uses it too).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    esbuild.buildSync({ entryPoints: [path.join(FIXTURES, 'as-other-user.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: asOtherUser, logLevel: 'silent' });
    for (const file of [listener, client, asOtherUser]) fs.chmodSync(file, 0o644);
    const probe = spawnSync(process.execPath, [asOtherUser, 'probe'], { uid: NOBODY, gid: NOBODY, cwd: '/', encoding: 'utf8', timeout: 10_000 });
    if (probe.status !== 0 || !probe.stdout.includes('"probe":true')) {
      fs.rmSync(dir, { recursive: true, force: true });
      return `user ${NOBODY} cannot run ${process.execPath} on a copy in ${os.tmpdir()} (${(probe.stderr || probe.error?.message || `exit ${probe.status}`).trim().split('\n')[0]})`;
    }
    return { uid: NOBODY, gid: NOBODY, dir, listener, client, asOtherUser };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    return `could not copy the fixtures to a world-readable folder: ${(err as Error).message}`;
  }
}

export function removeOtherUserKit(kit: OtherUserKit | string | undefined): void {
  if (kit && typeof kit !== 'string') fs.rmSync(kit.dir, { recursive: true, force: true });
}
