// The public API's behaviour beyond the kernels' numerics: layouts (batched / unbatched), the
// `out` option, the rank-specific wrappers, async variants, output shapes, bias forms, tensor(),
// the runtime controls and the built package (CommonJS, ES module, CONVND_ISA).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../lib/index.js';
import {
  avgPool, avgPoolAsync, avgPoolBackward, avgPoolBackwardAsync, backendInfo, conv, conv1d, conv2d, conv3d, convAsync,
  convBackward, convBackwardAsync, convOutputShape, convTranspose, convTransposeAsync, getNumThreads, maxPool,
  maxPoolAsync, maxPoolBackward, maxPoolBackwardAsync, minPool, minPoolAsync, minPoolBackward, minPoolBackwardAsync,
  setNumThreads, tensor, type ConvOptions, type Tensor,
} from '../lib/index.js';

const root = path.resolve(__dirname, '..');

/** Deterministic pseudo-random values in [-1, 1). */
function rand(shape: number[], seed = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed >>> 0 || 1;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return { data, shape };
}

/** Sample `i` of a batched tensor, as an unbatched tensor. */
function sample(t: Tensor, i: number): Tensor {
  const per = t.data.length / t.shape[0];
  return { data: t.data.slice(i * per, (i + 1) * per), shape: t.shape.slice(1) };
}

/** Adds a batch axis of 1. */
function batch1(t: Tensor): Tensor {
  return { data: t.data, shape: [1, ...t.shape] };
}

function expectClose(actual: Tensor, expected: Tensor, tol = 1e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.data.length).toBe(expected.data.length);
  let worst = 0;
  for (let i = 0; i < actual.data.length; i++) {
    const a = actual.data[i], e = expected.data[i];
    const err = Math.abs(a - e) / (1 + Math.abs(e));
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  expect(worst).toBeLessThanOrEqual(tol);
}

function expectSame(actual: Tensor, expected: Tensor): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(Array.from(actual.data)).toEqual(Array.from(expected.data));
}

const values = (t: Tensor) => Array.from(t.data);

describe('small cases computed by hand', () => {
  const x = tensor([1, 2, 3, 4], [1, 1, 4]);
  const w = tensor([1, 1], [1, 1, 2]);

  it('convolution (cross-correlation), with each option', () => {
    expect(values(conv(x, w))).toEqual([3, 5, 7]);
    expect(values(conv(x, tensor([1, -1], [1, 1, 2])))).toEqual([-1, -1, -1]);
    expect(values(conv(x, w, { bias: Float32Array.of(10) }))).toEqual([13, 15, 17]);
    expect(values(conv(x, w, { stride: 2 }))).toEqual([3, 7]);
    expect(values(conv(x, w, { padding: 1 }))).toEqual([1, 3, 5, 7, 4]);
    expect(values(conv(x, w, { padding: [[0, 1]] }))).toEqual([3, 5, 7, 4]);
    expect(values(conv(x, w, { dilation: 2 }))).toEqual([4, 6]);
    expect(values(conv(x, w, { padding: 'same' }))).toEqual([3, 5, 7, 4]);
    expect(values(conv(x, w, { padding: 'full' }))).toEqual([1, 3, 5, 7, 4]);
  });

  it('groups convolve each channel group separately', () => {
    const x2 = tensor([1, 2, 3, 10, 20, 30], [1, 2, 3]);
    const w2 = tensor([1, 0, 0, 1], [2, 1, 2]);
    expect(values(conv(x2, w2, { groups: 2 }))).toEqual([1, 2, 20, 30]);
  });

  it('transposed convolution, pooling and their gradients', () => {
    expect(values(convTranspose(tensor([1, 2], [1, 1, 2]), w))).toEqual([1, 3, 2]);
    expect(values(convTranspose(tensor([1, 2], [1, 1, 2]), w, { stride: 2 }))).toEqual([1, 1, 2, 2]);
    const p = tensor([1, 3, 2, 4], [1, 1, 4]);
    expect(values(maxPool(p, { kernel: 2 }))).toEqual([3, 4]);
    expect(values(minPool(p, { kernel: 2 }))).toEqual([1, 2]);
    expect(values(avgPool(p, { kernel: 2 }))).toEqual([2, 3]);
    expect(values(maxPoolBackward(tensor([10, 20], [1, 1, 2]), p, { kernel: 2 }))).toEqual([0, 10, 0, 20]);
    expect(values(avgPoolBackward(tensor([10, 20], [1, 1, 2]), p, { kernel: 2 }))).toEqual([5, 5, 10, 10]);
    const g = convBackward(tensor([1, 1, 1], [1, 1, 3]), x, w);
    expect(values(g.dx!)).toEqual([1, 2, 2, 1]);
    expect(values(g.dw!)).toEqual([6, 9]);
    expect(values(g.db!)).toEqual([3]);
  });
});

describe('unbatched input', () => {
  it('conv: unbatched [C, ...spatial] gives the batched result\'s slice, unbatched', () => {
    for (const [xs, ws, opts] of [
      [[3, 3, 9], [4, 3, 3], { padding: 1 }],
      [[2, 4, 6, 7], [6, 4, 3, 2], { stride: 2, padding: 'same' }],
      [[2, 4, 5, 5], [4, 2, 3, 3], { groups: 2, dilation: [1, 2], padding: [[1, 0], [2, 2]] }],
      [[2, 2, 4, 5, 3], [3, 2, 2, 3, 1], { stride: [1, 2, 1] }],
    ] as [number[], number[], ConvOptions][]) {
      const x = rand(xs, 3), w = rand(ws, 4), bias = rand([ws[0]], 5).data;
      const batched = conv(x, w, { ...opts, bias });
      for (let i = 0; i < xs[0]; i++) {
        const y = conv(sample(x, i), w, { ...opts, bias });
        expect(y.shape).toEqual(batched.shape.slice(1));
        expectClose(y, sample(batched, i));
      }
    }
  });

  it('convTranspose, convBackward and pooling accept unbatched input too', () => {
    const x = rand([2, 4, 5, 6], 6);
    const wt = rand([4, 3, 3, 3], 7);
    const yt = convTranspose(x, wt, { stride: 2, outputPadding: 1 });
    expectClose(convTranspose(sample(x, 1), wt, { stride: 2, outputPadding: 1 }), sample(yt, 1));

    const w = rand([5, 4, 2, 3], 8);
    const dy = rand(conv(x, w).shape, 9);
    const g = convBackward(dy, x, w);
    const g1 = convBackward(sample(dy, 1), sample(x, 1), w);
    expectClose(g1.dx!, sample(g.dx!, 1));
    // Unbatched weight and bias gradients are those of the same sample batched alone.
    const gb = convBackward(batch1(sample(dy, 1)), batch1(sample(x, 1)), w);
    expectClose(g1.dw!, gb.dw!);
    expectClose(g1.db!, gb.db!);

    for (const [f, b] of [[maxPool, maxPoolBackward], [minPool, minPoolBackward], [avgPool, avgPoolBackward]] as const) {
      const opts = { kernel: [2, 3], stride: 1, padding: 1 };
      const y = f(x, opts);
      const y1 = f(sample(x, 0), opts);
      expect(y1.shape).toEqual(y.shape.slice(1));
      expectClose(y1, sample(y, 0));
      const d = rand(y.shape, 10);
      expectClose(b(sample(d, 0), sample(x, 0), opts), sample(b(d, x, opts), 0));
    }
  });
});

describe('the out option', () => {
  it('conv writes into out and returns it as the data', () => {
    const x = rand([2, 3, 7, 6], 11), w = rand([4, 3, 3, 3], 12);
    const expected = conv(x, w, { padding: 1, stride: 2 });
    const out = new Float32Array(expected.data.length).fill(NaN);
    const y = conv(x, w, { padding: 1, stride: 2, out });
    expect(y.data).toBe(out);
    expectSame(y, expected);
    // Again into the same, now dirty, array: the result replaces what was there.
    expect(conv2d(x, w, { padding: 1, stride: 2, out }).data).toBe(out);
    expectSame({ data: out, shape: expected.shape }, expected);
  });

  it('convAsync, convTranspose and convTransposeAsync honour out', async () => {
    const x = rand([1, 2, 5], 13), w = rand([3, 2, 2], 14), bias = rand([3], 15).data;
    const expected = conv(x, w, { bias });
    const out = new Float32Array(expected.data.length).fill(123);
    const y = await convAsync(x, w, { bias, out });
    expect(y.data).toBe(out);
    expectSame(y, expected);

    const wt = rand([2, 3, 2], 16);
    const t = convTranspose(x, wt, { stride: 2 });
    const out2 = new Float32Array(t.data.length).fill(-7);
    expect(convTranspose(x, wt, { stride: 2, out: out2 }).data).toBe(out2);
    expectSame({ data: out2, shape: t.shape }, t);
    const out3 = new Float32Array(t.data.length).fill(NaN);
    const t3 = await convTransposeAsync(x, wt, { stride: 2, out: out3 });
    expect(t3.data).toBe(out3);
    expectSame(t3, t);
  });

  it('pooling forward and backward honour out', async () => {
    const x = rand([2, 3, 6, 5], 17);
    const opts = { kernel: [3, 2], stride: [2, 1], padding: 1 };
    for (const [f, fa] of [[maxPool, maxPoolAsync], [minPool, minPoolAsync], [avgPool, avgPoolAsync]] as const) {
      const expected = f(x, opts);
      const out = new Float32Array(expected.data.length).fill(NaN);
      expect(f(x, { ...opts, out }).data).toBe(out);
      expectSame({ data: out, shape: expected.shape }, expected);
      const outAsync = new Float32Array(expected.data.length).fill(5);
      const ya = await fa(x, { ...opts, out: outAsync });
      expect(ya.data).toBe(outAsync);
      expectSame(ya, expected);
    }
    const dy = rand(maxPool(x, opts).shape, 18);
    for (const [b, ba] of [[maxPoolBackward, maxPoolBackwardAsync], [minPoolBackward, minPoolBackwardAsync], [avgPoolBackward, avgPoolBackwardAsync]] as const) {
      const expected = b(dy, x, opts);
      const out = new Float32Array(x.data.length).fill(NaN);
      const dx = b(dy, x, { ...opts, out });
      expect(dx.data).toBe(out);
      expectSame(dx, expected);
      const outAsync = new Float32Array(x.data.length).fill(99);
      const dxa = await ba(dy, x, { ...opts, out: outAsync });
      expect(dxa.data).toBe(outAsync);
      expectSame(dxa, expected);
    }
  });
});

describe('rank-specific wrappers and async variants', () => {
  it('conv1d / conv2d / conv3d agree with conv', () => {
    const cases: [typeof conv1d, number[], number[], ConvOptions][] = [
      [conv1d, [2, 3, 11], [4, 3, 3], { stride: 2, padding: 1 }],
      [conv2d, [2, 3, 7, 8], [3, 1, 3, 2], { groups: 3, dilation: [2, 1] }],
      [conv3d, [1, 2, 4, 5, 6], [3, 2, 2, 2, 3], { padding: 'same' }],
    ];
    for (const [f, xs, ws, opts] of cases) {
      const x = rand(xs, 21), w = rand([ws[0], xs[1] / (opts.groups ?? 1), ...ws.slice(2)], 22);
      expectSame(f(x, w, opts), conv(x, w, opts));
      // Unbatched too.
      expectSame(f(sample(x, 0), w, opts), conv(sample(x, 0), w, opts));
    }
  });

  it('convAsync equals conv', async () => {
    const x = rand([2, 4, 9, 7], 23), w = rand([6, 2, 3, 3], 24);
    const opts: ConvOptions = { groups: 2, padding: 'same', stride: 2, bias: rand([6], 25).data };
    const promise = convAsync(x, w, opts);
    expect(promise).toBeInstanceOf(Promise);
    expectSame(await promise, conv(x, w, opts));
  });

  it('convBackwardAsync and convTransposeAsync equal their sync forms', async () => {
    const x = rand([2, 3, 6, 6], 26), w = rand([4, 3, 3, 3], 27);
    const dy = rand(conv(x, w, { padding: 1 }).shape, 28);
    const sync = convBackward(dy, x, w, { padding: 1 });
    const async = await convBackwardAsync(dy, x, w, { padding: 1 });
    expectSame(async.dx!, sync.dx!);
    expectSame(async.dw!, sync.dw!);
    expectSame(async.db!, sync.db!);
    const some = await convBackwardAsync(dy, x, w, { padding: 1, grads: { input: false, bias: false } });
    expect(Object.keys(some)).toEqual(['dw']);
    expectSame(some.dw!, sync.dw!);
    const wt = rand([3, 2, 2, 2], 29);
    expectSame(await convTransposeAsync(x, wt, { stride: 2 }), convTranspose(x, wt, { stride: 2 }));
  });

  it('pooling async variants equal their sync forms', async () => {
    const x = rand([1, 2, 7, 7], 30);
    const opts = { kernel: 3, stride: 2, ceilMode: true };
    const dy = rand(maxPool(x, opts).shape, 31);
    expectSame(await maxPoolAsync(x, opts), maxPool(x, opts));
    expectSame(await minPoolAsync(x, opts), minPool(x, opts));
    expectSame(await avgPoolAsync(x, opts), avgPool(x, opts));
    expectSame(await maxPoolBackwardAsync(dy, x, opts), maxPoolBackward(dy, x, opts));
    expectSame(await minPoolBackwardAsync(dy, x, opts), minPoolBackward(dy, x, opts));
    expectSame(await avgPoolBackwardAsync(dy, x, opts), avgPoolBackward(dy, x, opts));
  });
});

describe('convOutputShape', () => {
  it('matches conv(...).shape for every padding form', () => {
    const cases: [number[], number[], ConvOptions][] = [
      [[2, 3, 10], [4, 3, 3], {}],
      [[2, 3, 10], [4, 3, 3], { padding: 'valid' }],
      [[2, 3, 10], [4, 3, 3], { padding: 'same' }],
      [[2, 3, 10], [4, 3, 4], { padding: 'same', stride: 2 }],
      [[2, 3, 11], [4, 3, 3], { padding: 'same', stride: 3, dilation: 2 }],
      [[2, 3, 10], [4, 3, 3], { padding: 'full', dilation: 2 }],
      [[2, 3, 10], [4, 3, 3], { padding: 2, stride: 3 }],
      [[1, 2, 7, 9], [3, 2, 3, 2], { padding: [1, 0], stride: [2, 1] }],
      [[1, 2, 7, 9], [3, 2, 3, 2], { padding: [[2, 0], [0, 3]], dilation: [1, 2] }],
      [[1, 2, 7, 9], [3, 2, 3, 2], { padding: 'same', stride: [2, 3] }],
      [[1, 2, 7, 9], [3, 2, 3, 2], { padding: 'full', stride: 2 }],
      [[2, 7, 9], [3, 2, 3, 2], { padding: 'same', stride: 2 }],
      [[1, 4, 3, 5, 4], [2, 2, 2, 3, 1], { groups: 2, padding: [[0, 1], [1, 1], [0, 0]] }],
    ];
    for (const [xs, ws, opts] of cases) {
      const expected = conv(rand(xs, 32), rand(ws, 33), opts).shape;
      expect(convOutputShape(xs, ws, opts), JSON.stringify([xs, ws, opts])).toEqual(expected);
    }
  });

  it("'same' gives ceil(in / stride), 'full' adds dilation*(kernel-1) per side, pairs are before/after", () => {
    expect(convOutputShape([1, 1, 7, 8], [1, 1, 3, 3], { padding: 'same', stride: 2 })).toEqual([1, 1, 4, 4]);
    expect(convOutputShape([1, 1, 10, 9], [1, 1, 5, 2], { padding: 'same', stride: 3 })).toEqual([1, 1, 4, 3]);
    expect(convOutputShape([1, 1, 10], [1, 1, 4], { padding: 'same', stride: 1, dilation: 3 })).toEqual([1, 1, 10]);
    expect(convOutputShape([1, 1, 10], [1, 1, 3], { padding: 'full', dilation: 2 })).toEqual([1, 1, 14]);
    expect(convOutputShape([1, 1, 10], [1, 1, 3], { padding: [[4, 0]] })).toEqual([1, 1, 12]);
    expect(convOutputShape([1, 1, 10], [1, 1, 3], { padding: 3, stride: 2 })).toEqual([1, 1, 7]);
    expect(convOutputShape([3, 10], [5, 3, 3], {})).toEqual([5, 8]);
  });

  it('a call repeating the last shapes and options reuses its plan; any difference plans anew', () => {
    // Neighbours differ in one thing each: a plan reused across them would give another shape or
    // other values than the same call made after an unrelated one (which always plans afresh).
    const cases: [number[], number[], ConvOptions][] = [
      [[1, 4, 9, 11], [4, 4, 3, 3], { padding: 1 }],
      [[1, 4, 9, 11], [4, 4, 3, 3], { padding: 1 }],
      [[1, 4, 9, 12], [4, 4, 3, 3], { padding: 1 }],
      [[1, 4, 9, 12], [4, 4, 3, 2], { padding: 1 }],
      [[1, 4, 9, 12], [4, 4, 3, 2], { padding: 'same' }],
      [[1, 4, 9, 12], [4, 4, 3, 2], { padding: [[1, 0], [0, 1]] }],
      [[1, 4, 9, 12], [4, 4, 3, 2], { padding: [[0, 1], [1, 0]] }],
      [[1, 4, 9, 12], [4, 4, 3, 2], { padding: [[0, 1], [1, 0]], stride: 2 }],
      [[1, 4, 9, 12], [4, 4, 3, 2], { padding: [[0, 1], [1, 0]], stride: [2, 1] }],
      [[1, 4, 9, 12], [4, 4, 3, 2], { padding: [[0, 1], [1, 0]], stride: [2, 1], dilation: 2 }],
      [[1, 4, 9, 12], [4, 2, 3, 2], { padding: [[0, 1], [1, 0]], stride: [2, 1], dilation: 2, groups: 2 }],
      [[2, 4, 9, 12], [4, 2, 3, 2], { padding: [[0, 1], [1, 0]], stride: [2, 1], dilation: 2, groups: 2 }],
    ];
    const unrelated = (): Tensor => conv(rand([1, 1, 5], 40), rand([1, 1, 2], 41));
    const alone = cases.map(([xs, ws, opts], i) => {
      unrelated();
      return conv(rand(xs, 50 + i), rand(ws, 70 + i), opts);
    });
    cases.forEach(([xs, ws, opts], i) => {
      const y = conv(rand(xs, 50 + i), rand(ws, 70 + i), opts);
      expect(y.shape, `case ${i}`).toEqual(alone[i].shape);
      expect(values(y), `case ${i}`).toEqual(values(alone[i]));
    });
    // Changing a returned shape in place changes no later call (convBackward returns dx and dw
    // with the checked tensors' shapes).
    const [x0, w0] = [rand([1, 2, 6, 7]), rand([3, 2, 3, 3])];
    const g = convBackward(rand([1, 3, 4, 5]), x0, w0);
    g.dx!.shape[3] = 8;
    const wide = conv(rand([1, 2, 6, 8]), w0);
    expect(wide.shape).toEqual([1, 3, 4, 6]);
    // Shapes imply groups, so only a wrong value can differ: it must still be refused.
    const [xs, ws, opts] = cases[cases.length - 1];
    expect(() => conv(rand(xs), rand(ws), { ...opts, groups: 4 })).toThrow(RangeError);
    expect(() => conv(rand(xs), rand(ws), { ...opts, groups: 2.5 })).toThrow(RangeError);
  });

  it("'same' at stride 2 keeps the output centred as ONNX SAME_UPPER (extra padding after)", () => {
    // in 6, kernel 3, stride 2: out 3, total padding 1, all of it after.
    const x = tensor([1, 2, 3, 4, 5, 6], [1, 1, 6]);
    const w = tensor([1, 1, 1], [1, 1, 3]);
    expect(values(conv(x, w, { padding: 'same', stride: 2 }))).toEqual([6, 12, 11]);
    // in 5, kernel 4, stride 1: total padding 3, 1 before and 2 after.
    expect(values(conv(tensor([1, 2, 3, 4, 5], [1, 1, 5]), tensor([1, 1, 1, 1], [1, 1, 4]), { padding: 'same' }))).toEqual([6, 10, 14, 12, 9]);
  });
});

describe('bias', () => {
  it('is accepted as a Tensor or a Float32Array, and adds one value per output channel', () => {
    const x = rand([2, 3, 6, 6], 40), w = rand([4, 3, 3, 3], 41);
    const b = Float32Array.of(1, -2, 0.5, 100);
    const plain = conv(x, w);
    const fromArray = conv(x, w, { bias: b });
    const fromTensor = conv(x, w, { bias: tensor(b, [4]) });
    expectSame(fromTensor, fromArray);
    const per = 4 * 4;
    for (let i = 0; i < plain.data.length; i++) {
      const k = Math.floor(i / per) % 4;
      expect(fromArray.data[i]).toBeCloseTo(plain.data[i] + b[k], 4);
    }
    expectSame(conv(x, w, { bias: null }), plain);
    // convTranspose: one bias value per output channel.
    const wt = rand([3, 2, 2, 2], 42);
    const t = convTranspose(x, wt);
    const tb = convTranspose(x, wt, { bias: { data: Float32Array.of(3, -3), shape: [2] } });
    expectSame(convTranspose(x, wt, { bias: Float32Array.of(3, -3) }), tb);
    expect(tb.data[0]).toBeCloseTo(t.data[0] + 3, 4);
    expect(tb.data[tb.data.length - 1]).toBeCloseTo(t.data[t.data.length - 1] - 3, 4);
  });
});

describe('tensor()', () => {
  it('copies plain arrays (and other array-likes) into a new Float32Array', () => {
    const src = [1, 2, 3, 4, 5, 6];
    const t = tensor(src, [2, 3]);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data)).toEqual(src);
    src[0] = 100;
    expect(t.data[0]).toBe(1);
    const f64 = Float64Array.of(0.5, 1.5);
    const t2 = tensor(f64, [2]);
    expect(t2.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t2.data)).toEqual([0.5, 1.5]);
    expect(Array.from(tensor({ length: 2, 0: 7, 1: 8 }, [2]).data)).toEqual([7, 8]);
  });

  it('keeps a Float32Array as is (no copy)', () => {
    const data = new Float32Array(6);
    const t = tensor(data, [1, 2, 3]);
    expect(t.data).toBe(data);
    data[5] = 9;
    expect(t.data[5]).toBe(9);
  });

  it('copies the shape', () => {
    const shape = [2, 3];
    const t = tensor(new Float32Array(6), shape);
    expect(t.shape).toEqual([2, 3]);
    shape[0] = 6;
    expect(t.shape).toEqual([2, 3]);
  });
});

describe('runtime', () => {
  const saved = getNumThreads();
  afterEach(() => setNumThreads(saved));

  it('backendInfo reports the kernel set, threads, version and origin', () => {
    const info = backendInfo();
    expect(['avx512', 'avx2', 'neon', 'scalar']).toContain(info.isa);
    expect(info.supported.length).toBeGreaterThanOrEqual(1);
    expect(info.supported).toContain(info.isa);
    expect(info.supported).toContain('scalar');
    expect(Number.isInteger(info.threads)).toBe(true);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.threads).toBe(getNumThreads());
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect(info.version).toBe(pkg.version);
    expect(existsSync(path.join(root, 'build', 'Release', 'convnd.node'))).toBe(true);
    expect(info.prebuilt).toBe(false);
  });

  it('setNumThreads / getNumThreads round-trip, and results do not depend on the count', () => {
    const x = rand([2, 8, 12, 12], 50), w = rand([8, 8, 3, 3], 51);
    setNumThreads(1);
    expect(getNumThreads()).toBe(1);
    expect(backendInfo().threads).toBe(1);
    const one = conv(x, w, { padding: 1 });
    setNumThreads(3);
    expect(getNumThreads()).toBe(3);
    expectSame(conv(x, w, { padding: 1 }), one);
    setNumThreads(saved);
    expect(getNumThreads()).toBe(saved);
  });
});

describe('the built package', () => {
  const cjsEntry = path.join(root, 'dist', 'cjs', 'index.js');
  const esmEntry = path.join(root, 'dist', 'esm', 'index.mjs');
  // The children see neither our kernel nor our thread settings unless a test sets them.
  const baseEnv = { ...process.env };
  delete baseEnv.CONVND_ISA;
  delete baseEnv.CONVND_NUM_THREADS;

  function node(args: string[], env: Record<string, string> = {}): string {
    const r: SpawnSyncReturns<string> = spawnSync(process.execPath, args, {
      cwd: root, env: { ...baseEnv, ...env }, encoding: 'utf8', timeout: 30_000,
    });
    expect(r.status, `node ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r.stdout.trim();
  }

  beforeAll(() => {
    if (!existsSync(cjsEntry) || !existsSync(esmEntry)) {
      const r = spawnSync('npm', ['run', 'build:ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
      if (r.status !== 0) throw new Error(`npm run build:ts failed:\n${r.stdout}\n${r.stderr}`);
    }
  }, 150_000);

  it('CONVND_ISA=scalar forces the scalar kernels; without it the best supported set is used', () => {
    const script = `const c = require(${JSON.stringify(cjsEntry)}); const i = c.backendInfo(); console.log(JSON.stringify([i.isa, i.supported]))`;
    const [isa, supported] = JSON.parse(node(['-e', script], { CONVND_ISA: 'scalar' })) as [string, string[]];
    expect(isa).toBe('scalar');
    expect(supported).toEqual(backendInfo().supported);
    const [best] = JSON.parse(node(['-e', script])) as [string];
    expect(best).toBe(supported[0]);
  });

  it('CONVND_NUM_THREADS sets the default thread count', () => {
    const script = `console.log(require(${JSON.stringify(cjsEntry)}).getNumThreads())`;
    expect(node(['-e', script], { CONVND_NUM_THREADS: '1' })).toBe('1');
    expect(node(['-e', script], { CONVND_NUM_THREADS: '3' })).toBe('3');
  });

  it("require('convnd') and import 'convnd' load and give the same exports", () => {
    // Everything the API contract names (the built package may be older than lib/, so it is
    // compared with this list and between its two forms, not with lib/'s own exports).
    const contract = [
      'tensor', 'conv', 'conv1d', 'conv2d', 'conv3d', 'convAsync', 'convBackward', 'convBackwardAsync', 'convTranspose',
      'convTransposeAsync', 'convOutputShape', 'maxPool', 'minPool', 'avgPool', 'maxPoolAsync', 'minPoolAsync',
      'avgPoolAsync', 'maxPoolBackward', 'minPoolBackward', 'avgPoolBackward', 'maxPoolBackwardAsync',
      'minPoolBackwardAsync', 'avgPoolBackwardAsync', 'setNumThreads', 'getNumThreads', 'backendInfo',
    ];
    for (const name of contract) expect(Object.keys(api)).toContain(name);
    const cjs = JSON.parse(node(['-e', `
      const m = require('convnd');
      if (m !== require(${JSON.stringify(cjsEntry)})) throw new Error('require(convnd) is not dist/cjs/index.js');
      const y = m.conv(m.tensor([1, 2, 3, 4], [1, 1, 4]), m.tensor([1, 1], [1, 1, 2]));
      console.log(JSON.stringify({ keys: Object.keys(m).filter((k) => k !== '__esModule').sort(), y: Array.from(y.data) }));
    `])) as { keys: string[]; y: number[] };
    const esm = JSON.parse(node(['--input-type=module', '-e', `
      import * as m from 'convnd';
      import * as direct from ${JSON.stringify(new URL(`file://${esmEntry}`).href)};
      import { createRequire } from 'node:module';
      const c = createRequire(${JSON.stringify(cjsEntry)})('convnd');
      if (m.conv !== direct.conv) throw new Error("import 'convnd' is not dist/esm/index.mjs");
      const y = m.conv(m.tensor([1, 2, 3, 4], [1, 1, 4]), m.tensor([1, 1], [1, 1, 2]));
      console.log(JSON.stringify({
        keys: Object.keys(m).filter((k) => k !== 'default').sort(),
        shared: m.conv === c.conv && m.backendInfo === c.backendInfo,
        y: Array.from(y.data),
      }));
    `])) as { keys: string[]; shared: boolean; y: number[] };
    for (const name of contract) expect(cjs.keys).toContain(name);
    expect(esm.keys).toEqual(cjs.keys);
    expect(esm.shared).toBe(true);
    expect(cjs.y).toEqual([3, 5, 7]);
    expect(esm.y).toEqual([3, 5, 7]);
  });

  it('ships type declarations for both entry points', () => {
    const dts = path.join(root, 'dist', 'cjs', 'index.d.ts');
    expect(existsSync(dts)).toBe(true);
    const text = readFileSync(dts, 'utf8');
    for (const name of ['conv', 'convTranspose', 'maxPool', 'backendInfo', 'tensor']) expect(text).toContain(name);
    expect(existsSync(path.join(root, 'dist', 'esm', 'index.d.mts'))).toBe(true);
  });
});
