// Repeats a call within a time budget and reports the median of the per-call times.

export interface Timing {
  /** Median time of one call, ms. */
  medianMs: number;
  minMs: number;
  /** 25th and 75th percentiles of the per-call samples, ms. */
  p25Ms: number;
  p75Ms: number;
  /** Timed samples; each is the mean over `callsPerSample` back-to-back calls. */
  samples: number;
  callsPerSample: number;
  warmupCalls: number;
}

export interface TimingOptions {
  budgetMs: number;
  /**
   * A first call longer than this (default: 5 budgets, at least 2 s) is the only sample: such a call is
   * far from any per-call overhead, and repeating it would blow the run's time budget.
   */
  slowMs?: number;
  /** At least this many timed samples even when the budget runs out (default 5, or 3 for slow calls). */
  minSamples?: number;
  maxSamples?: number;
}

type Call = () => void | Promise<void>;

const now = (): number => performance.now();

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Warms up (at least 2 calls and about 15% of the budget), then takes samples until the budget is used
 * and `minSamples` are in. Calls under ~0.5 ms are grouped so that a sample lasts about 1 ms, which keeps
 * timer resolution and loop overhead out of the median.
 */
export async function measure(call: Call, options: TimingOptions): Promise<Timing> {
  const maxSamples = options.maxSamples ?? 400;
  const t00 = now();
  const first = call();
  const isAsync = first instanceof Promise;
  if (isAsync) await first;
  const firstMs = now() - t00;
  if (firstMs > (options.slowMs ?? Math.max(2000, 5 * options.budgetMs)))
    return { medianMs: firstMs, minMs: firstMs, p25Ms: firstMs, p75Ms: firstMs, samples: 1, callsPerSample: 1, warmupCalls: 0 };
  const run = async (n: number): Promise<number> => {
    const t0 = now();
    if (isAsync) for (let i = 0; i < n; i++) await call();
    else for (let i = 0; i < n; i++) call();
    return now() - t0;
  };

  let warmupCalls = 1;
  let warmupMs = 0;
  let single = Infinity;
  while (warmupCalls < 2 || warmupMs < options.budgetMs * 0.15) {
    const t = await run(1);
    single = Math.min(single, t);
    warmupMs += t;
    warmupCalls++;
    if (warmupCalls >= 1000) break;
  }

  // Slow calls (a third of the budget or more) settle for 3 samples.
  const minSamples = options.minSamples ?? (single > options.budgetMs / 3 ? 3 : 5);
  const callsPerSample = single < 0.5 ? Math.min(1000, Math.ceil(1 / Math.max(single, 0.001))) : 1;
  const samples: number[] = [];
  const t0 = now();
  while (samples.length < maxSamples && (samples.length < minSamples || now() - t0 < options.budgetMs)) {
    samples.push((await run(callsPerSample)) / callsPerSample);
  }
  samples.sort((a, b) => a - b);
  return {
    medianMs: quantile(samples, 0.5),
    minMs: samples[0],
    p25Ms: quantile(samples, 0.25),
    p75Ms: quantile(samples, 0.75),
    samples: samples.length,
    callsPerSample,
    warmupCalls,
  };
}
