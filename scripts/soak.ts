// `npm run soak`: 100,000 mixed sync and async calls on small shapes, to show that memory stays
// flat over a long run (a leak of even a few hundred bytes per call would add tens of MiB) and
// that every result stays bitwise equal to the sync one.
//
//   npm run soak                                   # 100,000 calls, RSS every 10,000
//   npm run soak -- --calls 20000 --bound-mib 64
//
// The first checkpoint ends the warm-up (pools, arenas and JIT settle); it is the baseline. The
// run fails (exit 1) if RSS at any later checkpoint exceeds it by more than the bound, or if any
// result differs from the sync one, or any call rejects unexpectedly. Runs under --expose-gc
// (the npm script sets it) so that each checkpoint reads RSS after a full collection.
import * as os from 'node:os';
import {
  avgPool, avgPoolAsync, avgPoolBackward, avgPoolBackwardAsync, backendInfo, conv, convAsync, convBackward,
  convBackwardAsync, convTranspose, convTransposeAsync, maxPool, maxPoolAsync, maxPoolBackward, maxPoolBackwardAsync,
  minPool, minPoolAsync, type Tensor,
} from '../lib/index.js';

interface Args { calls: number; every: number; boundMiB: number }

function parseArgs(argv: string[]): Args {
  const args: Args = { calls: 100_000, every: 10_000, boundMiB: 64 };
  const keys: Record<string, keyof Args> = { '--calls': 'calls', '--every': 'every', '--bound-mib': 'boundMiB' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = keys[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !(value > 0)) throw new Error(`usage: soak [--calls N] [--every N] [--bound-mib N]; bad ${argv[i]} ${argv[i + 1] ?? ''}`);
    args[key] = value;
  }
  return args;
}

/** Deterministic data in [-1, 1): the same run every time. */
function filled(shape: number[], seed: number): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(seed * 1000 + i * 0.731);
  return { data, shape };
}

const x = filled([2, 8, 16, 16], 1);
const w = filled([8, 8, 3, 3], 2);
const bias = filled([8], 3).data;
const dy = filled([2, 8, 16, 16], 4);
const pdy = filled([2, 8, 8, 8], 5);
const convOpts = { padding: 1, bias };
const pool = { kernel: 2 };

/** The sync results, computed once: every later call, sync or async, must give these bits. */
const want = {
  conv: conv(x, w, convOpts).data,
  grads: convBackward(dy, x, w, convOpts),
  transpose: convTranspose(x, w, convOpts).data,
  max: maxPool(x, pool).data,
  avg: avgPool(x, pool).data,
  min: minPool(x, pool).data,
  maxBack: maxPoolBackward(pdy, x, pool).data,
  avgBack: avgPoolBackward(pdy, x, pool).data,
};

function check(name: string, got: Float32Array | undefined, expected: Float32Array | undefined): void {
  if (!got || !expected || got.length !== expected.length || !got.every((v, i) => Object.is(v, expected[i])))
    throw new Error(`soak: ${name} differs from the sync result`);
}

/** Preallocated outputs, one per op that takes one (an op runs at most once at a time). */
const outs = {
  conv: new Float32Array(want.conv.length), convAsync: new Float32Array(want.conv.length),
  dx: new Float32Array(x.data.length), dw: new Float32Array(w.data.length), db: new Float32Array(8),
  dxA: new Float32Array(x.data.length), dwA: new Float32Array(w.data.length), dbA: new Float32Array(8),
  avg: new Float32Array(want.avg.length), avgA: new Float32Array(want.avg.length), avgBackA: new Float32Array(x.data.length),
};

const counts = { cancelled: 0, detachedRejected: 0 };

/** Sync calls: each checks its result against the first sync one. */
const SYNC_CALLS: (() => void)[] = [
  () => check('conv', conv(x, w, convOpts).data, want.conv),
  () => check('conv out', conv(x, w, { ...convOpts, out: outs.conv }).data, want.conv),
  () => check('convBackward', convBackward(dy, x, w, convOpts).dw?.data, want.grads.dw?.data),
  () => {
    const g = convBackward(dy, x, w, { ...convOpts, out: { dx: outs.dx, dw: outs.dw, db: outs.db } });
    check('convBackward out dx', g.dx?.data, want.grads.dx?.data);
    check('convBackward out db', g.db?.data, want.grads.db?.data);
  },
  () => check('maxPool', maxPool(x, pool).data, want.max),
  () => check('avgPool out', avgPool(x, { ...pool, out: outs.avg }).data, want.avg),
  () => check('maxPoolBackward', maxPoolBackward(pdy, x, pool).data, want.maxBack),
];

/** Async calls: all in flight together, while the sync calls run on the same pool. */
const ASYNC_CALLS: (() => Promise<void>)[] = [
  async () => check('convAsync', (await convAsync(x, w, convOpts)).data, want.conv),
  async () => check('convAsync out', (await convAsync(x, w, { ...convOpts, out: outs.convAsync })).data, want.conv),
  async () => check('convBackwardAsync', (await convBackwardAsync(dy, x, w, convOpts)).dx?.data, want.grads.dx?.data),
  async () => {
    const g = await convBackwardAsync(dy, x, w, { ...convOpts, out: { dx: outs.dxA, dw: outs.dwA, db: outs.dbA } });
    check('convBackwardAsync out dw', g.dw?.data, want.grads.dw?.data);
    check('convBackwardAsync out db', g.db?.data, want.grads.db?.data);
  },
  async () => check('convTransposeAsync', (await convTransposeAsync(x, w, convOpts)).data, want.transpose),
  async () => check('maxPoolAsync', (await maxPoolAsync(x, pool)).data, want.max),
  async () => check('avgPoolAsync out', (await avgPoolAsync(x, { ...pool, out: outs.avgA })).data, want.avg),
  async () => check('minPoolAsync', (await minPoolAsync(x, pool)).data, want.min),
  async () => check('maxPoolBackwardAsync', (await maxPoolBackwardAsync(pdy, x, pool)).data, want.maxBack),
  async () => check('avgPoolBackwardAsync out', (await avgPoolBackwardAsync(pdy, x, { ...pool, out: outs.avgBackA })).data, want.avgBack),
  // Cancellation: aborted right after submission, it is either cancelled in the queue or already done.
  async () => {
    const ctl = new AbortController();
    const p = convAsync(x, w, { ...convOpts, signal: ctl.signal });
    ctl.abort();
    try {
      check('convAsync aborted late', (await p).data, want.conv);
    } catch (e) {
      if ((e as Error).name !== 'AbortError') throw e;
      counts.cancelled++;
    }
  },
  // An `out` detached before the call settles: the promise rejects, and nothing may leak.
  async () => {
    const out = new Float32Array(want.conv.length);
    const p = convAsync(x, w, { ...convOpts, out });
    structuredClone(out.buffer, { transfer: [out.buffer] });
    try {
      await p;
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      counts.detachedRejected++;
      return;
    }
    throw new Error('soak: convAsync into a detached out resolved');
  },
];

const ROUND_CALLS = SYNC_CALLS.length + ASYNC_CALLS.length;

async function runRound(): Promise<void> {
  const pending = ASYNC_CALLS.map((call) => call());
  for (const call of SYNC_CALLS) call();
  await Promise.all(pending);
}

const gc = (globalThis as { gc?: () => void }).gc;
const MiB = 2 ** 20;

function memory(): { rss: number; heap: number; external: number } {
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss / MiB, heap: m.heapUsed / MiB, external: m.external / MiB };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const info = backendInfo();
  console.log(`convnd soak: ${args.calls} calls in rounds of ${ROUND_CALLS} (${ASYNC_CALLS.length} async), x [${x.shape.join(',')}], w [${w.shape.join(',')}]`);
  console.log(`${new Date().toISOString()}  ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, ${info.isa}, ${info.threads} threads, Node ${process.version}${gc ? '' : '  (no --expose-gc: RSS readings are noisier)'}`);
  const start = performance.now();
  let calls = 0, nextCheckpoint = args.every;
  let baseline: number | null = null, worst = 0;
  while (calls < args.calls) {
    await runRound();
    calls += ROUND_CALLS;
    if (calls >= nextCheckpoint || calls >= args.calls) {
      nextCheckpoint += args.every;
      const m = memory();
      if (baseline === null) baseline = m.rss;
      const growth = m.rss - baseline;
      worst = Math.max(worst, growth);
      const secs = (performance.now() - start) / 1000;
      console.log(`${String(calls).padStart(7)} calls  ${secs.toFixed(1).padStart(6)} s  RSS ${m.rss.toFixed(1).padStart(6)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} since warm-up)  heap ${m.heap.toFixed(1)} MiB  external ${m.external.toFixed(1)} MiB`);
    }
  }
  const secs = (performance.now() - start) / 1000;
  console.log(`${calls} calls in ${secs.toFixed(1)} s (${(calls / secs).toFixed(0)} calls/s); ${counts.cancelled} late aborts cancelled in the queue, ${counts.detachedRejected} detached-out calls rejected`);
  if (worst > args.boundMiB) {
    console.log(`FAIL: RSS grew ${worst.toFixed(1)} MiB after warm-up (bound ${args.boundMiB} MiB)`);
    process.exitCode = 1;
  } else {
    console.log(`PASS: RSS grew at most ${worst.toFixed(1)} MiB after warm-up (bound ${args.boundMiB} MiB); every result matched the sync one`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
