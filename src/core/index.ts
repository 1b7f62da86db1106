/**
 * `dev-ports/core`: the library. The OS layer (is a port free, who holds it, free it) and the allocation core
 * (machine-wide ledger, allocator, project discovery), usable from any Node script without VS Code.
 *
 * @example
 * const { isPortAvailable, PortAllocator, Ledger, createMemoryStore, nodeOs } = require('dev-ports/core');
 * const allocator = new PortAllocator({ store: createMemoryStore(), ledger: new Ledger(), os: nodeOs });
 * const { port } = await allocator.allocate(process.cwd());
 */
export * from '../os/index';
export type { ProcessInfo, Listener, KillOptions, KillResult, WaitOptions, PortOs } from '../os/types';

export type { Allocation, StateStore, Clock, Logger, PortRange } from './types';
export { systemClock, silentLogger } from './types';

export {
  DevPortsError,
  InvalidInputError,
  PortInUseError,
  PortReservedError,
  NoFreePortError,
  PermissionDeniedError,
  LedgerError,
  describeHolders,
  holdersOf,
} from './errors';
export type { DevPortsErrorCode } from './errors';

export { Ledger, parseLedgerEntry } from './ledger';
export type { LedgerEntry, LedgerOwner, LedgerOptions } from './ledger';

export {
  PortAllocator,
  cleanupStaleLedgerEntries,
  parseAllocations,
  ALLOCATIONS_KEY,
  DEFAULT_PORT_RANGE,
  DEFAULT_STALE_AFTER_MS,
  DEFAULT_GRACE_PERIOD_MS,
} from './allocator';
export type { AllocatorOptions, AllocateOptions, Disposable } from './allocator';

export {
  discoverProjects,
  discoverProjectsAsync,
  portFlagsForArgv,
  frameworkOfArgv,
  normalizeProjectId,
  devServerCommand,
  portFlagsFor,
  detectPackageManager,
  expandWorkspaceGlob,
  parsePnpmWorkspace,
  readPackageJson,
  DEFAULT_DEV_SCRIPT_NAMES,
} from './projects';
export type { Project, ProjectSetting, DiscoverOptions, PackageManager, Framework, DevServerCommand, ProjectRole } from './projects';
export { FRAMEWORKS } from './frameworks';
export type { FrameworkSpec } from './frameworks';
export { portTrouble } from './portAnnouncements';
export type { PortTrouble } from './portAnnouncements';

export { createMemoryStore } from './memoryStore';
export { createAllocator } from './createAllocator';
export type { MemoryStore } from './memoryStore';

export { assertValidPort, assertValidRange, assertProjectId, isValidPort } from './validate';
