import { nodeOs } from '../os/index';
import { PortAllocator, type AllocatorOptions } from './allocator';
import { Ledger } from './ledger';
import { createMemoryStore } from './memoryStore';

/**
 * A `PortAllocator` with the defaults a script wants: the real OS, the machine-wide ledger (`DEV_PORTS_HOME` or
 * the per-user state folder) and an in-memory store. Reservations are shared with the extension and the CLI
 * through the ledger and marked as a library's (`owner.kind: 'library'`, for `dev-ports allocations`); like the
 * CLI's they outlive the script (never orphaned) until released or swept.
 *
 * @example
 * const allocator = createAllocator();
 * const { port } = await allocator.allocate(process.cwd());
 * await allocator.releasePortForProject(process.cwd());
 */
export function createAllocator(options: Partial<AllocatorOptions> = {}): PortAllocator {
  return new PortAllocator({
    ...options,
    store: options.store ?? createMemoryStore(),
    ledger: options.ledger ?? new Ledger({ logger: options.logger }),
    os: options.os ?? nodeOs,
    owner: options.owner ?? { pid: process.pid, kind: 'library' },
  });
}
