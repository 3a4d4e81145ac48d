// `npm run bench:lag`: how long the event loop stalls while 1,000 ResNet 3x3 convolutions
// (64 -> 64 channels, 56x56, batch 1, padding 1) are in flight, measured with
// perf_hooks.monitorEventLoopDelay at 1 ms resolution.
//
//   npm run bench:lag                  # 1,000 calls per run
//   npm run bench:lag -- --calls 200   # a shorter run
//   npm run bench:lag -- --threads 1   # the addon's pool size (default: every core)
//
// Runs, one after another on the same inputs:
//   idle         nothing to do: the floor the monitor itself reports
//   async burst  all calls submitted in one loop turn, then awaited (1,000 truly in flight at once);
//                its max lag includes that turn, which copies every input (the copy-at-submission rule)
//   async spread one submission per loop turn, as requests arriving one by one would submit them
//   sync         the same calls with sync conv(), one per loop turn: what a server computing
//                inline would do to its loop
//   sync loop    the same calls in a plain loop that never yields: the loop is blocked throughout
// Exits 1 if an async run's p99 lag reaches 10 ms.
import * as os from 'node:os';
import { type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { backendInfo, conv, convAsync, getNumThreads, setNumThreads, type Tensor } from '../lib/index.js';
import { randomArray } from './data.js';

const P99_LIMIT_MS = 10;
const X_SHAPE = [1, 64, 56, 56];
const W_SHAPE = [64, 64, 3, 3];
const OPTS = { padding: 1 } as const;
/** Multiply-adds count 2 flops: 2 * K * C * kh * kw * N * H * W (the output is 56x56 too). */
const FLOPS_PER_CALL = 2 * 64 * 64 * 3 * 3 * 1 * 56 * 56;

interface RunResult {
  name: string;
  calls: number;
  seconds: number;
  /** Most calls submitted but not yet settled at any moment. */
  peakInFlight: number;
  /** Time spent in convAsync calls themselves (validation, input copies, queueing), ms. */
  submitTotalMs: number;
  /** Longest stretch spent submitting in one turn, ms (only the burst run has a long one). */
  submitMs: number;
  lag: { p50: number; p90: number; p99: number; max: number };
  /** Share of the run the event loop spent running JavaScript rather than waiting for events. */
  loopBusy: number;
  peakRssMiB: number;
}

function intOption(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} expects a positive integer, got ${argv[i + 1]}`);
  return n;
}

function makeInputs(): { x: Tensor; w: Tensor } {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return {
    x: { data: randomArray(size(X_SHAPE), 1), shape: X_SHAPE },
    // Kaiming-like scale keeps outputs in a normal range.
    w: { data: randomArray(size(W_SHAPE), 2, 1 / 24), shape: W_SHAPE },
  };
}

/** Runs `body` under a fresh 1 ms lag monitor and an RSS sampler, and returns what they saw. */
async function measure(name: string, calls: number, body: (track: Tracker) => Promise<void>): Promise<RunResult> {
  (globalThis as { gc?: () => void }).gc?.(); // start each run from a collected heap, when --expose-gc is on
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()); }, 50);
  const track = new Tracker();
  histogram.enable();
  // Let the monitor's 1 ms timer start before the body runs, or a body that blocks at once
  // (the burst) would stall the loop before the first sample and never be seen.
  await sleep(10);
  const start = performance.now();
  const elu = performance.eventLoopUtilization();
  await body(track);
  const loopBusy = performance.eventLoopUtilization(elu).utilization;
  const seconds = (performance.now() - start) / 1000;
  // One more timer turn, so a stall at the very end (the sync loop's) is recorded too.
  await sleep(5);
  histogram.disable();
  clearInterval(sampler);
  const ms = (ns: number) => ns / 1e6;
  return {
    name, calls, seconds, peakInFlight: track.peak, submitMs: track.longestSubmit, submitTotalMs: track.submitTotal,
    lag: { p50: ms(histogram.percentile(50)), p90: ms(histogram.percentile(90)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) },
    peakRssMiB: Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20,
    loopBusy,
  };
}

/** Counts calls in flight and settles one promise when the last of them does; results are dropped at once. */
class Tracker {
  inFlight = 0;
  peak = 0;
  settled = 0;
  longestSubmit = 0;
  submitTotal = 0;
  private finish: (() => void) | null = null;
  private fail: ((e: unknown) => void) | null = null;

  add(p: Promise<unknown>): void {
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    p.then(() => {
      this.inFlight--;
      this.settled++;
      if (this.inFlight === 0) this.finish?.();
    }, (e) => this.fail?.(e));
  }

  /** Resolves once nothing is in flight (call after the last add). */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve, reject) => { this.finish = resolve; this.fail = reject; });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const calls = intOption(argv, '--calls', 1000);
  setNumThreads(intOption(argv, '--threads', getNumThreads()));
  const { x, w } = makeInputs();
  // Warm-up: page in the weights, start the addon's pool and scheduler.
  for (let i = 0; i < 3; i++) { conv(x, w, OPTS); await convAsync(x, w, OPTS); }

  const results: RunResult[] = [];
  results.push(await measure('idle (1 s)', 0, () => sleep(1000)));

  results.push(await measure('async burst', calls, async (track) => {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) track.add(convAsync(x, w, OPTS));
    track.longestSubmit = track.submitTotal = performance.now() - t0;
    await track.drained();
  }));

  results.push(await measure('async spread', calls, async (track) => {
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      track.add(convAsync(x, w, OPTS));
      const took = performance.now() - t0;
      track.longestSubmit = Math.max(track.longestSubmit, took);
      track.submitTotal += took;
      await nextTurn();
    }
    await track.drained();
  }));

  results.push(await measure('sync', calls, async (track) => {
    track.peak = 1; // one call at a time, by construction
    for (let i = 0; i < calls; i++) {
      conv(x, w, OPTS);
      track.settled++;
      await nextTurn();
    }
  }));

  results.push(await measure('sync loop', calls, async (track) => {
    track.peak = 1;
    for (let i = 0; i < calls; i++) conv(x, w, OPTS);
    track.settled = calls;
  }));

  report(calls, results);
}

function report(calls: number, results: RunResult[]): void {
  const info = backendInfo();
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(`convnd event-loop lag: ${calls} x conv [${X_SHAPE.join(',')}] * [${W_SHAPE.join(',')}] padding 1 (${(FLOPS_PER_CALL / 1e6).toFixed(1)} MFLOP per call)`);
  console.log(`${new Date().toISOString()}  ${cpu}, ${os.cpus().length} cores, ${info.isa}, ${info.threads} threads, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('');
  const header = ['run', 'lag p50 ms', 'p90', 'p99', 'max', 'calls/s', 'GFLOP/s', 'loop busy %', 'peak in flight', 'submit ms/call', 'longest submit ms', 'peak RSS MiB'];
  const rows = results.map((r) => [
    r.name, r.lag.p50.toFixed(2), r.lag.p90.toFixed(2), r.lag.p99.toFixed(2), r.lag.max.toFixed(1),
    r.calls ? (r.calls / r.seconds).toFixed(1) : '-',
    r.calls ? ((r.calls * FLOPS_PER_CALL) / r.seconds / 1e9).toFixed(1) : '-',
    (100 * r.loopBusy).toFixed(0),
    r.calls ? String(r.peakInFlight) : '-',
    r.name.startsWith('async') ? (r.submitTotalMs / r.calls).toFixed(3) : '-',
    r.name.startsWith('async') ? r.submitMs.toFixed(1) : '-',
    r.peakRssMiB.toFixed(0),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log('');
  const failing = results.filter((r) => r.name.startsWith('async') && r.lag.p99 >= P99_LIMIT_MS);
  if (failing.length) {
    console.log(`FAIL: async p99 lag reached ${P99_LIMIT_MS} ms in: ${failing.map((r) => r.name).join(', ')}`);
    process.exitCode = 1;
  } else {
    console.log(`PASS: async p99 lag below ${P99_LIMIT_MS} ms`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
