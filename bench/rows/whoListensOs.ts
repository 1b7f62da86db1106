// Entry of the OS-layer bundle row 1's stall probe loads (bench/rows/stallProbe.cjs): the sliced async look-ups
// and, for the same-minute comparison, the one-go sync ones they replaced on the async path.
export { listListeners } from '../../src/os/listeners';
export { forgetLastScan, linuxListeners } from '../../src/os/linuxListeners';
export { LazyProcessTable, snapshotProcessTable } from '../../src/os/processTable';
