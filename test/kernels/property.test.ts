// Property tests: random valid configurations of every op (1-3 axes, every option), computed
// by the kernel set named by CONVND_ISA, against the addon's double-precision reference loops.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  avgPool, avgPoolBackward, conv, convBackward, convTranspose, maxPool, maxPoolBackward, minPool, minPoolBackward,
  type ConvOptions, type PoolOptions, type Tensor,
} from '../../lib/index.js';
import { descriptor, planConv, planConvTranspose } from '../../lib/conv-plan.js';
import { native } from '../../lib/native.js';
import { planPool } from '../../lib/pool.js';
import { requestedIsa } from '../helpers/oracle.js';
import { randomTensor, rng } from '../helpers/random.js';

const { isa, available } = requestedIsa();
const addon = native();

function expectClose(got: Float32Array, want: Float32Array, what: string): void {
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < want.length; i++)
    if (!(Math.abs(got[i] - want[i]) <= 1e-4 * (scale + 1)))
      expect.fail(`${what}[${i}]: got ${got[i]}, reference ${want[i]}`);
}

// conv(x, w, opts) against the reference; returns the output and the call's descriptor.
function expectForwardMatches(x: Tensor, w: Tensor, bias: Tensor | null, opts: ConvOptions, what = 'y') {
  const y = conv(x, w, opts);
  const desc = descriptor(planConv('test', x, w, opts).plan);
  const want = new Float32Array(y.data.length);
  addon.convForwardReference(x.data, w.data, bias?.data ?? null, want, desc);
  expectClose(y.data, want, what);
  return { y, desc };
}

const padding = (rank: number) => fc.oneof(
  fc.integer({ min: 0, max: 2 }),
  fc.array(fc.integer({ min: 0, max: 2 }), { minLength: rank, maxLength: rank }),
  fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: rank, maxLength: rank }),
  fc.constantFrom('valid' as const, 'same' as const, 'full' as const),
);

const convConfig = fc.integer({ min: 1, max: 3 }).chain((rank) => fc.record({
  rank: fc.constant(rank),
  batch: fc.integer({ min: 0, max: 2 }),  // 0: unbatched
  groups: fc.integer({ min: 1, max: 3 }),
  perGroupIn: fc.integer({ min: 1, max: 5 }),
  perGroupOut: fc.integer({ min: 1, max: 9 }),
  kernel: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: rank, maxLength: rank }),
  stride: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: rank, maxLength: rank }),
  dilation: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: rank, maxLength: rank }),
  extra: fc.array(fc.integer({ min: 0, max: rank === 3 ? 4 : 20 }), { minLength: rank, maxLength: rank }),
  padding: padding(rank),
  bias: fc.boolean(),
  seed: fc.integer(),
}));

describe.skipIf(!available)(`property tests on ${isa}`, () => {
  it('conv forward and both gradients match the reference', () => {
    fc.assert(fc.property(convConfig, (c) => {
      const r = rng(c.seed);
      const spatial = c.kernel.map((k, a) => c.dilation[a] * (k - 1) + 1 + c.extra[a]);
      const x = randomTensor(r, [...(c.batch ? [c.batch] : []), c.groups * c.perGroupIn, ...spatial]);
      const w = randomTensor(r, [c.groups * c.perGroupOut, c.perGroupIn, ...c.kernel]);
      const bias = c.bias ? randomTensor(r, [c.groups * c.perGroupOut]) : null;
      const opts: ConvOptions = { stride: c.stride, dilation: c.dilation, groups: c.groups, padding: c.padding, bias };
      const { y, desc } = expectForwardMatches(x, w, bias, opts);
      const dy = randomTensor(r, y.shape);
      const g = convBackward(dy, x, w, opts);
      const dx = new Float32Array(x.data.length), dw = new Float32Array(w.data.length);
      addon.convBackwardDataReference(dy.data, w.data, null, dx, desc);
      addon.convBackwardWeightReference(dy.data, x.data, dw, desc);
      expectClose(g.dx!.data, dx, 'dx');
      expectClose(g.dw!.data, dw, 'dw');
    }), { numRuns: 60, seed: 1234 });
  });

  // Past ~75 input channels a window's rows no longer fit one L1-sized chunk: the kernels then
  // accumulate chunk after chunk, in band mode (narrow rows) and row mode (wide rows) alike.
  it('conv with many input channels (several channel chunks) matches the reference', () => {
    const r = rng(99);
    for (const [width, stride, k] of [[7, 1, 3], [28, 2, 3], [32, 1, 1], [300, 1, 3], [13, 1, 5]]) {
      const x = randomTensor(r, [1, 160, 6, width]);
      const w = randomTensor(r, [7, 160, k, k]);
      const bias = randomTensor(r, [7]);
      const opts: ConvOptions = { stride, padding: k >> 1, bias };
      const { y, desc } = expectForwardMatches(x, w, bias, opts, `y (width ${width})`);
      const dy = randomTensor(r, y.shape);
      const dx = new Float32Array(x.data.length);
      addon.convBackwardDataReference(dy.data, w.data, null, dx, desc);
      expectClose(convBackward(dy, x, w, { ...opts, grads: { input: true, weight: false, bias: false } }).dx!.data, dx, `dx (width ${width})`);
    }
  });

  // 16 or more output channels a group and 256 or more products an output take channel mode
  // (output channels in the vector lanes): rows split into tiles of every width, several
  // tasks a row past 240 positions, strided and dilated windows, the data gradient's phases,
  // input rows read in place (no padding along the row; strided padded rows too, their edge
  // tiles from short zero-padded copies) or through the row buffers.
  it('conv with many channels a group (channel mode) matches the reference', () => {
    fc.assert(fc.property(fc.record({
      groups: fc.integer({ min: 1, max: 2 }),
      perGroupIn: fc.integer({ min: 29, max: 60 }),
      // Channel counts the transposed tile pads no more than the wide one (AVX2: 16 and 32
      // exactly, 31 and 47 with one padded channel).
      perGroupOut: fc.constantFrom(16, 31, 32, 47, 48),
      k: fc.constant(3),
      stride: fc.integer({ min: 1, max: 2 }),
      dilation: fc.integer({ min: 1, max: 2 }),
      width: fc.integer({ min: 1, max: 260 }),
      padded: fc.boolean(),  // unpadded rows are read in place
      bias: fc.boolean(),
      seed: fc.integer(),
    }), (c) => {
      const r = rng(c.seed);
      const reach = c.dilation * (c.k - 1);
      const spatial = [3 + reach, c.width + reach];
      const x = randomTensor(r, [1, c.groups * c.perGroupIn, ...spatial]);
      const w = randomTensor(r, [c.groups * c.perGroupOut, c.perGroupIn, ...spatial.map(() => c.k)]);
      const bias = c.bias ? randomTensor(r, [c.groups * c.perGroupOut]) : null;
      const opts: ConvOptions = { stride: c.stride, dilation: c.dilation, groups: c.groups, padding: c.padded ? c.k >> 1 : 0, bias };
      const { y, desc } = expectForwardMatches(x, w, bias, opts);
      const dy = randomTensor(r, y.shape);
      const dx = new Float32Array(x.data.length);
      addon.convBackwardDataReference(dy.data, w.data, null, dx, desc);
      expectClose(convBackward(dy, x, w, { ...opts, grads: { input: true, weight: false, bias: false } }).dx!.data, dx, 'dx');
    }), { numRuns: 40, seed: 4321 });
  });

  // Groups of 4-8 output channels take the dot path of the weight gradient over bands of whole
  // output rows gathered into columns; bands here cross row and depth boundaries.
  it('grouped weight gradients over bands of rows match the reference', () => {
    const r = rng(5);
    for (const [xShape, wShape, groups, stride] of [
      [[2, 8, 5, 12, 20], [8, 4, 3, 3, 3], 2, 1],
      [[1, 12, 30, 28], [24, 4, 3, 3], 3, 1],
      [[2, 8, 9, 41], [16, 2, 3, 5], 4, 2],
    ] as const) {
      const x = randomTensor(r, [...xShape]);
      const w = randomTensor(r, [...wShape]);
      const opts: ConvOptions = { groups, stride, padding: 1 };
      const y = conv(x, w, opts);
      const dy = randomTensor(r, y.shape);
      const dw = new Float32Array(w.data.length);
      addon.convBackwardWeightReference(dy.data, x.data, dw, descriptor(planConv('test', x, w, opts).plan));
      expectClose(convBackward(dy, x, w, { ...opts, grads: { input: false, weight: true, bias: false } }).dw!.data, dw, `dw (w [${wShape.join(', ')}])`);
    }
  });

  it('convTranspose matches the reference', () => {
    fc.assert(fc.property(convConfig, fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }), (c, op) => {
      const r = rng(c.seed);
      const x = randomTensor(r, [...(c.batch ? [c.batch] : []), c.groups * c.perGroupIn, ...c.extra.map((e) => 1 + (e % 6))]);
      const w = randomTensor(r, [c.groups * c.perGroupIn, c.perGroupOut, ...c.kernel]);
      const bias = c.bias ? randomTensor(r, [c.groups * c.perGroupOut]) : null;
      const pad = typeof c.padding === 'string' ? 0 : c.padding;
      const outputPadding = c.stride.map((s, a) => Math.min(op[a], Math.max(s, c.dilation[a]) - 1));
      const opts = { stride: c.stride, dilation: c.dilation, groups: c.groups, padding: pad, bias, outputPadding };
      let y: Tensor;
      try {
        y = convTranspose(x, w, opts);
      } catch (e) {
        if (e instanceof RangeError && /output size/.test(e.message)) return;  // padding trims everything
        throw e;
      }
      const desc = descriptor(planConvTranspose('test', x, w, opts).plan);
      const want = new Float32Array(y.data.length);
      addon.convBackwardDataReference(x.data, w.data, bias?.data ?? null, want, desc);
      expectClose(y.data, want, 'y');
    }), { numRuns: 40, seed: 99 });
  });

  const pools = { max: [maxPool, maxPoolBackward], min: [minPool, minPoolBackward], avg: [avgPool, avgPoolBackward] } as const;
  it('pooling forward and backward match the reference', () => {
    const config = fc.integer({ min: 1, max: 3 }).chain((rank) => fc.record({
      kind: fc.constantFrom('max' as const, 'min' as const, 'avg' as const),
      kernel: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: rank, maxLength: rank }),
      stride: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: rank, maxLength: rank }),
      dilation: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: rank, maxLength: rank }),
      pad: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: rank, maxLength: rank }),
      extra: fc.array(fc.integer({ min: 0, max: rank === 3 ? 4 : 20 }), { minLength: rank, maxLength: rank }),
      ceilMode: fc.boolean(),
      countIncludePad: fc.boolean(),
      // Inputs of five values: windows full of ties, which max and min break in row-major
      // window order (the first cell holding the extreme wins, as in PyTorch).
      ties: fc.boolean(),
      seed: fc.integer(),
    }));
    fc.assert(fc.property(config, (c) => {
      const r = rng(c.seed);
      const x = randomTensor(r, [2, 3, ...c.kernel.map((k, a) => c.dilation[a] * (k - 1) + 1 + c.extra[a])]);
      if (c.ties) x.data.forEach((v, i) => { x.data[i] = Math.round(v * 2) / 2; });
      const opts: PoolOptions = {
        kernel: c.kernel, stride: c.stride, dilation: c.dilation, ceilMode: c.ceilMode, countIncludePad: c.countIncludePad,
        padding: c.pad.map((p, a) => Math.min(p, Math.floor(c.kernel[a] / 2))),
      };
      const [forward, backward] = pools[c.kind];
      const y = forward(x, opts);
      const desc = planPool('test', c.kind, x, opts).desc;
      const want = new Float32Array(y.data.length);
      addon.poolForwardReference(x.data, want, desc);
      expectClose(y.data, want, 'y');
      const dy = randomTensor(r, y.shape);
      const dx = new Float32Array(x.data.length);
      addon.poolBackwardReference(dy.data, x.data, dx, desc);
      // Into a caller's array holding NaNs: every element of dx must be written.
      expectClose(backward(dy, x, { ...opts, out: new Float32Array(x.data.length).fill(NaN) }).data, dx, 'dx');
    }), { numRuns: 120, seed: 7 });
  });
});
