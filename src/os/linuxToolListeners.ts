/**
 * Linux without a readable /proc/net (a hardened container, a sandbox that hides /proc): who listens, from `ss`
 * (iproute2), else from lsof (with ps for command lines). A missing tool is noted (see `toolNotices`), and when
 * neither is installed the error names both packages.
 */
import * as fs from 'node:fs';
import { darwinListeners } from './darwinListeners';
import { parseSsListeners } from './ssParser';
import { firstAvailable, runTool } from './tools';
import type { Listener } from './types';

const PURPOSE = 'find which process holds a port when /proc/net cannot be read';

/** True when /proc/net/tcp or tcp6 can be read (the normal Linux path, which runs no tool). */
export function procNetReadable(): boolean {
  return fs.existsSync('/proc/net/tcp') || fs.existsSync('/proc/net/tcp6');
}

/**
 * Listeners of one port or all, from `ss -ltnpeH`, else lsof.
 *
 * @example
 * await linuxToolListeners(3000); // [{ port: 3000, address: '127.0.0.1', pids: [4321], processes: [...], ownerUid: 1000 }]
 */
export async function linuxToolListeners(port?: number): Promise<Listener[]> {
  return firstAvailable<Listener[]>(
    [
      {
        tool: 'ss',
        run: async () => {
          const { stdout } = await runTool('ss', ['-ltnpeH'], PURPOSE, 'linux');
          const byKey = new Map<string, Listener>();
          for (const s of parseSsListeners(stdout, port)) {
            const key = `${s.port} ${s.address}`;
            let listener = byKey.get(key);
            if (!listener) {
              listener = { port: s.port, address: s.address, pids: [], processes: [], ownerUid: s.uid };
              byKey.set(key, listener);
            }
            if (s.pid === 0 || listener.pids.includes(s.pid)) continue;
            listener.pids.push(s.pid);
            listener.processes.push({ pid: s.pid, name: s.command, command: s.command });
          }
          for (const l of byKey.values()) {
            l.pids.sort((a, b) => a - b);
            l.processes.sort((a, b) => a.pid - b.pid);
          }
          return [...byKey.values()];
        },
      },
      { tool: 'lsof', run: () => darwinListeners(port, 'linux') },
    ],
    PURPOSE,
    'linux',
  );
}
