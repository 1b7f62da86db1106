// Timing helpers: every sample in milliseconds from process.hrtime.bigint().

/** @param {number[]} sorted ascending */
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  // Nearest-rank: with ~10–30 samples an interpolated p95 would invent a value no run produced.
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * Median, p95 (nearest rank), min and max of samples in ms.
 * @param {number[]} samples
 */
export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

export function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Runs `fn` repeatedly and returns its samples. Bounded twice: at most `maxIterations` runs, and no new run starts
 * once `budgetMs` has passed (after `minIterations`), so a slow peer cannot blow the bench's 5-minute budget.
 * `fn` may return a value; the last one is kept so callers can check correctness on a measured run.
 * @template T
 * @param {() => Promise<T> | T} fn
 * @param {{ warmup?: number, minIterations?: number, maxIterations?: number, budgetMs?: number, between?: () => Promise<void> | void }} [options]
 */
export async function measure(fn, options = {}) {
  const { warmup = 1, minIterations = 5, maxIterations = 30, budgetMs = 2000, between } = options;
  /** @type {T | undefined} */
  let last;
  for (let i = 0; i < warmup; i++) {
    last = await fn();
    if (between) await between();
  }
  const samples = [];
  const start = nowMs();
  while (samples.length < maxIterations && (samples.length < minIterations || nowMs() - start < budgetMs)) {
    const t0 = nowMs();
    last = await fn();
    samples.push(nowMs() - t0);
    if (between) await between();
  }
  return { samples, stats: summarize(samples), last };
}

/** Formats ms with a precision that suits its size. */
export function fmtMs(ms) {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

/** peer/ours as `12.3×`. */
export function fmtRatio(peer, ours) {
  if (!Number.isFinite(peer) || !Number.isFinite(ours) || ours <= 0) return 'n/a';
  const r = peer / ours;
  return `${r < 10 ? r.toFixed(2) : r.toFixed(1)}×`;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
