/**
 * What Dev Ports did since it started: allocations, releases, conflicts, kills, sweeps, drifts, and how long
 * freeing a port took. Plain counters in memory (no timer, no I/O), so counting costs nothing on the hot path.
 * The allocator counts through an optional `metrics` option; the OS layer is metered by wrapping it
 * (`meteredOs`), so every kill is counted wherever it starts.
 */
import type { KillResult, PortOs } from '../os/types';

export type MetricKind = 'allocation' | 'release' | 'conflict' | 'kill' | 'sweep' | 'drift';

/** Where code that counts writes to; structural, so a caller needs no import of this class. */
export interface MetricsSink {
  count(kind: MetricKind, n?: number): void;
  /** A port that was held became free this many ms after its holders were signalled. */
  timeToFree(ms: number): void;
}

/** CONTRACT.md `Metrics`: counts since activation and the median time from a kill until the port is free. */
export interface Metrics {
  allocations: number;
  releases: number;
  conflicts: number;
  kills: number;
  sweeps: number;
  drifts: number;
  medianTimeToFreeMs?: number;
}

/** The last this many times-to-free make the median: a long session keeps a bounded list. */
const TIME_TO_FREE_SAMPLES = 200;

const FIELD: Record<MetricKind, Exclude<keyof Metrics, 'medianTimeToFreeMs'>> = {
  allocation: 'allocations',
  release: 'releases',
  conflict: 'conflicts',
  kill: 'kills',
  sweep: 'sweeps',
  drift: 'drifts',
};

/**
 * Counts events and keeps the recent times-to-free.
 *
 * @example
 * const metrics = new MetricsRecorder();
 * metrics.count('allocation');
 * metrics.timeToFree(15);
 * metrics.snapshot(); // { allocations: 1, releases: 0, ..., medianTimeToFreeMs: 15 }
 */
export class MetricsRecorder implements MetricsSink {
  private readonly counts: Record<MetricKind, number> = { allocation: 0, release: 0, conflict: 0, kill: 0, sweep: 0, drift: 0 };
  private readonly samples: number[] = [];
  private readonly listeners = new Set<() => void>();

  count(kind: MetricKind, n = 1): void {
    if (!(kind in this.counts)) throw new RangeError(`Unknown metric ${JSON.stringify(kind)}.`);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`A metric count must be a whole number of at least 0, got ${n}.`);
    if (n === 0) return;
    this.counts[kind] += n;
    this.changed();
  }

  timeToFree(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`A time to free must be a number of milliseconds of at least 0, got ${ms}.`);
    this.samples.push(ms);
    if (this.samples.length > TIME_TO_FREE_SAMPLES) this.samples.shift();
    this.changed();
  }

  /** A copy of the counters; `medianTimeToFreeMs` only once a port was freed. */
  snapshot(): Metrics {
    const out: Metrics = {
      allocations: 0,
      releases: 0,
      conflicts: 0,
      kills: 0,
      sweeps: 0,
      drifts: 0,
    };
    for (const kind of Object.keys(this.counts) as MetricKind[]) out[FIELD[kind]] = this.counts[kind];
    const median = medianOf(this.samples);
    if (median !== undefined) out.medianTimeToFreeMs = median;
    return out;
  }

  /** Called after every change (the metrics view redraws). */
  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private changed(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch {
        // A view's redraw must never break the counting code path.
      }
    }
  }
}

/**
 * Median of a list of numbers, rounded to a whole millisecond; `undefined` for an empty list.
 *
 * @example
 * medianOf([30, 10, 20, 40]); // 25
 */
export function medianOf(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return Math.round(median);
}

/** A tree kill older than this is not paired with a later wait (the wait is for something else). */
const PAIR_WITHIN_MS = 60_000;

/**
 * The OS layer with its kills counted: one `kill` per port freed or tree stopped that stopped at least one
 * process, and a time-to-free sample for every held port that became free after a kill: a
 * `killProcessesOnPort` waits for that itself (its duration is the sample); a stop by process tree
 * (`killProcessTree`, then `waitForPortAvailable`, as the dev-server manager does) is timed from the first tree
 * kill to the wait's success.
 *
 * @example
 * const os = meteredOs(nodeOs, metrics);
 * await os.killProcessesOnPort(3000, { gracePeriodMs: 3000 }); // metrics.kills + 1, a time-to-free sample
 */
export function meteredOs(os: PortOs, metrics: MetricsSink, now: () => number = () => performance.now()): PortOs {
  let treeKillStarted: number | undefined;
  return {
    ...os,
    killProcessesOnPort: async (port, options) => {
      const started = now();
      const result: KillResult = await os.killProcessesOnPort(port, options);
      if (result.killedPids.length > 0) {
        metrics.count('kill');
        if (result.free) metrics.timeToFree(now() - started);
      }
      return result;
    },
    killProcessTree: async (pid, options) => {
      const started = now();
      const killed = await os.killProcessTree(pid, options);
      if (killed.length > 0) {
        metrics.count('kill');
        if (treeKillStarted === undefined || started - treeKillStarted > PAIR_WITHIN_MS) treeKillStarted = started;
      }
      return killed;
    },
    waitForPortAvailable: async (port, options) => {
      const free = await os.waitForPortAvailable(port, options);
      const started = treeKillStarted;
      if (free && started !== undefined) {
        treeKillStarted = undefined;
        const ms = now() - started;
        if (ms <= PAIR_WITHIN_MS) metrics.timeToFree(ms);
      }
      return free;
    },
  };
}
