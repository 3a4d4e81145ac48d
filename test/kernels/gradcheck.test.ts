// Finite-difference gradient checks on random configurations (1-3 axes, groups, stride,
// dilation, every padding form), on the kernel set named by CONVND_ISA: perturb one element
// of x, w or the bias and compare the change of L = sum(conv(x, w) * dy), accumulated in
// float64, with the gradient convBackward returns. Convolution is linear in each argument,
// so central differences are exact up to float32 rounding of the outputs.
import { describe, expect, it } from 'vitest';
import {
  avgPool, avgPoolBackward, conv, convBackward, convOutputShape, convTranspose, maxPool, maxPoolBackward,
  minPool, minPoolBackward, type ConvOptions, type PoolOptions, type Tensor,
} from '../../lib/index.js';
import { requestedIsa } from '../helpers/oracle.js';
import { dot, int, randomTensor, rng } from '../helpers/random.js';

const { isa, available } = requestedIsa();

interface ConvCase { x: Tensor; w: Tensor; b: Tensor; opts: ConvOptions; label: string }

function randomConvCase(r: () => number): ConvCase {
  const rank = int(r, 1, 3);
  const groups = int(r, 1, 3);
  const cg = int(r, 1, 3), kg = int(r, 1, 4);
  const kernel = Array.from({ length: rank }, () => int(r, 1, 3));
  const stride = Array.from({ length: rank }, () => int(r, 1, 3));
  const dilation = Array.from({ length: rank }, () => int(r, 1, 2));
  const forms = ['number', 'perAxis', 'pairs', 'same', 'valid', 'full'] as const;
  const form = forms[int(r, 0, forms.length - 1)];
  const padding: ConvOptions['padding'] =
    form === 'number' ? int(r, 0, 2) : form === 'perAxis' ? kernel.map(() => int(r, 0, 2)) :
    form === 'pairs' ? kernel.map(() => [int(r, 0, 2), int(r, 0, 2)] as [number, number]) : form;
  const spatial = kernel.map((k, a) => dilation[a] * (k - 1) + 1 + int(r, 0, rank === 3 ? 3 : 6));
  const batched = r() < 0.7;
  const xShape = [...(batched ? [int(r, 1, 2)] : []), groups * cg, ...spatial];
  const w = randomTensor(r, [groups * kg, cg, ...kernel]);
  const opts = { stride, dilation, groups, padding };
  return {
    x: randomTensor(r, xShape), w, b: randomTensor(r, [groups * kg]), opts,
    label: `x[${xShape}] w[${w.shape}] ${JSON.stringify(opts)}`,
  };
}

function loss(c: ConvCase, dy: Tensor, x: Tensor, w: Tensor, b: Tensor): number {
  return dot(conv(x, w, { ...c.opts, bias: b }).data, dy.data);
}

/** Central difference of L along element i of `which`, with step h. */
function numericGrad(c: ConvCase, dy: Tensor, which: 'x' | 'w' | 'b', i: number, h: number): number {
  const t = { x: c.x, w: c.w, b: c.b }[which];
  const at = (v: number) => {
    const data = Float32Array.from(t.data);
    data[i] = v;
    const p = { x: c.x, w: c.w, b: c.b, [which]: { data, shape: t.shape } };
    return loss(c, dy, p.x, p.w, p.b);
  };
  return (at(t.data[i] + h) - at(t.data[i] - h)) / (2 * h);
}

describe.skipIf(!available)(`gradient checks on ${isa}`, () => {
  const r = rng(2024);
  for (let n = 0; n < 40; n++) {
    const c = randomConvCase(r);
    it(`conv ${n}: ${c.label}`, () => {
      const dy = randomTensor(r, convOutputShape(c.x.shape, c.w.shape, c.opts));
      const g = convBackward(dy, c.x, c.w, c.opts);
      for (const which of ['x', 'w', 'b'] as const) {
        const grad = { x: g.dx!, w: g.dw!, b: g.db! }[which];
        const size = grad.data.length;
        let scale = 0;
        for (const v of grad.data) scale = Math.max(scale, Math.abs(v));
        for (let k = 0; k < Math.min(size, 6); k++) {
          const i = int(r, 0, size - 1);
          const num = numericGrad(c, dy, which, i, 0.5);
          expect(Math.abs(num - grad.data[i]), `d${which}[${i}] numeric ${num} vs ${grad.data[i]}`).toBeLessThanOrEqual(2e-4 * (scale + 1));
        }
      }
    });
  }

  // convTranspose is the adjoint of conv: <conv(x, w), y> = <x, convTranspose(y, w)>.
  for (let n = 0; n < 15; n++) {
    const c = randomConvCase(r);
    if (typeof c.opts.padding === 'string' && c.opts.padding !== 'valid') continue;
    it(`convTranspose adjoint ${n}: ${c.label}`, () => {
      const y = conv(c.x, c.w, c.opts);
      const v = randomTensor(r, y.shape);
      const rank = c.w.shape.length - 2;
      const stride = c.opts.stride as number[], dilation = c.opts.dilation as number[];
      const pad = c.opts.padding;
      const pairs = Array.from({ length: rank }, (_, a): [number, number] =>
        typeof pad === 'number' ? [pad, pad] : Array.isArray(pad) ? (Array.isArray(pad[a]) ? (pad[a] as [number, number]) : [pad[a] as number, pad[a] as number]) : [0, 0]);
      // The transposed output must have x's size: add back what the forward stride dropped.
      const outputPadding = pairs.map(([before, after], a) => {
        const xSize = c.x.shape[c.x.shape.length - rank + a], ySize = y.shape[y.shape.length - rank + a];
        return xSize - ((ySize - 1) * stride[a] - before - after + dilation[a] * (c.w.shape[2 + a] - 1) + 1);
      });
      if (outputPadding.some((p, a) => p >= stride[a] && p >= dilation[a])) return;
      const t = convTranspose(v, c.w, { ...c.opts, padding: pairs, outputPadding });
      expect(t.shape).toEqual(c.x.shape);
      const lhs = dot(y.data, v.data), rhs = dot(c.x.data, t.data);
      expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-4 * (Math.abs(lhs) + 1));
    });
  }

  // Pooling: max/min are piecewise linear, average is linear; random data has no ties.
  const pools = [['max', maxPool, maxPoolBackward], ['min', minPool, minPoolBackward], ['avg', avgPool, avgPoolBackward]] as const;
  for (let n = 0; n < 12; n++) {
    const [name, forward, backward] = pools[n % 3];
    const rank = int(r, 1, 3);
    const kernel = Array.from({ length: rank }, () => int(r, 1, 3));
    const opts: PoolOptions = {
      kernel,
      stride: kernel.map(() => int(r, 1, 3)),
      padding: kernel.map((k) => int(r, 0, Math.floor(k / 2))),
      ceilMode: r() < 0.5,
      countIncludePad: r() < 0.5,
    };
    const x = randomTensor(r, [2, 2, ...kernel.map((k) => k + int(r, 1, 5))]);
    it(`${name}Pool ${n}: x[${x.shape}] ${JSON.stringify(opts)}`, () => {
      const dy = randomTensor(r, forward(x, opts).shape);
      const dx = backward(dy, x, opts);
      for (let k = 0; k < 8; k++) {
        const i = int(r, 0, x.data.length - 1);
        const h = 1e-3;
        const at = (v: number) => {
          const data = Float32Array.from(x.data);
          data[i] = v;
          return dot(forward({ data, shape: x.shape }, opts).data, dy.data);
        };
        const num = (at(x.data[i] + h) - at(x.data[i] - h)) / (2 * h);
        expect(Math.abs(num - dx.data[i]), `dx[${i}]`).toBeLessThanOrEqual(2e-2 * (Math.abs(dx.data[i]) + 0.1));
      }
    });
  }
});
