// Property test: random invalid arguments to every public function only ever throw (or, for
// async forms, reject with) a TypeError or RangeError that names the function. The values
// cover wrong types, negative, fractional, NaN, huge and zero sizes, mismatched shapes,
// detached buffers, non-float32 arrays, shared buffers, proxies and getters that throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as convnd from '../lib/index.js';

const detached = () => {
  const a = new Float32Array(8);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
};
const throwingGetter = () => Object.defineProperty({}, 'data', { get() { throw new Error('getter says no'); } });

// Any value at all, biased towards the shapes of real arguments.
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, 0, -1, 0.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, 2 ** 64, '3', true, [], {}),
  fc.constant(() => new Float64Array(8)),
  fc.constant(() => new Float32Array(new SharedArrayBuffer(32))),
  fc.constant(detached),
  fc.constant(throwingGetter),
  fc.constant(() => new Proxy({}, { get() { throw new Error('proxy says no'); } })),
  fc.array(fc.oneof(fc.integer({ min: -3, max: 9 }), fc.constantFrom(NaN, 0.5, 2 ** 40)), { maxLength: 6 }),
).map((v) => (typeof v === 'function' ? (v as () => unknown)() : v));

// A tensor-like value that is usually almost right.
const tensorish: fc.Arbitrary<unknown> = fc.oneof(
  anyValue,
  fc.record({
    data: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 64 }).map((n) => new Float32Array(n)), anyValue),
    shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 6 }), anyValue),
  }),
);

const options: fc.Arbitrary<unknown> = fc.oneof(
  anyValue,
  fc.record({
    stride: anyValue, padding: fc.oneof(anyValue, fc.constantFrom('same', 'full', 'valid', 'bogus')),
    dilation: anyValue, groups: anyValue, bias: tensorish, out: anyValue, kernel: anyValue,
    ceilMode: anyValue, countIncludePad: anyValue, outputPadding: anyValue, grads: anyValue, signal: anyValue,
  }, { requiredKeys: [] }),
);

type Fn = (...args: unknown[]) => unknown;
const sync = ['conv', 'conv1d', 'conv2d', 'conv3d', 'convTranspose', 'convBackward', 'convOutputShape',
  'maxPool', 'minPool', 'avgPool', 'maxPoolBackward', 'minPoolBackward', 'avgPoolBackward', 'tensor', 'setNumThreads'] as const;
const async = ['convAsync', 'convTransposeAsync', 'convBackwardAsync', 'maxPoolAsync', 'avgPoolAsync', 'minPoolBackwardAsync'] as const;

function acceptable(e: unknown, fn: string): boolean {
  return (e instanceof TypeError || e instanceof RangeError) && e.message.includes(fn);
}

describe('random invalid arguments', () => {
  const saved = convnd.getNumThreads();

  it('make sync functions throw only TypeError or RangeError naming the function', () => {
    fc.assert(fc.property(fc.constantFrom(...sync), tensorish, tensorish, tensorish, options, (name, a, b, c, o) => {
      const fn = (convnd as unknown as Record<string, Fn>)[name];
      try {
        if (name === 'convBackward' || name.endsWith('PoolBackward')) fn(a, b, name === 'convBackward' ? c : o, o);
        else fn(a, name.endsWith('Pool') ? o : b, o);
      } catch (e) {
        if (!acceptable(e, name)) throw new Error(`${name} threw ${String(e)}`);
      }
    }), { numRuns: 1500, seed: 42 });
    convnd.setNumThreads(saved);
  });

  it('make async functions reject (never throw) with TypeError or RangeError naming the function', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...async), tensorish, tensorish, options, async (name, a, b, o) => {
      const fn = (convnd as unknown as Record<string, Fn>)[name];
      let result: unknown;
      try {
        result = name.endsWith('Backward' + 'Async') || name === 'convBackwardAsync' ? fn(a, b, b, o) : fn(a, name.includes('Pool') ? o : b, o);
      } catch (e) {
        throw new Error(`${name} threw synchronously: ${String(e)}`);
      }
      expect(result).toBeInstanceOf(Promise);
      try {
        await result;
      } catch (e) {
        if (!acceptable(e, name)) throw new Error(`${name} rejected with ${String(e)}`);
      }
    }), { numRuns: 400, seed: 43 });
  });

  it('leave the library working', () => {
    const y = convnd.conv(convnd.tensor([1, 2, 3], [1, 1, 3]), convnd.tensor([1, 1], [1, 1, 2]));
    expect(Array.from(y.data)).toEqual([3, 5]);
  });
});
