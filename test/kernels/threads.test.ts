// Results are bitwise identical at any thread count: work items never share an accumulator.
import { afterAll, describe, expect, it } from 'vitest';
import {
  avgPoolBackward, conv, convAsync, convBackward, convTranspose, getNumThreads, maxPool, maxPoolBackward, setNumThreads,
} from '../../lib/index.js';
import { requestedIsa } from '../helpers/oracle.js';
import { randomTensor, rng } from '../helpers/random.js';

const { isa, available } = requestedIsa();

function runAll(): Float32Array[] {
  const r = rng(7);
  const x = randomTensor(r, [2, 16, 19, 23]);
  const w = randomTensor(r, [24, 8, 3, 3]);
  const opts = { padding: 1, stride: [1, 2], groups: 2 };
  const y = conv(x, w, opts);
  const g = convBackward(randomTensor(r, y.shape), x, w, opts);
  const t = convTranspose(y, w, { stride: [1, 2], groups: 2, padding: 1 });
  // Large enough for the pool (so its shape could be planned differently for 2 threads), narrow
  // rows (band mode), and a bias, which band and row modes add at different points of the sum.
  const xBand = randomTensor(r, [1, 64, 8, 28]);
  const wBand = randomTensor(r, [64, 64, 3, 3]);
  const yBand = conv(xBand, wBand, { padding: 1, bias: randomTensor(r, [64]) });
  // Four output channels a group: the weight gradient's dot path over bands of rows.
  const xGroups = randomTensor(r, [2, 8, 10, 18]);
  const wGroups = randomTensor(r, [8, 4, 3, 3]);
  const gGroups = convBackward(randomTensor(r, [2, 8, 10, 18]), xGroups, wGroups, { padding: 1, groups: 2, grads: { input: false, weight: true, bias: false } });
  // Depthwise: the dot path with each input row filled once into a cache of planes.
  const wDepth = randomTensor(r, [8, 1, 3, 3]);
  const gDepth = convBackward(randomTensor(r, [2, 8, 10, 18]), xGroups, wDepth, { padding: 1, groups: 8, grads: { input: false, weight: true, bias: false } });
  // One input channel: too few channel chunks for the threads, so the weight gradient splits
  // the chunk's columns (taps) between tasks.
  const xLong = randomTensor(r, [1, 1, 4000]);
  const wLong = randomTensor(r, [64, 1, 63]);
  const gLong = convBackward(randomTensor(r, conv(xLong, wLong, { stride: 4 }).shape), xLong, wLong, { stride: 4, grads: { input: false, weight: true, bias: false } });
  // One group of few columns: the weight gradient sums 4 partitions of the rows apart, their
  // columns split as well on 5 threads.
  const xPart = randomTensor(r, [2, 16, 12, 20]);
  const wPart = randomTensor(r, [24, 16, 3, 3]);
  const gPart = convBackward(randomTensor(r, [2, 24, 12, 20]), xPart, wPart, { padding: 1, grads: { input: false, weight: true, bias: false } });
  // One row of a pointwise layer: channel mode splits its output channels between the threads
  // (forward and data gradient; a bias on the first block of each split).
  const xRow = randomTensor(r, [1, 200, 6, 7]);
  const wRow = randomTensor(r, [160, 200, 1, 1]);
  const yRow = conv(xRow, wRow, { bias: randomTensor(r, [160]) });
  const gRow = convBackward(randomTensor(r, yRow.shape), xRow, wRow, { grads: { input: true, weight: false, bias: false } });
  // 25 positions and 2.4M weights: weight-stationary, forward and data gradient, the output-channel
  // blocks split between the threads; the weight gradient as one GEMM over the positions.
  const xStill = randomTensor(r, [1, 512, 5, 5]);
  const wStill = randomTensor(r, [512, 512, 3, 3]);
  const yStill = conv(xStill, wStill, { padding: 1, bias: randomTensor(r, [512]) });
  const gStill = convBackward(randomTensor(r, yStill.shape), xStill, wStill, { padding: 1, grads: { input: true, weight: true, bias: false } });
  const p = { kernel: 3, stride: 2, padding: 1 };
  const dyPool = randomTensor(r, maxPool(x, p).shape);
  return [y.data, g.dx!.data, g.dw!.data, g.db!.data, t.data, maxPool(x, p).data,
    maxPoolBackward(dyPool, x, p).data, avgPoolBackward(dyPool, x, p).data, yBand.data, gGroups.dw!.data, gDepth.dw!.data, gLong.dw!.data,
    gPart.dw!.data, yRow.data, gRow.dx!.data, yStill.data, gStill.dx!.data, gStill.dw!.data];
}

describe.skipIf(!available)(`thread-count determinism on ${isa}`, () => {
  const saved = getNumThreads();
  afterAll(() => setNumThreads(saved));

  it("leaves the JavaScript thread's denormals alone (flush-to-zero is for the pool only)", async () => {
    // Parsed at run time so that nothing is folded at compile time.
    const tiny = Number(String(5e-324));
    for (const n of [1, 2]) {
      setNumThreads(n);
      runAll();
      await convAsync(randomTensor(rng(3), [1, 4, 9, 9]), randomTensor(rng(4), [4, 4, 3, 3]));
      expect(tiny * 3, `after calls on ${n} thread(s)`).toBeGreaterThan(0);
    }
  });

  it('gives the same bits on 1, 2, 3 and 5 threads', () => {
    setNumThreads(1);
    const one = runAll();
    for (const n of [2, 3, 5]) {
      setNumThreads(n);
      expect(getNumThreads()).toBe(n);
      const many = runAll();
      many.forEach((arr, i) => expect(Buffer.from(arr.buffer).equals(Buffer.from(one[i].buffer)), `output ${i} on ${n} threads`).toBe(true));
    }
  });
});
