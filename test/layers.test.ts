// Layer classes: they must compute exactly what the functional API computes with the layer's
// own weights, initialise as PyTorch does, accumulate gradients, and reject bad arguments by name.
import { describe, expect, it } from 'vitest';
import {
  AvgPool1d, AvgPool2d, AvgPool3d, Conv1d, Conv2d, Conv3d, MaxPool1d, MaxPool2d, MaxPool3d,
  avgPool, avgPoolBackward, conv, convBackward, maxPool, maxPoolBackward, type Tensor,
} from '../lib/index.js';
import { randomTensor, rng } from './helpers/random.js';

const convCases = [
  { name: 'Conv1d', make: () => new Conv1d(4, 6, 3, { stride: 2, padding: 1, groups: 2, rng: rng(1) }), x: [2, 4, 11] },
  { name: 'Conv2d', make: () => new Conv2d(3, 5, [3, 2], { dilation: [1, 2], padding: 'same', rng: rng(2) }), x: [2, 3, 7, 8] },
  { name: 'Conv2d unbatched, no bias', make: () => new Conv2d(2, 4, 3, { bias: false, stride: [1, 2], rng: rng(3) }), x: [2, 6, 9] },
  { name: 'Conv3d', make: () => new Conv3d(2, 3, 2, { padding: [[0, 1], [1, 0], [1, 1]], rng: rng(4) }), x: [1, 2, 4, 5, 3] },
] as const;

describe('Conv layers', () => {
  for (const c of convCases) {
    it(`${c.name}: forward equals conv() with the layer's weights`, () => {
      const layer = c.make();
      const x = randomTensor(rng(10), [...c.x]);
      const opts = { stride: layer.stride, padding: layer.padding, dilation: layer.dilation, groups: layer.groups };
      const y = layer.forward(x);
      const want = conv(x, layer.weight, { ...opts, bias: layer.bias });
      expect(y.shape).toEqual(want.shape);
      expect(y.data).toEqual(want.data);
    });

    it(`${c.name}: backward equals convBackward and fills grad`, () => {
      const layer = c.make();
      const x = randomTensor(rng(11), [...c.x]);
      const y = layer.forward(x);
      const dy = randomTensor(rng(12), y.shape);
      const dx = layer.backward(dy);
      const opts = { stride: layer.stride, padding: layer.padding, dilation: layer.dilation, groups: layer.groups };
      const want = convBackward(dy, x, layer.weight, opts);
      expect(dx.shape).toEqual(x.shape);
      expect(dx.data).toEqual(want.dx!.data);
      expect(layer.grad.weight.shape).toEqual(layer.weight.shape);
      expect(layer.grad.weight.data).toEqual(want.dw!.data);
      if (layer.bias) expect(layer.grad.bias!.data).toEqual(want.db!.data);
      else expect(layer.grad.bias).toBeNull();
    });
  }

  it('backward uses the input of the latest forward', () => {
    const layer = new Conv2d(2, 3, 3, { rng: rng(5) });
    layer.forward(randomTensor(rng(20), [1, 2, 6, 6]));
    const x2 = randomTensor(rng(21), [1, 2, 6, 6]);
    const y = layer.forward(x2);
    const dy = randomTensor(rng(22), y.shape);
    layer.backward(dy);
    expect(layer.grad.weight.data).toEqual(convBackward(dy, x2, layer.weight).dw!.data);
  });

  it('accumulates gradients over backward calls until zeroGrad', () => {
    const layer = new Conv2d(2, 3, 3, { padding: 1, rng: rng(6) });
    const x = randomTensor(rng(30), [2, 2, 5, 5]);
    const y = layer.forward(x);
    const dy1 = randomTensor(rng(31), y.shape), dy2 = randomTensor(rng(32), y.shape);
    const g1 = convBackward(dy1, x, layer.weight, { padding: 1 });
    const g2 = convBackward(dy2, x, layer.weight, { padding: 1 });
    layer.backward(dy1);
    layer.backward(dy2);
    for (let i = 0; i < g1.dw!.data.length; i++)
      expect(layer.grad.weight.data[i]).toBeCloseTo(g1.dw!.data[i] + g2.dw!.data[i], 5);
    for (let i = 0; i < 3; i++) expect(layer.grad.bias!.data[i]).toBeCloseTo(g1.db!.data[i] + g2.db!.data[i], 5);
    expect(layer.grad.weight.data.some((v) => v !== 0)).toBe(true);

    layer.zeroGrad();
    expect(layer.grad.weight.data.every((v) => v === 0)).toBe(true);
    expect(layer.grad.bias!.data.every((v) => v === 0)).toBe(true);
    layer.backward(dy2);
    expect(layer.grad.weight.data).toEqual(g2.dw!.data);
  });

  it('parameters() returns the layer\'s own tensors, so an SGD step written on them trains the layer', () => {
    const layer = new Conv1d(2, 2, 3, { rng: rng(7) });
    const params = layer.parameters();
    expect(params.map((p) => p.name)).toEqual(['weight', 'bias']);
    expect(params[0].value).toBe(layer.weight);
    expect(params[0].grad).toBe(layer.grad.weight);
    expect(params[1].value).toBe(layer.bias);
    expect(params[1].grad).toBe(layer.grad.bias);
    expect(new Conv1d(2, 2, 3, { bias: false }).parameters().map((p) => p.name)).toEqual(['weight']);

    // One SGD step on loss = sum(y) must lower it.
    const x = randomTensor(rng(40), [1, 2, 8]);
    const loss = () => layer.forward(x).data.reduce((a, b) => a + b, 0);
    const before = loss();
    const y = layer.forward(x);
    layer.zeroGrad();
    layer.backward({ data: new Float32Array(y.data.length).fill(1), shape: y.shape });
    for (const p of layer.parameters()) for (let i = 0; i < p.value.data.length; i++) p.value.data[i] -= 0.01 * p.grad.data[i];
    expect(loss()).toBeLessThan(before - 0.01);
  });
});

describe('Conv layer initialisation (PyTorch default: bound 1/sqrt(fan_in))', () => {
  const cases = [
    { layer: () => new Conv2d(16, 32, 3, { rng: rng(8) }), fanIn: 16 * 9 },
    { layer: () => new Conv1d(6, 12, 5, { groups: 3, rng: rng(9) }), fanIn: 2 * 5 },
    { layer: () => new Conv3d(4, 8, [1, 2, 3]), fanIn: 4 * 6 }, // default Math.random
  ];
  for (const [i, c] of cases.entries()) {
    it(`case ${i}: weights and bias lie within the bound, spread over it, and differ`, () => {
      const layer = c.layer();
      const bound = 1 / Math.sqrt(c.fanIn);
      const w = layer.weight.data, b = layer.bias!.data;
      const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(maxAbs(w)).toBeLessThanOrEqual(bound);
      expect(maxAbs(w)).toBeGreaterThan(0.9 * bound); // hundreds of draws reach the edge of the range
      expect(maxAbs(b)).toBeLessThanOrEqual(bound);
      expect(new Set(w).size).toBeGreaterThan(w.length / 2);
      expect(new Set(b).size).toBeGreaterThan(1);
      const mean = w.reduce((a, v) => a + v, 0) / w.length;
      expect(Math.abs(mean)).toBeLessThan(0.2 * bound);
    });
  }

  it('maps each draw u to (2u - 1) * bound, weights first, then bias', () => {
    const draws = [0.75, 0, 0.5, 0.25];
    let k = 0;
    const layer = new Conv1d(1, 2, 2, { rng: () => draws[k++ % draws.length] });
    const bound = 1 / Math.sqrt(2);
    expect(Array.from(layer.weight.data)).toEqual([0.5, -1, 0, -0.5].map((f) => Math.fround(f * bound)));
    expect(Array.from(layer.bias!.data)).toEqual([0.5, -1].map((f) => Math.fround(f * bound)));
  });

  it('is reproducible with a seeded rng', () => {
    const a = new Conv2d(3, 4, 3, { rng: rng(123) }), b = new Conv2d(3, 4, 3, { rng: rng(123) });
    expect(a.weight.data).toEqual(b.weight.data);
    expect(a.bias!.data).toEqual(b.bias!.data);
    expect(new Conv2d(3, 4, 3, { rng: rng(124) }).weight.data).not.toEqual(a.weight.data);
  });
});

describe('Pool layers', () => {
  const cases = [
    { layer: new MaxPool1d(3, { stride: 2, padding: 1 }), fwd: maxPool, bwd: maxPoolBackward, opts: { kernel: [3], stride: [2], padding: 1 }, x: [2, 3, 10] },
    { layer: new MaxPool2d(2), fwd: maxPool, bwd: maxPoolBackward, opts: { kernel: [2, 2] }, x: [2, 3, 8, 6] },
    { layer: new MaxPool2d([3, 2], { stride: 1, dilation: [2, 1], ceilMode: true }), fwd: maxPool, bwd: maxPoolBackward, opts: { kernel: [3, 2], stride: 1, dilation: [2, 1], ceilMode: true }, x: [1, 2, 9, 7] },
    { layer: new MaxPool3d(2, { stride: 2, ceilMode: true }), fwd: maxPool, bwd: maxPoolBackward, opts: { kernel: [2, 2, 2], ceilMode: true }, x: [1, 2, 5, 4, 3] },
    { layer: new AvgPool1d(4, { stride: 3, padding: 2, countIncludePad: false }), fwd: avgPool, bwd: avgPoolBackward, opts: { kernel: [4], stride: 3, padding: 2, countIncludePad: false }, x: [2, 2, 11] },
    { layer: new AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true }), fwd: avgPool, bwd: avgPoolBackward, opts: { kernel: [3, 3], stride: 2, padding: 1, ceilMode: true }, x: [2, 3, 8, 9] },
    { layer: new AvgPool3d([2, 1, 2]), fwd: avgPool, bwd: avgPoolBackward, opts: { kernel: [2, 1, 2] }, x: [1, 2, 4, 3, 6] },
  ];
  for (const [i, c] of cases.entries()) {
    it(`case ${i} (${c.layer.constructor.name}): forward and backward equal the functions`, () => {
      const x = randomTensor(rng(50 + i), c.x);
      const y = c.layer.forward(x);
      const want = c.fwd(x, c.opts);
      expect(y.shape).toEqual(want.shape);
      expect(y.data).toEqual(want.data);
      const dy = randomTensor(rng(60 + i), y.shape);
      const dx = c.layer.backward(dy);
      expect(dx.shape).toEqual(x.shape);
      expect(dx.data).toEqual(c.bwd(dy, x, c.opts).data);
    });
  }

  it('pools an unbatched [C, H, W] input over both spatial axes', () => {
    const x = randomTensor(rng(70), [3, 6, 8]);
    const batched = new MaxPool2d(2).forward({ data: x.data, shape: [1, 3, 6, 8] });
    const y = new MaxPool2d(2).forward(x);
    expect(y.shape).toEqual([3, 3, 4]);
    expect(y.data).toEqual(batched.data);
  });

  it('defaults stride to the kernel size, as PyTorch', () => {
    expect(new MaxPool2d([3, 2]).stride).toEqual([3, 2]);
    expect(new AvgPool1d(4, { stride: 1 }).stride).toEqual([1]);
    expect(new MaxPool1d(2).parameters()).toEqual([]);
  });
});

describe('Layer errors', () => {
  const bad: [string, () => unknown, ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, RegExp][] = [
    ['inChannels 0', () => new Conv2d(0, 4, 3), RangeError, /^Conv2d: inChannels must be .*got 0/],
    ['inChannels a string', () => new Conv2d('3' as unknown as number, 4, 3), TypeError, /^Conv2d: inChannels must be a number/],
    ['outChannels fractional', () => new Conv1d(2, 2.5, 3), RangeError, /^Conv1d: outChannels must be an integer/],
    ['kernelSize with the wrong length', () => new Conv2d(2, 2, [3, 3, 3]), RangeError, /^Conv2d: kernelSize must have 2 entries/],
    ['kernelSize null', () => new Conv3d(2, 2, null as unknown as number), TypeError, /^Conv3d: kernelSize/],
    ['groups not dividing inChannels', () => new Conv2d(3, 6, 3, { groups: 2 }), RangeError, /^Conv2d: groups \(2\) must divide inChannels \(3\)/],
    ['groups not dividing outChannels', () => new Conv2d(4, 6, 3, { groups: 4 }), RangeError, /^Conv2d: groups \(4\) must divide outChannels \(6\)/],
    ['stride 0', () => new Conv2d(2, 2, 3, { stride: 0 }), RangeError, /^Conv2d: stride must be .*got 0/],
    ['bad padding name', () => new Conv1d(2, 2, 3, { padding: 'bogus' as 'same' }), RangeError, /^Conv1d: padding must be/],
    ['negative padding', () => new Conv2d(2, 2, 3, { padding: [1, -1] }), RangeError, /^Conv2d: padding\[1\] must be .*got -1/],
    ['bias not a boolean', () => new Conv2d(2, 2, 3, { bias: 1 as unknown as boolean }), TypeError, /^Conv2d: bias must be a boolean/],
    ['rng not a function', () => new Conv2d(2, 2, 3, { rng: 5 as unknown as () => number }), TypeError, /^Conv2d: rng must be a function/],
    ['rng out of [0, 1)', () => new Conv2d(2, 2, 3, { rng: () => 1 }), RangeError, /^Conv2d: rng must return numbers in \[0, 1\)/],
    ['unknown option', () => new Conv2d(2, 2, 3, { paddng: 1 } as unknown as object), TypeError, /^Conv2d: unknown option "paddng"/],
    ['options not an object', () => new Conv2d(2, 2, 3, 7 as unknown as object), TypeError, /^Conv2d: options must be an options object/],
    ['MaxPool2d kernel 0', () => new MaxPool2d(0), RangeError, /^MaxPool2d: kernelSize must be .*got 0/],
    ['MaxPool1d negative stride', () => new MaxPool1d(2, { stride: -1 }), RangeError, /^MaxPool1d: stride must be .*got -1/],
    ['MaxPool3d ceilMode not boolean', () => new MaxPool3d(2, { ceilMode: 'yes' as unknown as boolean }), TypeError, /^MaxPool3d: ceilMode must be a boolean/],
    ['AvgPool2d countIncludePad not boolean', () => new AvgPool2d(2, { countIncludePad: 0 as unknown as boolean }), TypeError, /^AvgPool2d: countIncludePad must be a boolean/],
    ['AvgPool2d given dilation', () => new AvgPool2d(2, { dilation: 2 } as unknown as object), TypeError, /^AvgPool2d: unknown option "dilation"/],
  ];
  for (const [what, f, cls, message] of bad) {
    it(`constructor: ${what}`, () => {
      let err: unknown;
      try { f(); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(cls);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('backward before forward is a clear Error', () => {
    expect(() => new Conv2d(1, 1, 3).backward({ data: new Float32Array(4), shape: [1, 1, 2, 2] }))
      .toThrow(/^Conv2d\.backward: no saved input; call forward\(x\) before backward\(dy\)/);
    expect(() => new MaxPool2d(2).backward({ data: new Float32Array(4), shape: [1, 1, 2, 2] }))
      .toThrow(/^MaxPool2d\.backward: no saved input/);
    expect(() => new AvgPool1d(2).backward({ data: new Float32Array(4), shape: [1, 1, 4] }))
      .toThrow(/^AvgPool1d\.backward: no saved input/);
  });

  it('forward checks the rank and the channels of x', () => {
    const c2 = new Conv2d(3, 4, 3);
    expect(() => c2.forward(randomTensor(rng(1), [3, 8]))).toThrow(RangeError);
    expect(() => c2.forward(randomTensor(rng(1), [3, 8]))).toThrow(/^Conv2d\.forward: x must have shape \[N, C, H, W\] or \[C, H, W\], got \[3, 8\]/);
    expect(() => c2.forward(randomTensor(rng(1), [1, 3, 4, 4, 4]))).toThrow(/^Conv2d\.forward: x must have shape \[N, C, H, W\]/);
    expect(() => c2.forward(randomTensor(rng(1), [1, 2, 5, 5]))).toThrow(/^Conv2d\.forward: x must have 3 channels/);
    expect(() => new Conv1d(1, 1, 3).forward(randomTensor(rng(1), [1, 1, 4, 4]))).toThrow(/^Conv1d\.forward: x must have shape \[N, C, L\] or \[C, L\]/);
    expect(() => new MaxPool3d(2).forward(randomTensor(rng(1), [4, 4]))).toThrow(/^MaxPool3d\.forward: x must have shape \[N, C, D, H, W\] or \[C, D, H, W\]/);
    expect(() => c2.forward({ data: [1, 2, 3], shape: [3] } as unknown as Tensor)).toThrow(TypeError);
  });

  it('errors from the functional API name the layer', () => {
    expect(() => new Conv2d(1, 1, 5).forward(randomTensor(rng(1), [1, 1, 3, 3]))).toThrow(/^Conv2d\.forward: conv: output size/);
    const layer = new Conv2d(1, 1, 3);
    layer.forward(randomTensor(rng(1), [1, 1, 5, 5]));
    let err: unknown;
    try { layer.backward(randomTensor(rng(1), [1, 1, 2, 2])); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toMatch(/^Conv2d\.backward: convBackward: dy must have the output's shape \[1, 1, 3, 3\]/);
  });
});
