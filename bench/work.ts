// How much work a case is: output shape, arithmetic and the compulsory memory traffic.
import type { Case, ConvCase, Op, PoolCase } from './cases.js';

const product = (v: readonly number[]): number => v.reduce((a, b) => a * b, 1);

export function outputShape(c: Case): number[] {
  const spatial = c.x.slice(2);
  const kernel = c.kind === 'conv' ? c.w.slice(2) : c.kernel;
  const dilation = c.kind === 'conv' ? c.dilation : kernel.map(() => 1);
  const out = spatial.map((n, a) => Math.floor((n + 2 * c.padding[a] - dilation[a] * (kernel[a] - 1) - 1) / c.stride[a]) + 1);
  return [c.x[0], c.kind === 'conv' ? c.w[0] : c.x[1], ...out];
}

export interface Work {
  /** Floating-point operations: 2 per multiply-add for convolutions, 1 per window tap for pooling. */
  flops: number;
  /** Bytes that must move at least once: input + output + weights, float32. */
  bytes: number;
  /** True when `flops` are FMA work, so a % of the FMA peak means something. */
  fma: boolean;
}

export function workOf(c: Case, op: Op): Work {
  const y = outputShape(c);
  if (c.kind === 'conv') return convWork(c, y);
  return poolWork(c, y, op);
}

function convWork(c: ConvCase, y: number[]): Work {
  const macs = product(y) * product(c.w.slice(1)); // every output: C/groups * kernel taps
  return { flops: 2 * macs, bytes: 4 * (product(c.x) + product(y) + product(c.w)), fma: true };
}

function poolWork(c: PoolCase, y: number[], op: Op): Work {
  // Max pooling's backward reads x as well as dy (to find each window's winner) and writes dx;
  // average pooling's needs only dy and dx, as many bytes as its forward.
  const xReads = c.kind === 'maxpool' && op !== 'forward' ? 2 : 1;
  return { flops: product(y) * product(c.kernel), bytes: 4 * (xReads * product(c.x) + product(y)), fma: false };
}

export { product };
