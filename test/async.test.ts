// The async API: off the event loop, cancellable before it starts, safe against buffers
// changing or being detached meanwhile, and usable from several worker threads at once.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { avgPoolAsync, conv, convAsync, convBackward, convBackwardAsync, convTransposeAsync, maxPoolAsync, maxPoolBackwardAsync, maxPool, maxPoolBackward } from '../lib/index.js';
import { randomTensor, rng } from './helpers/random.js';

const r = rng(99);
const x = randomTensor(r, [1, 32, 40, 40]);
const w = randomTensor(r, [32, 32, 3, 3]);
const opts = { padding: 1 };

function same(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

describe('async calls', () => {
  it('give the same bits as the sync calls, for every op', async () => {
    expect(same((await convAsync(x, w, opts)).data, conv(x, w, opts).data)).toBe(true);
    const y = conv(x, w, opts);
    const dy = randomTensor(r, y.shape);
    const sync = convBackward(dy, x, w, opts);
    const async = await convBackwardAsync(dy, x, w, opts);
    expect(same(async.dx!.data, sync.dx!.data) && same(async.dw!.data, sync.dw!.data) && same(async.db!.data, sync.db!.data)).toBe(true);
    expect((await convTransposeAsync(y, w, opts)).shape).toEqual(x.shape);
    const p = { kernel: 2 };
    expect(same((await maxPoolAsync(x, p)).data, maxPool(x, p).data)).toBe(true);
    const pdy = randomTensor(r, maxPool(x, p).shape);
    expect(same((await maxPoolBackwardAsync(pdy, x, p)).data, maxPoolBackward(pdy, x, p).data)).toBe(true);
  });

  it('write into `out` when given, and return it', async () => {
    const out = new Float32Array(conv(x, w, opts).data.length).fill(NaN);
    const y = await convAsync(x, w, { ...opts, out });
    expect(y.data).toBe(out);
    expect(same(out, conv(x, w, opts).data)).toBe(true);
    const dx = new Float32Array(x.data.length);
    const g = await convBackwardAsync(randomTensor(r, y.shape), x, w, { ...opts, out: { dx } });
    expect(g.dx!.data).toBe(dx);
  });

  it('copy their inputs when called: later changes do not reach the result', async () => {
    const xs = { data: Float32Array.from(x.data), shape: x.shape };
    const pending = convAsync(xs, w, opts);
    xs.data.fill(0);
    expect(same((await pending).data, conv(x, w, opts).data)).toBe(true);
  });

  it('reject, without crashing, when an input or out buffer is detached meanwhile', async () => {
    const xs = { data: Float32Array.from(x.data), shape: x.shape };
    const pending = convAsync(xs, w, opts);
    structuredClone(xs.data.buffer, { transfer: [xs.data.buffer] });
    await expect(pending).rejects.toThrow(/detached/);
    const out = new Float32Array(conv(x, w, opts).data.length);
    const pendingOut = convAsync(x, w, { ...opts, out });
    structuredClone(out.buffer, { transfer: [out.buffer] });
    await expect(pendingOut).rejects.toBeInstanceOf(TypeError);
  });

  it('are cancelled by an AbortSignal before they start, and finish once started', async () => {
    const pre = new AbortController();
    pre.abort();
    await expect(convAsync(x, w, { ...opts, signal: pre.signal })).rejects.toMatchObject({ name: 'AbortError' });
    // A queue of work in front keeps the last call waiting, so its abort lands before it starts:
    // ~100 ms of work, so that a busy machine pausing this thread cannot let the queue drain.
    const big = randomTensor(r, [1, 64, 56, 56]);
    const bigW = randomTensor(r, [64, 64, 3, 3]);
    const ahead = Array.from({ length: 24 }, () => convAsync(big, bigW, opts));
    const ctl = new AbortController();
    const last = convAsync(x, w, { ...opts, signal: ctl.signal });
    ctl.abort();
    await expect(last).rejects.toMatchObject({ name: 'AbortError' });
    for (const p of ahead) await expect(p).resolves.toBeDefined();
    // Aborting after completion changes nothing.
    const done = new AbortController();
    const y = await avgPoolAsync(x, { kernel: 2, signal: done.signal });
    done.abort();
    expect(y.shape).toEqual([1, 32, 20, 20]);
  });

  it('reject a signal that is not an AbortSignal', async () => {
    await expect(convAsync(x, w, { ...opts, signal: {} as AbortSignal })).rejects.toBeInstanceOf(TypeError);
  });

  it('keep the event loop ticking while they run', async () => {
    const big = randomTensor(r, [1, 64, 56, 56]);
    const bw = randomTensor(r, [64, 64, 3, 3]);
    let ticks = 0, last = performance.now(), worst = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
      ticks++;
    }, 2);
    const start = performance.now();
    await Promise.all(Array.from({ length: 40 }, () => convAsync(big, bw, { padding: 1 })));
    const elapsed = performance.now() - start;
    clearInterval(timer);
    // The loop ran its timer throughout (well over a few ticks a 10 ms), never stalled long.
    expect(ticks).toBeGreaterThan(elapsed / 20);
    // Under AddressSanitizer (npm run test:asan) the submitting turn's input copies run 5-10x
    // slower; the bound only has to tell a ticking loop from a blocked one.
    expect(worst).toBeLessThan(process.env.LD_PRELOAD?.includes('asan') ? 2000 : 200);
  });

  it('work from 4 worker threads at once, which then exit cleanly', async () => {
    const entry = path.resolve(__dirname, '..', 'dist', 'cjs', 'index.js');
    const runs = Array.from({ length: 4 }, () => new Promise<{ ok: boolean; error?: string }>((resolve, reject) => {
      const worker = new Worker(path.join(__dirname, 'workers', 'conv-worker.cjs'), { workerData: { entry, rounds: 5 } });
      worker.once('message', (m) => { resolve(m); void worker.terminate(); });
      worker.once('error', reject);
    }));
    const results = await Promise.all(runs);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    // The main thread still works after the workers are gone.
    expect(same((await convAsync(x, w, opts)).data, conv(x, w, opts).data)).toBe(true);
  });

  it('survive workers that exit or are terminated with calls still queued or running', async () => {
    const entry = path.resolve(__dirname, '..', 'dist', 'cjs', 'index.js');
    const script = path.join(__dirname, 'workers', 'exit-with-jobs.cjs');
    for (const hold of [false, true, true]) {
      const worker = new Worker(script, { workerData: { entry, hold } });
      // Listen for 'exit' from the start: a worker that exits by itself may emit it in the same
      // turn as its last message, before code awaiting that message could attach a listener.
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      await new Promise<void>((resolve) => worker.once('message', () => resolve()));
      if (hold) await worker.terminate();
      await exited;
    }
    // This process is still here, and its own calls still work.
    expect(same((await convAsync(x, w, opts)).data, conv(x, w, opts).data)).toBe(true);
  });

  // Under AddressSanitizer (npm run test:asan) freed memory sits in its quarantine: RSS says nothing.
  // Measured in a child process: this one's RSS also moves with the test runner's own heap.
  it.skipIf(process.env.LD_PRELOAD?.includes('asan'))('do not leak: many mixed calls keep memory flat', () => {
    const entry = path.resolve(__dirname, '..', 'dist', 'cjs', 'index.js');
    const script = path.join(__dirname, 'workers', 'leak-rounds.cjs');
    const { grown } = JSON.parse(execFileSync(process.execPath, ['--expose-gc', script, entry], { encoding: 'utf8' }));
    // 6,000 of the 8,000 calls are convolutions with a 16 KiB result (4,000 of them async, with an
    // input copy as large): leaking the results would grow RSS by over 90 MiB, the copies by over
    // 60. Without a leak it moves by a few MiB.
    expect(grown).toBeLessThan(24 * 2 ** 20);
  });
});
