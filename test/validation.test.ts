// Every argument rule of the public API: bad input throws (or, for the async variants, rejects
// with) a TypeError for the wrong kind of value or a RangeError for a bad size or value, and the
// message names the function and the argument. The raw native entry points re-check everything.
import { describe, expect, it } from 'vitest';
import {
  avgPool, avgPoolAsync, avgPoolBackward, avgPoolBackwardAsync, conv, conv1d, conv2d, conv3d, convAsync,
  convBackward, convBackwardAsync, convOutputShape, convTranspose, convTransposeAsync, getNumThreads, maxPool,
  maxPoolAsync, maxPoolBackward, maxPoolBackwardAsync, minPool, minPoolAsync, minPoolBackward, minPoolBackwardAsync,
  setNumThreads, tensor, type Tensor,
} from '../lib/index.js';
import { native } from '../lib/native.js';

type ErrorClass = typeof TypeError | typeof RangeError;

/** Calls f and returns what it threw; fails when it returns normally. */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw, but the call returned normally');
}

/** The error is exactly `cls` (a RangeError is not a TypeError and vice versa) and names fn and every part. */
function expectErr(e: unknown, cls: ErrorClass, fn: string, ...parts: (string | RegExp)[]): void {
  expect(e).toBeInstanceOf(cls);
  expect(e).not.toBeInstanceOf(cls === TypeError ? RangeError : TypeError);
  const message = (e as Error).message;
  expect(message.startsWith(`${fn}: `), `"${message}" should start with "${fn}: "`).toBe(true);
  for (const p of parts) {
    if (typeof p === 'string') expect(message).toContain(p);
    else expect(message).toMatch(p);
  }
}

function expectThrow(f: () => unknown, cls: ErrorClass, fn: string, ...parts: (string | RegExp)[]): void {
  expectErr(thrown(f), cls, fn, ...parts);
}

/** An async call must return a promise (never throw synchronously) that rejects as described. */
async function expectReject(f: () => Promise<unknown>, cls: ErrorClass, fn: string, ...parts: (string | RegExp)[]): Promise<void> {
  let p: Promise<unknown> | undefined;
  expect(() => {
    p = f();
  }).not.toThrow();
  expect(p).toBeInstanceOf(Promise);
  let error: unknown;
  await p!.then(
    () => expect.fail('expected the promise to reject'),
    (e: unknown) => {
      error = e;
    },
  );
  expectErr(error, cls, fn, ...parts);
}

function ramp(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, (_, i) => ((i * 7) % 11) - 5), shape };
}

// A valid 1-d and 2-d problem that the cases below break one argument of.
const x1 = ramp([2, 3, 8]);
const w1 = ramp([4, 3, 3]);
const x2 = ramp([1, 2, 6, 6]);
const w2 = ramp([3, 2, 3, 3]);
const y1Shape = [2, 4, 6];

describe('tensor()', () => {
  it('accepts valid input (the baseline the failures are measured against)', () => {
    expect(tensor([1, 2, 3, 4, 5, 6], [2, 3]).shape).toEqual([2, 3]);
  });

  it('rejects data that is not an array-like with a TypeError', () => {
    for (const data of [null, undefined, 3, 'abc', true]) expectThrow(() => tensor(data as never, [1]), TypeError, 'tensor', 'data');
  });

  it('rejects non-number elements with a TypeError naming the element', () => {
    expectThrow(() => tensor(['1', 2] as never, [2]), TypeError, 'tensor', 'data[0]');
    expectThrow(() => tensor([1, null] as never, [2]), TypeError, 'tensor', 'data[1]');
    expectThrow(() => tensor(new BigInt64Array(2) as never, [2]), TypeError, 'tensor', 'data[0]');
    // A sparse array's hole is not a number either (it used to become NaN silently).
    expectThrow(() => tensor([1, , 3] as never, [3]), TypeError, 'tensor', 'data[1]');
  });

  it('rejects a shape that is not an array with a TypeError', () => {
    for (const shape of [null, 6, '2,3', { 0: 2, length: 1 }, new Int32Array([6])])
      expectThrow(() => tensor(new Float32Array(6), shape as never), TypeError, 'tensor', 'shape');
  });

  it('rejects non-integer, zero, negative, NaN and infinite shape entries with a RangeError', () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity, -Infinity])
      expectThrow(() => tensor(new Float32Array(6), [bad, 6]), RangeError, 'tensor', 'shape[0]', 'positive integer');
    expectThrow(() => tensor(new Float32Array(6), ['6'] as never), TypeError, 'tensor', 'shape[0]');
  });

  it('rejects a data length different from the product of the shape', () => {
    expectThrow(() => tensor([1, 2, 3], [2, 2]), RangeError, 'tensor', 'data', '3', '4');
    expectThrow(() => tensor(new Float32Array(5), [2, 2]), RangeError, 'tensor', 'data', '5', '4');
  });

  it('rejects huge shapes with a RangeError before allocating anything', () => {
    // 2^60 elements: past 2^53, where the product stops being exact.
    expectThrow(() => tensor([1], [2 ** 30, 2 ** 30]), RangeError, 'tensor', '2^53');
    expectThrow(() => tensor([1], [2 ** 20, 2 ** 20, 2 ** 20, 2 ** 20]), RangeError, 'tensor', '2^53');
    // Past the library's 2^40 cap, still exact.
    expectThrow(() => tensor([1], [2 ** 20, 2 ** 21]), RangeError, 'tensor', '2^40');
    // An array-like claiming a huge length is rejected by its length, not by trying to copy it.
    expectThrow(() => tensor({ length: 2 ** 41 } as never, [2 ** 20, 2 ** 20]), RangeError, 'tensor', 'data');
  });
});

describe('conv: tensor arguments', () => {
  it('accepts the baseline problem', () => {
    expect(conv(x1, w1).shape).toEqual(y1Shape);
    expect(conv(x2, w2).shape).toEqual([1, 3, 4, 4]);
  });

  it('rejects x or w that is not an object with a TypeError', () => {
    for (const bad of [null, undefined, 3, 'x', true]) {
      expectThrow(() => conv(bad as never, w1), TypeError, 'conv', 'x');
      expectThrow(() => conv(x1, bad as never), TypeError, 'conv', 'w');
    }
  });

  it('rejects data that is not a Float32Array (Float64Array, plain array, missing) with a TypeError', () => {
    for (const data of [new Float64Array(48), Array.from(x1.data), new Uint8Array(48), undefined, null]) {
      expectThrow(() => conv({ data, shape: x1.shape } as never, w1), TypeError, 'conv', 'x.data', 'Float32Array');
      expectThrow(() => conv(x1, { data, shape: w1.shape } as never), TypeError, 'conv', 'w.data', 'Float32Array');
    }
  });

  it('rejects objects that only pretend to be a Float32Array', () => {
    const fake = { [Symbol.toStringTag]: 'Float32Array', length: 48, buffer: new ArrayBuffer(192) };
    expectThrow(() => conv({ data: fake, shape: x1.shape } as never, w1), TypeError, 'conv', 'x.data', 'Float32Array');
    // A real Float32Array with an own `length` that lies about its size.
    const liar = new Float32Array(10);
    Object.defineProperty(liar, 'length', { value: 48 });
    expectThrow(() => conv({ data: liar, shape: x1.shape }, w1), RangeError, 'conv', 'x.data', '10');
  });

  it('rejects a shape that is not an array, or has bad entries', () => {
    expectThrow(() => conv({ data: x1.data, shape: 48 } as never, w1), TypeError, 'conv', 'x.shape');
    expectThrow(() => conv({ data: x1.data } as never, w1), TypeError, 'conv', 'x.shape');
    for (const bad of [0, -2, 2.5, NaN]) {
      expectThrow(() => conv({ data: x1.data, shape: [bad, 3, 8] }, w1), RangeError, 'conv', 'x.shape[0]');
      expectThrow(() => conv(x1, { data: w1.data, shape: [4, 3, bad] }), RangeError, 'conv', 'w.shape[2]');
    }
    expectThrow(() => conv({ data: x1.data, shape: [2, '3', 8] } as never, w1), TypeError, 'conv', 'x.shape[1]');
  });

  it('rejects data whose length is not the product of the shape', () => {
    expectThrow(() => conv({ data: new Float32Array(47), shape: [2, 3, 8] }, w1), RangeError, 'conv', 'x.data', '47', '48');
    expectThrow(() => conv(x1, { data: new Float32Array(37), shape: [4, 3, 3] }), RangeError, 'conv', 'w.data', '37', '36');
  });

  it('rejects a rank mismatch between x and w', () => {
    // A 1-d weight takes x of rank 3 (batched) or 2 (unbatched) only.
    expectThrow(() => conv(ramp([1, 2, 3, 8]), w1), RangeError, 'conv', 'x', '[1, 2, 3, 8]');
    expectThrow(() => conv(ramp([24]), w1), RangeError, 'conv', 'x');
    // The weight's rank must give 1-3 spatial axes.
    expectThrow(() => conv(x1, ramp([4, 3])), RangeError, 'conv', 'w', '2');
    expectThrow(() => conv(x1, ramp([1, 3, 1, 1, 1, 3])), RangeError, 'conv', 'w', '6');
  });

  it('conv1d / conv2d / conv3d check the weight rank', () => {
    expectThrow(() => conv2d(x1, w1), RangeError, 'conv2d', 'w', '4 dimensions', '[4, 3, 3]');
    expectThrow(() => conv1d(x2, w2), RangeError, 'conv1d', 'w', '3 dimensions');
    expectThrow(() => conv3d(x2, w2), RangeError, 'conv3d', 'w', '5 dimensions');
    expect(conv1d(x1, w1).shape).toEqual(y1Shape);
    expect(conv2d(x2, w2).shape).toEqual([1, 3, 4, 4]);
  });
});

describe('conv: channels and groups', () => {
  it('names both channel counts when they disagree', () => {
    expect(() => conv(ramp([1, 6, 5, 5]), ramp([2, 4, 3, 3]), { groups: 2 })).toThrow(
      new RangeError('conv: weight expects 4 input channels per group (groups=2) but x has 6 channels'),
    );
    expectThrow(() => conv(ramp([1, 6, 5, 5]), ramp([2, 4, 3, 3]), { groups: 2 }), RangeError, 'conv');
    expectThrow(() => conv(ramp([2, 2, 8]), w1), RangeError, 'conv', 'weight expects 3 input channels', 'x has 2 channels');
  });

  it('rejects groups that do not divide C or K', () => {
    // C = 3, groups = 2: no per-group channel count can match.
    expectThrow(() => conv(ramp([1, 3, 8]), ramp([2, 1, 3]), { groups: 2 }), RangeError, 'conv', 'groups=2', '3 channels');
    // K = 3, groups = 2.
    expectThrow(() => conv(ramp([1, 4, 8]), ramp([3, 2, 3]), { groups: 2 }), RangeError, 'conv', 'groups=2', 'divide', '3 output channels');
    // The transposed convolution's groups must divide its input channels.
    expectThrow(() => convTranspose(ramp([1, 3, 8]), ramp([3, 1, 3]), { groups: 2 }), RangeError, 'convTranspose', 'groups=2');
  });

  it('rejects groups that are not a positive integer', () => {
    for (const g of [0, -1, 1.5, NaN]) expectThrow(() => conv(x1, w1, { groups: g }), RangeError, 'conv', 'groups');
    expectThrow(() => conv(x1, w1, { groups: '1' as never }), TypeError, 'conv', 'groups');
  });
});

describe('conv: stride, dilation, padding', () => {
  it('rejects stride or dilation below 1 or fractional with a RangeError', () => {
    for (const arg of ['stride', 'dilation'] as const) {
      for (const v of [0, -1, 1.5, NaN]) expectThrow(() => conv(x1, w1, { [arg]: v }), RangeError, 'conv', arg);
      expectThrow(() => conv(x2, w2, { [arg]: [1, 0] }), RangeError, 'conv', `${arg}[1]`);
      expectThrow(() => conv(x2, w2, { [arg]: [1, 0.5] }), RangeError, 'conv', `${arg}[1]`);
      // One entry per spatial axis.
      expectThrow(() => conv(x2, w2, { [arg]: [1, 1, 1] }), RangeError, 'conv', arg, '2 entries');
      expectThrow(() => conv(x1, w1, { [arg]: [] }), RangeError, 'conv', arg, '1 entries');
      // Wrong kinds of value.
      expectThrow(() => conv(x1, w1, { [arg]: '2' as never }), TypeError, 'conv', arg);
      expectThrow(() => conv(x2, w2, { [arg]: [1, '2'] as never }), TypeError, 'conv', `${arg}[1]`);
      expectThrow(() => conv(x1, w1, { [arg]: { 0: 1 } as never }), TypeError, 'conv', arg);
    }
  });

  it('rejects stride and dilation past the 2^40 limit with a RangeError naming conv (not the addon)', () => {
    expectThrow(() => conv(x1, w1, { stride: 2 ** 41 }), RangeError, 'conv', 'stride');
    expectThrow(() => conv(x1, w1, { dilation: 2 ** 53 }), RangeError, 'conv', 'dilation');
  });

  it('rejects negative, fractional or mis-shaped padding', () => {
    expectThrow(() => conv(x1, w1, { padding: -1 }), RangeError, 'conv', 'padding');
    expectThrow(() => conv(x1, w1, { padding: 0.5 }), RangeError, 'conv', 'padding');
    expectThrow(() => conv(x2, w2, { padding: [1, -1] }), RangeError, 'conv', 'padding[1]');
    expectThrow(() => conv(x2, w2, { padding: [[1, 1], [0, -1]] }), RangeError, 'conv', 'padding[1][1]');
    expectThrow(() => conv(x2, w2, { padding: [1, 1, 1] }), RangeError, 'conv', 'padding', '2 entries');
    expectThrow(() => conv(x2, w2, { padding: [[1, 1]] }), RangeError, 'conv', 'padding', '2 [before, after] pairs');
    expectThrow(() => conv(x2, w2, { padding: [[1, 1], [1, 1, 1]] as never }), TypeError, 'conv', 'padding[1]', 'pair');
    expectThrow(() => conv(x2, w2, { padding: [[1, 1], 2] as never }), TypeError, 'conv', 'padding[1]');
    expectThrow(() => conv(x2, w2, { padding: [1, [1, 1]] as never }), TypeError, 'conv', 'padding[1]');
    expectThrow(() => conv(x1, w1, { padding: { before: 1 } as never }), TypeError, 'conv', 'padding');
    expectThrow(() => conv(x1, w1, { padding: 2 ** 41 }), RangeError, 'conv', 'padding');
  });

  it('rejects an unknown padding string with a RangeError', () => {
    for (const p of ['bogus', 'SAME', '', 'Valid'])
      expectThrow(() => conv(x1, w1, { padding: p as never }), RangeError, 'conv', 'padding');
    expect(conv(x1, w1, { padding: 'valid' }).shape).toEqual(y1Shape);
  });

  it("convTranspose rejects padding 'same' and 'full'", () => {
    const wt = ramp([3, 2, 3]);
    for (const p of ['same', 'full'] as const) {
      expectThrow(() => convTranspose(x1, wt, { padding: p }), RangeError, 'convTranspose', 'padding', p);
    }
    expect(convTranspose(x1, wt, { padding: 'valid' }).shape).toEqual([2, 2, 10]);
  });

  it('convTranspose rejects outputPadding not smaller than stride or dilation', () => {
    const wt = ramp([3, 2, 3]);
    expectThrow(() => convTranspose(x1, wt, { outputPadding: 1 }), RangeError, 'convTranspose', 'outputPadding');
    expectThrow(() => convTranspose(x1, wt, { stride: 2, dilation: 2, outputPadding: 2 }), RangeError, 'convTranspose', 'outputPadding[0]=2');
    expectThrow(() => convTranspose(x1, wt, { stride: 2, outputPadding: -1 }), RangeError, 'convTranspose', 'outputPadding');
    expectThrow(() => convTranspose(x1, wt, { stride: 2, outputPadding: '1' as never }), TypeError, 'convTranspose', 'outputPadding');
    // Smaller than either one is enough (as PyTorch).
    expect(convTranspose(x1, wt, { stride: 2, outputPadding: 1 }).shape).toEqual([2, 2, 18]);
    expect(convTranspose(x1, wt, { dilation: 2, outputPadding: 1 }).shape).toEqual([2, 2, 13]);
  });

  it('rejects an output size below 1', () => {
    expectThrow(() => conv(ramp([1, 1, 3]), ramp([1, 1, 5])), RangeError, 'conv', 'output size');
    expectThrow(() => conv(ramp([1, 1, 5]), ramp([1, 1, 3]), { dilation: 3 }), RangeError, 'conv', 'output size');
    expectThrow(() => convOutputShape([1, 1, 3, 9], [1, 1, 4, 2]), RangeError, 'convOutputShape', 'output size');
    // convTranspose: padding trims more than the full output.
    expectThrow(() => convTranspose(ramp([1, 1, 2]), ramp([1, 1, 2]), { padding: 2 }), RangeError, 'convTranspose', 'output size');
  });
});

describe('conv: bias, out and options', () => {
  it('rejects a bias of the wrong length', () => {
    expectThrow(() => conv(x1, w1, { bias: new Float32Array(3) }), RangeError, 'conv', 'bias', '4');
    expectThrow(() => conv(x1, w1, { bias: tensor(new Float32Array(5), [5]) }), RangeError, 'conv', 'bias', '4');
    // convTranspose's bias has one entry per output channel: C_out = w.shape[1] * groups.
    expectThrow(() => convTranspose(x1, ramp([3, 2, 3]), { bias: new Float32Array(3) }), RangeError, 'convTranspose', 'bias', '2');
  });

  it('rejects a bias of the wrong type', () => {
    for (const b of [[1, 2, 3, 4], new Float64Array(4), 4, 'bias', true])
      expectThrow(() => conv(x1, w1, { bias: b as never }), TypeError, 'conv', 'bias');
    expectThrow(() => conv(x1, w1, { bias: { data: [1, 2, 3, 4], shape: [4] } as never }), TypeError, 'conv', 'bias.data');
    expectThrow(() => conv(x1, w1, { bias: { data: new Float32Array(4), shape: [3] } }), RangeError, 'conv', 'bias.data');
  });

  it('rejects `out` of the wrong length or type', () => {
    const n = 2 * 4 * 6;
    expectThrow(() => conv(x1, w1, { out: new Float32Array(n - 1) }), RangeError, 'conv', 'out', String(n));
    expectThrow(() => conv(x1, w1, { out: new Float32Array(n + 1) }), RangeError, 'conv', 'out', String(n));
    for (const out of [new Float64Array(n), new Array<number>(n).fill(0), n, 'out'])
      expectThrow(() => conv(x1, w1, { out: out as never }), TypeError, 'conv', 'out', 'Float32Array');
    expectThrow(() => convTranspose(x1, ramp([3, 2, 3]), { out: new Float32Array(3) }), RangeError, 'convTranspose', 'out');
  });

  it('rejects `out` sharing memory with x, w or the bias', () => {
    // x [1, 1, 6] and a 1x1 kernel: output and x have the same length.
    const x = ramp([1, 1, 6]);
    const w = ramp([1, 1, 1]);
    const before = Float32Array.from(x.data);
    expectThrow(() => conv(x, w, { out: x.data }), RangeError, 'conv', 'out', 'x');
    expect(x.data).toEqual(before);
    // A view over overlapping bytes of a bigger buffer.
    const buffer = new Float32Array(10);
    const xv = { data: buffer.subarray(0, 6), shape: [1, 1, 6] };
    expectThrow(() => conv(xv, w, { out: buffer.subarray(4, 10) }), RangeError, 'conv', 'out', 'x');
    // Disjoint views of one buffer are fine.
    expect(conv({ data: buffer.subarray(0, 5), shape: [1, 1, 5] }, w, { out: buffer.subarray(5, 10) }).shape).toEqual([1, 1, 5]);
    const big = new Float32Array(12);
    expectThrow(() => conv(x, { data: big.subarray(0, 1), shape: [1, 1, 1] }, { out: big.subarray(0, 6) }), RangeError, 'conv', 'out', 'w');
    const shared = new Float32Array(7);
    expectThrow(() => conv(x, w, { bias: shared.subarray(0, 1), out: shared.subarray(0, 6) }), RangeError, 'conv', 'out', 'bias');
    expectThrow(() => convTranspose(x, w, { out: x.data }), RangeError, 'convTranspose', 'out', 'x');
  });

  it('rejects options that are not an object', () => {
    for (const o of ['abc', 5, true, [1], () => 1])
      expectThrow(() => conv(x1, w1, o as never), TypeError, 'conv', 'options');
    expectThrow(() => convTranspose(x1, ramp([3, 2, 3]), 7 as never), TypeError, 'convTranspose', 'options');
    expectThrow(() => convOutputShape([1, 3, 8], [4, 3, 3], 'same' as never), TypeError, 'convOutputShape', 'options');
    // null and undefined mean the defaults.
    expect(conv(x1, w1, null as never).shape).toEqual(y1Shape);
  });

  it('convOutputShape checks its shapes', () => {
    expectThrow(() => convOutputShape(null as never, [4, 3, 3]), TypeError, 'convOutputShape', 'xShape');
    expectThrow(() => convOutputShape([2, 3, 8], 'w' as never), TypeError, 'convOutputShape', 'wShape');
    expectThrow(() => convOutputShape([2, 3, 0], [4, 3, 3]), RangeError, 'convOutputShape', 'xShape[2]');
    expectThrow(() => convOutputShape([2, 3, 8], [4, 3, -3]), RangeError, 'convOutputShape', 'wShape[2]');
  });

  it('rejects element counts past 2^53 (and past the 2^40 cap) as a RangeError before allocating', () => {
    expectThrow(() => convOutputShape([2 ** 30, 1, 2 ** 30], [1, 1, 1]), RangeError, 'convOutputShape', 'xShape', '2^53');
    expectThrow(() => convOutputShape([1, 1, 2 ** 27, 2 ** 27], [1, 1, 1, 1]), RangeError, 'convOutputShape', 'xShape', '2^53');
    expectThrow(() => convOutputShape([1, 1, 8], [2 ** 30, 2 ** 30, 1]), RangeError, 'convOutputShape', 'wShape', '2^53');
    // Each shape fits but the output would not.
    expectThrow(() => convOutputShape([1, 1, 8], [1, 1, 1], { padding: 2 ** 40 }), RangeError, 'convOutputShape', 'output', '2^40');
    expectThrow(() => convTranspose(ramp([1, 1, 8]), ramp([1, 1, 2]), { stride: 2 ** 40 }), RangeError, 'convTranspose', 'output', '2^40');
  });

  it('turns an output too big for a Float32Array into a RangeError naming conv', () => {
    // 2^32 + 10 output elements: under the 2^40 cap, over V8's typed array limit.
    expectThrow(() => conv(ramp([1, 1, 10, 1]), ramp([1, 1, 1, 1]), { padding: [[2 ** 31, 2 ** 31], [0, 0]] }), RangeError, 'conv', 'output');
  });

  it("reports the addon's limits itself, naming conv and maxPool", () => {
    // The innermost axis is indexed with 32-bit offsets in the addon.
    expectThrow(() => conv(ramp([1, 1, 10]), ramp([1, 1, 2]), { dilation: 2 ** 28, padding: [[2 ** 28, 0]] }), RangeError, 'conv', 'innermost');
    expectThrow(() => convOutputShape([1, 1, 2 ** 29], [1, 1, 1]), RangeError, 'convOutputShape', 'innermost');
    // 'same' and 'full' padding past 2^40 (the addon's limit) on an outer axis.
    for (const padding of ['same', 'full'] as const)
      expectThrow(() => convOutputShape([1, 1, 10, 5], [1, 1, 5, 1], { padding, dilation: [2 ** 40, 1] }), RangeError, 'convOutputShape', 'padding', padding);
    // A pooling window of 2^24 cells.
    expectThrow(() => maxPool(ramp([1, 1, 1, 1]), { kernel: [4096, 4096], padding: 2048 }), RangeError, 'maxPool', '2^24');
  });
});

describe('convBackward', () => {
  const dy = ramp(y1Shape);

  it('accepts the baseline problem', () => {
    const g = convBackward(dy, x1, w1);
    expect(g.dx!.shape).toEqual(x1.shape);
    expect(g.dw!.shape).toEqual(w1.shape);
    expect(g.db!.shape).toEqual([4]);
  });

  it('rejects dy of the wrong shape', () => {
    expectThrow(() => convBackward(ramp([2, 4, 5]), x1, w1), RangeError, 'convBackward', 'dy', '[2, 4, 6]', '[2, 4, 5]');
    expectThrow(() => convBackward(ramp([4, 6]), x1, w1), RangeError, 'convBackward', 'dy');
    expectThrow(() => convBackward(ramp([2, 4, 6]), x1, w1, { stride: 2 }), RangeError, 'convBackward', 'dy', '[2, 4, 3]');
  });

  it('checks dy, x, w and grads like conv does', () => {
    expectThrow(() => convBackward(null as never, x1, w1), TypeError, 'convBackward', 'dy');
    expectThrow(() => convBackward({ data: Array.from(dy.data), shape: dy.shape } as never, x1, w1), TypeError, 'convBackward', 'dy.data');
    expectThrow(() => convBackward(dy, { data: x1.data, shape: [2, 3, 7] }, w1), RangeError, 'convBackward', 'x.data');
    expectThrow(() => convBackward(dy, x1, ramp([4, 2, 3])), RangeError, 'convBackward', 'weight expects 2');
    expectThrow(() => convBackward(dy, x1, w1, { grads: 5 as never }), TypeError, 'convBackward', 'grads');
    expectThrow(() => convBackward(dy, x1, w1, { grads: { input: 1 as never } }), TypeError, 'convBackward', 'grads.input');
    expectThrow(() => convBackward(dy, x1, w1, { grads: { bias: 'no' as never } }), TypeError, 'convBackward', 'grads.bias');
    expectThrow(() => convBackward(dy, x1, w1, 'opts' as never), TypeError, 'convBackward', 'options');
  });

  it('takes preallocated gradients of exactly their lengths, apart from the inputs and from each other', () => {
    const dx = new Float32Array(x1.data.length), dw = new Float32Array(w1.data.length), db = new Float32Array(4);
    const g = convBackward(dy, x1, w1, { out: { dx, dw, db } });
    expect(g.dx!.data).toBe(dx);
    expect(g.dw!.data).toBe(dw);
    expect(g.db!.data).toBe(db);
    expectThrow(() => convBackward(dy, x1, w1, { out: { dx: new Float32Array(3) } }), RangeError, 'convBackward', 'out.dx', '48');
    expectThrow(() => convBackward(dy, x1, w1, { out: { dw: [] as never } }), TypeError, 'convBackward', 'out.dw');
    // x1 and dy both hold 48 floats, w1 36.
    expectThrow(() => convBackward(dy, x1, w1, { out: { dx: dy.data } }), RangeError, 'convBackward', 'out.dx', 'dy');
    expectThrow(() => convBackward(dy, x1, w1, { out: { dx: x1.data } }), RangeError, 'convBackward', 'out.dx', 'with x');
    expectThrow(() => convBackward(dy, x1, w1, { out: { dw: w1.data } }), RangeError, 'convBackward', 'out.dw', 'with w');
    const grads = new Float32Array(48 + 36 + 4);
    const before = Float32Array.from(grads);
    expectThrow(() => convBackward(dy, x1, w1, { out: { dx: grads.subarray(0, 48), dw: grads.subarray(47, 83) } }),
      RangeError, 'convBackward', 'out.dw', 'out.dx');
    expectThrow(() => convBackward(dy, x1, w1, { out: { dw: grads.subarray(0, 36), db: grads.subarray(35, 39) } }),
      RangeError, 'convBackward', 'out.db', 'out.dw');
    expect(grads).toEqual(before);
    // Disjoint views of one buffer are fine.
    const g2 = convBackward(dy, x1, w1, { out: { dx: grads.subarray(0, 48), dw: grads.subarray(48, 84), db: grads.subarray(84) } });
    expect(g2.dx!.data).toEqual(g.dx!.data);
    expect(g2.db!.data).toEqual(g.db!.data);
  });
});

describe('pooling', () => {
  const x = ramp([2, 3, 6, 6]);
  const pools = { maxPool, minPool, avgPool } as const;
  const backwards = { maxPoolBackward, minPoolBackward, avgPoolBackward } as const;

  it('accepts the baseline problem', () => {
    for (const f of Object.values(pools)) expect(f(x, { kernel: 2 }).shape).toEqual([2, 3, 3, 3]);
  });

  it('requires options with a kernel', () => {
    for (const [name, f] of Object.entries(pools)) {
      expectThrow(() => f(x, undefined as never), TypeError, name, 'options');
      expectThrow(() => f(x, null as never), TypeError, name, 'options');
      expectThrow(() => f(x, 2 as never), TypeError, name, 'options');
      expectThrow(() => f(x, {} as never), TypeError, name, 'kernel');
      expectThrow(() => f(x, { stride: 2 } as never), TypeError, name, 'kernel');
    }
  });

  it('rejects kernels of rank 0 or 4 and bad kernel entries', () => {
    expectThrow(() => maxPool(ramp([1, 1, 2, 2, 2, 2]), { kernel: [1, 1, 1, 1] }), RangeError, 'maxPool', 'kernel', '4 entries');
    expectThrow(() => maxPool(x, { kernel: [] }), RangeError, 'maxPool', 'kernel', '0 entries');
    // A number kernel takes the rank from batched x: 6-d x would be 4 spatial axes.
    expectThrow(() => avgPool(ramp([1, 1, 2, 2, 2, 2]), { kernel: 1 }), RangeError, 'avgPool', 'x');
    expectThrow(() => avgPool(ramp([4, 4]), { kernel: 2 }), RangeError, 'avgPool', 'x');
    expectThrow(() => maxPool(x, { kernel: 0 }), RangeError, 'maxPool', 'kernel');
    expectThrow(() => maxPool(x, { kernel: [2, 1.5] }), RangeError, 'maxPool', 'kernel[1]');
    expectThrow(() => maxPool(x, { kernel: '2' as never }), TypeError, 'maxPool', 'kernel');
    // kernel rank 2 takes x of rank 4 or 3 only.
    expectThrow(() => maxPool(ramp([1, 2, 3, 4, 4]), { kernel: [2, 2] }), RangeError, 'maxPool', 'x');
  });

  it('checks stride, dilation, padding and the flags', () => {
    expectThrow(() => maxPool(x, { kernel: 2, stride: 0 }), RangeError, 'maxPool', 'stride');
    expectThrow(() => maxPool(x, { kernel: 2, dilation: [1, 0] }), RangeError, 'maxPool', 'dilation[1]');
    expectThrow(() => maxPool(x, { kernel: 2, padding: -1 }), RangeError, 'maxPool', 'padding');
    expectThrow(() => maxPool(x, { kernel: 2, padding: 'bogus' as never }), RangeError, 'maxPool', 'padding');
    expectThrow(() => maxPool(x, { kernel: 2, ceilMode: 1 as never }), TypeError, 'maxPool', 'ceilMode');
    expectThrow(() => avgPool(x, { kernel: 2, countIncludePad: 'yes' as never }), TypeError, 'avgPool', 'countIncludePad');
    expectThrow(() => maxPool(x, { kernel: 7 }), RangeError, 'maxPool', 'window');
  });

  it('rejects configurations where a window holds only padding', () => {
    // Padding as wide as the kernel: the first window covers padding only.
    expectThrow(() => maxPool(ramp([1, 1, 4]), { kernel: 2, padding: 2 }), RangeError, 'maxPool', 'window 0', 'only padding');
    expectThrow(() => avgPool(ramp([1, 1, 4, 4]), { kernel: [2, 1], padding: [[0, 0], [0, 1]], stride: 1 }), RangeError, 'avgPool', 'window 4', 'axis 1');
    // Dilation larger than the input: window 0 reaches the input, window 1 skips over it.
    const opts = { kernel: 2, dilation: 3, stride: 1, padding: [[3, 1]] as [number, number][] };
    expectThrow(() => minPool(ramp([1, 1, 1]), opts), RangeError, 'minPool', 'window 1');
    expectThrow(() => minPoolBackward(ramp([1, 1, 2]), ramp([1, 1, 1]), opts), RangeError, 'minPoolBackward', 'window 1');
    // With padding after only, it is the last window that is empty.
    expectThrow(() => maxPool(ramp([1, 1, 3]), { kernel: 1, padding: [[0, 1]], stride: 1 }), RangeError, 'maxPool', 'window 3');
    // Near misses that do hold an input cell are fine.
    expect(maxPool(ramp([1, 1, 1]), { kernel: 3, dilation: 3, stride: 1, padding: [[3, 3]] }).shape).toEqual([1, 1, 1]);
    expect(maxPool(ramp([1, 1, 4]), { kernel: 3, padding: 2, stride: 1 }).shape).toEqual([1, 1, 6]);
  });

  it('rejects a huge output without first walking every window', () => {
    const started = Date.now();
    expectThrow(() => maxPool(ramp([1, 1, 1]), { kernel: 2 ** 23, stride: 1, padding: [[2 ** 23 - 1, 2 ** 40]] }), RangeError, 'maxPool', 'output');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('checks x and out', () => {
    for (const [name, f] of Object.entries(pools)) {
      expectThrow(() => f(null as never, { kernel: 2 }), TypeError, name, 'x');
      expectThrow(() => f({ data: new Float64Array(216), shape: x.shape } as never, { kernel: 2 }), TypeError, name, 'x.data');
      expectThrow(() => f(x, { kernel: 2, out: new Float32Array(53) }), RangeError, name, 'out', '54');
      expectThrow(() => f(x, { kernel: 2, out: [] as never }), TypeError, name, 'out');
    }
    const xs = ramp([1, 1, 4]);
    expectThrow(() => maxPool(xs, { kernel: 1, out: xs.data }), RangeError, 'maxPool', 'out', 'x');
  });

  it('backward functions reject dy of the wrong shape, and check dy and out', () => {
    for (const [name, f] of Object.entries(backwards)) {
      expect(f(ramp([2, 3, 3, 3]), x, { kernel: 2 }).shape).toEqual(x.shape);
      expectThrow(() => f(ramp([2, 3, 3, 2]), x, { kernel: 2 }), RangeError, name, 'dy', '[2, 3, 3, 3]');
      expectThrow(() => f(ramp([2, 3, 9]), x, { kernel: 2 }), RangeError, name, 'dy');
      expectThrow(() => f(x, x, { kernel: 2 }), RangeError, name, 'dy');
      expectThrow(() => f(7 as never, x, { kernel: 2 }), TypeError, name, 'dy');
      expectThrow(() => f(ramp([2, 3, 3, 3]), x, { kernel: 2, out: new Float32Array(10) }), RangeError, name, 'out');
      expectThrow(() => f(ramp([2, 3, 3, 3]), x, {} as never), TypeError, name, 'kernel');
    }
    const dy = ramp([1, 1, 4]);
    expectThrow(() => maxPoolBackward(dy, ramp([1, 1, 4]), { kernel: 1, out: dy.data }), RangeError, 'maxPoolBackward', 'out', 'dy');
  });
});

describe('async variants reject instead of throwing', () => {
  const wt = ramp([3, 2, 3]);

  it('convAsync', async () => {
    await expectReject(() => convAsync(null as never, w1), TypeError, 'convAsync', 'x');
    await expectReject(() => convAsync(x1, w1, { stride: 0 }), RangeError, 'convAsync', 'stride');
    await expectReject(() => convAsync(ramp([1, 6, 5, 5]), ramp([2, 4, 3, 3]), { groups: 2 }), RangeError, 'convAsync', 'weight expects 4');
    await expectReject(() => convAsync(x1, w1, { out: new Float32Array(1) }), RangeError, 'convAsync', 'out');
    await expectReject(() => convAsync(x1, w1, 'x' as never), TypeError, 'convAsync', 'options');
  });

  it('convBackwardAsync', async () => {
    await expectReject(() => convBackwardAsync(ramp([2, 4, 5]), x1, w1), RangeError, 'convBackwardAsync', 'dy');
    await expectReject(() => convBackwardAsync(ramp(y1Shape), x1, { data: [], shape: [4, 3, 3] } as never), TypeError, 'convBackwardAsync', 'w.data');
  });

  it('convTransposeAsync', async () => {
    await expectReject(() => convTransposeAsync(x1, wt, { padding: 'same' }), RangeError, 'convTransposeAsync', 'padding');
    await expectReject(() => convTransposeAsync(x1, wt, { bias: [1, 2] as never }), TypeError, 'convTransposeAsync', 'bias');
    await expectReject(() => convTransposeAsync(x1, wt, { outputPadding: 1 }), RangeError, 'convTransposeAsync', 'outputPadding');
  });

  it('pooling', async () => {
    const x = ramp([1, 2, 4, 4]);
    const forward = { maxPoolAsync, minPoolAsync, avgPoolAsync } as const;
    const backward = { maxPoolBackwardAsync, minPoolBackwardAsync, avgPoolBackwardAsync } as const;
    for (const [name, f] of Object.entries(forward)) {
      await expectReject(() => f(x, {} as never), TypeError, name, 'kernel');
      await expectReject(() => f(x, { kernel: [1, 1, 1, 1] }), RangeError, name, 'kernel');
      await expectReject(() => f(x, { kernel: 2, padding: 2 }), RangeError, name, 'window');
    }
    for (const [name, f] of Object.entries(backward)) {
      await expectReject(() => f(ramp([1, 2, 3, 3]), x, { kernel: 2 }), RangeError, name, 'dy');
      await expectReject(() => f('dy' as never, x, { kernel: 2 }), TypeError, name, 'dy');
    }
  });
});

describe('setNumThreads', () => {
  it('rejects 0, fractions, too many and non-numbers, leaving the count alone', () => {
    const before = getNumThreads();
    expectThrow(() => setNumThreads(0), RangeError, 'setNumThreads', 'n');
    expectThrow(() => setNumThreads(-1), RangeError, 'setNumThreads', 'n');
    expectThrow(() => setNumThreads(1.5), RangeError, 'setNumThreads', 'n');
    expectThrow(() => setNumThreads(NaN), RangeError, 'setNumThreads', 'n');
    expectThrow(() => setNumThreads(257), RangeError, 'setNumThreads', 'n');
    expectThrow(() => setNumThreads('a' as never), TypeError, 'setNumThreads', 'n');
    expectThrow(() => setNumThreads(undefined as never), TypeError, 'setNumThreads', 'n');
    expect(getNumThreads()).toBe(before);
  });
});

describe('native entry points re-check their arguments', () => {
  const addon = native();
  // [N, C, K, groups, in x3, kernel x3, out x3, stride x3, dilation x3, padBefore x3]
  const convDesc = (o: Partial<Record<'N' | 'C' | 'K' | 'g', number>> & { in?: number[]; k?: number[]; out?: number[] } = {}) => Float64Array.of(
    o.N ?? 1, o.C ?? 1, o.K ?? 1, o.g ?? 1, ...(o.in ?? [1, 1, 3]), ...(o.k ?? [1, 1, 1]), ...(o.out ?? [1, 1, 3]),
    1, 1, 1, 1, 1, 1, 0, 0, 0,
  );
  // [kind, countIncludePad, planes, in x3, kernel x3, out x3, stride x3, dilation x3, padBefore x3, padAfter x3]
  const poolDesc = (kind = 0, inW = 4, k = 2, outW = 2, padBefore = 0, padAfter = 0) => Float64Array.of(
    kind, 1, 1, 1, 1, inW, 1, 1, k, 1, 1, outW, 1, 1, k, 1, 1, 1, 0, 0, padBefore, 0, 0, padAfter,
  );
  const f = (n: number) => new Float32Array(n);
  const nativeThrow = (call: () => unknown, cls: ErrorClass, fn: string, ...parts: string[]) =>
    expectErr(thrown(call), cls, `convnd native ${fn}`, ...parts);

  it('computes a valid call (the baseline)', () => {
    const y = f(3);
    addon.convForward(Float32Array.of(1, 2, 3), Float32Array.of(2), null, y, convDesc());
    expect(Array.from(y)).toEqual([2, 4, 6]);
    const p = f(2);
    addon.poolForward(Float32Array.of(1, 5, 3, 2), p, poolDesc());
    expect(Array.from(p)).toEqual([5, 3]);
  });

  it('rejects a descriptor of the wrong length or kind', () => {
    nativeThrow(() => addon.convForward(f(3), f(1), null, f(3), convDesc().slice(0, 21)), RangeError, 'convForward', 'descriptor', '22');
    nativeThrow(() => addon.convForward(f(3), f(1), null, f(3), Float64Array.of(...convDesc(), 0)), RangeError, 'convForward', 'descriptor');
    nativeThrow(() => addon.convForward(f(3), f(1), null, f(3), 'desc' as never), TypeError, 'convForward', 'descriptor');
    // A plain array or another typed array is not a descriptor.
    nativeThrow(() => addon.convForward(f(3), f(1), null, f(3), Array.from(convDesc()) as never), TypeError, 'convForward', 'Float64Array');
    nativeThrow(() => addon.convForward(f(3), f(1), null, f(3), Float32Array.from(convDesc()) as never), TypeError, 'convForward', 'Float64Array');
    nativeThrow(() => addon.convForward(f(3), f(1), null, f(3), undefined as never), TypeError, 'convForward', 'descriptor');
    nativeThrow(() => addon.poolForward(f(4), f(2), poolDesc().slice(1)), RangeError, 'poolForward', 'descriptor', '24');
  });

  it('rejects non-integer, non-finite and unsafe descriptor entries', () => {
    for (const [i, v] of [[0, 1.5], [4, NaN], [6, Infinity], [2, -Infinity], [1, 2 ** 60]] as const) {
      const d = convDesc();
      d[i] = v;
      nativeThrow(() => addon.convForward(f(3), f(1), null, f(3), d), RangeError, 'convForward', `descriptor[${i}]`, 'safe integer');
    }
  });

  it('rejects negative or zero sizes and groups that do not divide', () => {
    nativeThrow(() => addon.convForward(f(3), f(1), null, f(3), convDesc({ N: -1 })), RangeError, 'convForward');
    nativeThrow(() => addon.convForward(f(3), f(1), null, f(3), convDesc({ C: 0 })), RangeError, 'convForward');
    nativeThrow(() => addon.convForward(f(3), f(1), null, f(3), convDesc({ in: [1, 1, -3] })), RangeError, 'convForward');
    nativeThrow(() => addon.convForward(f(3), f(1), null, f(3), convDesc({ k: [1, 0, 1] })), RangeError, 'convForward');
    const badPad = convDesc();
    badPad[21] = -1;
    nativeThrow(() => addon.convForward(f(3), f(1), null, f(3), badPad), RangeError, 'convForward', 'padding');
    nativeThrow(() => addon.convForward(f(6), f(3), null, f(6), convDesc({ C: 2, K: 3, g: 2 })), RangeError, 'convForward', 'groups');
    nativeThrow(() => addon.convBackwardWeight(f(3), f(3), f(1), convDesc({ g: 0 })), RangeError, 'convBackwardWeight');
    nativeThrow(() => addon.poolForward(f(4), f(2), poolDesc(3)), RangeError, 'poolForward', 'kind');
    nativeThrow(() => addon.poolForward(f(4), f(2), poolDesc(0, 4, 2, 2, -1)), RangeError, 'poolForward');
    nativeThrow(() => addon.poolForward(f(4), f(2), poolDesc(0, 4, 2, 2, 0, -1)), RangeError, 'poolForward');
  });

  it('rejects sizes whose products exceed 2^53 without allocating', () => {
    nativeThrow(() => addon.convForward(f(1), f(1), null, f(1), convDesc({ N: 2 ** 30, C: 2 ** 30 })), RangeError, 'convForward');
    nativeThrow(() => addon.convForward(f(1), f(1), null, f(1), convDesc({ in: [2 ** 20, 2 ** 20, 2 ** 20], out: [1, 1, 1] })), RangeError, 'convForward');
    nativeThrow(() => addon.convForward(f(1), f(1), null, f(1), convDesc({ K: 2 ** 40, C: 2 ** 20 })), RangeError, 'convForward');
    nativeThrow(() => addon.poolForward(f(1), f(1), Float64Array.of(0, 1, 2 ** 40, 2 ** 20, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0)), RangeError, 'poolForward');
  });

  it('rejects buffers of the wrong length or type', () => {
    nativeThrow(() => addon.convForward(f(2), f(1), null, f(3), convDesc()), RangeError, 'convForward', 'x', '3');
    nativeThrow(() => addon.convForward(f(3), f(2), null, f(3), convDesc()), RangeError, 'convForward', 'w');
    nativeThrow(() => addon.convForward(f(3), f(1), f(2), f(3), convDesc()), RangeError, 'convForward', 'bias');
    nativeThrow(() => addon.convForward(f(3), f(1), null, f(4), convDesc()), RangeError, 'convForward', 'y');
    nativeThrow(() => addon.convForward(new Float64Array(3) as never, f(1), null, f(3), convDesc()), TypeError, 'convForward', 'x');
    nativeThrow(() => addon.convForward([1, 2, 3] as never, f(1), null, f(3), convDesc()), TypeError, 'convForward', 'x');
    nativeThrow(() => addon.convForward(f(3), f(1), 5 as never, f(3), convDesc()), TypeError, 'convForward', 'bias');
    nativeThrow(() => (addon.convForward as (...a: unknown[]) => void)(), TypeError, 'convForward');
    nativeThrow(() => addon.convBackwardData(f(3), f(1), null, f(2), convDesc()), RangeError, 'convBackwardData', 'dx');
    nativeThrow(() => addon.convBackwardWeight(f(3), f(3), f(2), convDesc()), RangeError, 'convBackwardWeight', 'dw');
    nativeThrow(() => addon.convBackwardBias(f(3), f(2), convDesc()), RangeError, 'convBackwardBias', 'db');
    nativeThrow(() => addon.poolForward(f(4), f(3), poolDesc()), RangeError, 'poolForward', 'y');
    nativeThrow(() => addon.poolBackward(f(2), f(4), f(3), poolDesc()), RangeError, 'poolBackward', 'dx');
    nativeThrow(() => addon.poolBackward(f(3), f(4), f(4), poolDesc()), RangeError, 'poolBackward', 'dy');
  });

  it('rejects outputs sharing memory with inputs', () => {
    const x = f(3);
    nativeThrow(() => addon.convForward(x, f(1), null, x, convDesc()), RangeError, 'convForward', 'share memory');
    const big = f(8);
    nativeThrow(() => addon.poolForward(big.subarray(0, 4), big.subarray(3, 5), poolDesc()), RangeError, 'poolForward', 'share memory');
  });

  it('rejects a pooling window holding only padding', () => {
    nativeThrow(() => addon.poolForward(f(4), f(3), poolDesc(0, 4, 2, 3, 2, 0)), RangeError, 'poolForward', 'no input cell');
  });

  it('treats taps outside the input as zero when out exceeds the formula', () => {
    // in = 3, kernel 2, out 5 (the formula gives 2): y[o] = x[o] + 10 x[o + 1], zero outside.
    const y = f(5);
    addon.convForward(Float32Array.of(1, 2, 3), Float32Array.of(1, 10), null, y, convDesc({ k: [1, 1, 2], out: [1, 1, 5] }));
    expect(Array.from(y)).toEqual([21, 32, 3, 0, 0]);
  });

  it('async entry points reject with the same classes', async () => {
    // Async entry points return [promise, jobId].
    const promise = (call: [Promise<Float32Array>, number]) => call[0];
    await expect(promise(addon.convForwardAsync(f(3), f(1), null, f(3), convDesc().slice(1)))).rejects.toBeInstanceOf(RangeError);
    await expect(promise(addon.convForwardAsync(new Float64Array(3) as never, f(1), null, f(3), convDesc()))).rejects.toBeInstanceOf(TypeError);
    await expect(promise(addon.poolBackwardAsync(f(2), f(4), f(3), poolDesc()))).rejects.toBeInstanceOf(RangeError);
    await expect(promise(addon.convBackwardBiasAsync(f(3), f(1), convDesc({ N: 2 ** 30, C: 2 ** 30 })))).rejects.toBeInstanceOf(RangeError);
    const y = f(3);
    const result = await promise(addon.convForwardAsync(Float32Array.of(1, 2, 3), Float32Array.of(3), null, y, convDesc()));
    expect(result).toBe(y);
    expect(Array.from(y)).toEqual([3, 6, 9]);
    // Without an output array the addon allocates one.
    const fresh = await promise(addon.convForwardAsync(Float32Array.of(1, 2, 3), Float32Array.of(3), null, null, convDesc()));
    expect(Array.from(fresh)).toEqual([3, 6, 9]);
  });

  it('setNumThreads re-checks n', () => {
    nativeThrow(() => addon.setNumThreads(0), RangeError, 'setNumThreads');
    nativeThrow(() => addon.setNumThreads(2.5), RangeError, 'setNumThreads');
    nativeThrow(() => addon.setNumThreads('2' as never), TypeError, 'setNumThreads');
  });
});
