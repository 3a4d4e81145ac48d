// Times several libraries' calls of one case in interleaved rounds and reports per-call medians.
//
// This machine's speed drifts by tens of percent within seconds (other tenants share its cores
// and caches). Timing each library in its own block, one after the other, lets that drift land
// on one library and not the other; taking the samples in rounds (A B C A B C ...) spreads it
// over all of them, so that the ratios compare like with like.

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
  /** Rounds the samples were taken in (interleaved with the other libraries'). */
  rounds: number;
}

export interface TimingOptions {
  /** Time budget per library, ms. */
  budgetMs: number;
  /**
   * A first call longer than this (default: 5 budgets, at least 2 s) is the only sample: such a call is
   * far from any per-call overhead, and repeating it would blow the run's time budget.
   */
  slowMs?: number;
  /** At least this many timed samples even when the budget runs out (default 5, or 3 for slow calls). */
  minSamples?: number;
  maxSamples?: number;
  /** Rounds to spread each library's samples over (default 5). */
  rounds?: number;
  /** Idle time before each library's block of samples, ms (default 50). */
  pauseMs?: number;
}

export type Call = () => void | Promise<void>;

const now = (): number => performance.now();

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** One library's call and what is known of it so far. */
class Subject {
  samples: number[] = [];
  warmupCalls = 1;
  callsPerSample = 1;
  minSamples = 5;
  /** Set when the first call was so slow that it is the only sample. */
  single: number | null = null;
  private isAsync = false;

  constructor(private readonly call: Call) {}

  async run(n: number): Promise<number> {
    const t0 = now();
    if (this.isAsync) for (let i = 0; i < n; i++) await this.call();
    else for (let i = 0; i < n; i++) this.call();
    return now() - t0;
  }

  /**
   * The first call, then warm-up (at least 2 calls and about 15% of the budget). Calls under ~0.5 ms are
   * grouped so that a sample lasts about 1 ms, which keeps timer resolution and loop overhead out of the median.
   */
  async start(options: TimingOptions): Promise<void> {
    const t00 = now();
    const first = this.call();
    this.isAsync = first instanceof Promise;
    if (this.isAsync) await first;
    const firstMs = now() - t00;
    if (firstMs > (options.slowMs ?? Math.max(2000, 5 * options.budgetMs))) {
      this.single = firstMs;
      return;
    }
    let warmupMs = 0;
    let fastest = Infinity;
    while (this.warmupCalls < 2 || warmupMs < options.budgetMs * 0.15) {
      const t = await this.run(1);
      fastest = Math.min(fastest, t);
      warmupMs += t;
      this.warmupCalls++;
      if (this.warmupCalls >= 1000) break;
    }
    // Slow calls (a third of the budget or more) settle for 3 samples.
    this.minSamples = options.minSamples ?? (fastest > options.budgetMs / 3 ? 3 : 5);
    this.callsPerSample = fastest < 0.5 ? Math.min(1000, Math.ceil(1 / Math.max(fastest, 0.001))) : 1;
  }

  /**
   * One round: a sample that settles the caches after the other libraries ran (not kept), then samples
   * until the round's share of the budget is used (at least one, and enough to reach minSamples by the
   * last round).
   */
  async round(options: TimingOptions, roundsLeft: number): Promise<void> {
    if (this.single !== null) return;
    const maxSamples = options.maxSamples ?? 400;
    const rounds = options.rounds ?? 5;
    // A pause first: a library's worker threads may spin-wait for a while after its last call
    // (onnxruntime's do by default), which would steal the cores from the next library's samples.
    await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 50));
    await this.run(this.callsPerSample);
    const needed = Math.ceil((this.minSamples - this.samples.length) / roundsLeft);
    const t0 = now();
    let taken = 0;
    while (this.samples.length < maxSamples && (taken < Math.max(1, needed) || now() - t0 < options.budgetMs / rounds)) {
      this.samples.push((await this.run(this.callsPerSample)) / this.callsPerSample);
      taken++;
    }
  }

  timing(rounds: number): Timing {
    if (this.single !== null) {
      const t = this.single;
      return { medianMs: t, minMs: t, p25Ms: t, p75Ms: t, samples: 1, callsPerSample: 1, warmupCalls: 0, rounds: 1 };
    }
    const sorted = [...this.samples].sort((a, b) => a - b);
    return {
      medianMs: quantile(sorted, 0.5),
      minMs: sorted[0],
      p25Ms: quantile(sorted, 0.25),
      p75Ms: quantile(sorted, 0.75),
      samples: sorted.length,
      callsPerSample: this.callsPerSample,
      warmupCalls: this.warmupCalls,
      rounds,
    };
  }
}

/**
 * Times each call within `budgetMs` (per call), taking the samples of all calls in interleaved rounds.
 * A call that throws rejects its own entry only: the others are still timed.
 */
export async function measureInterleaved(calls: readonly Call[], options: TimingOptions): Promise<(Timing | Error)[]> {
  const rounds = options.rounds ?? 5;
  const subjects = calls.map((c) => new Subject(c));
  const failed: (Error | null)[] = calls.map(() => null);
  const guard = async (i: number, step: () => Promise<void>): Promise<void> => {
    if (failed[i]) return;
    try {
      await step();
    } catch (e) {
      failed[i] = e instanceof Error ? e : new Error(String(e));
    }
  };
  for (const [i, s] of subjects.entries()) await guard(i, () => s.start(options));
  for (let r = 0; r < rounds; r++)
    for (const [i, s] of subjects.entries()) await guard(i, () => s.round(options, rounds - r));
  return subjects.map((s, i) => failed[i] ?? s.timing(rounds));
}

/** Times one call alone (see measureInterleaved). */
export async function measure(call: Call, options: TimingOptions): Promise<Timing> {
  const [result] = await measureInterleaved([call], options);
  if (result instanceof Error) throw result;
  return result;
}
