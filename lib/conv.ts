// Public convolution functions: forward, gradients and transposed convolution, sync and async.
import {
  checkBias, checkSameShape, type ConvOptions, type ConvPlan, type ConvTransposeOptions, descriptor,
  planConv, planConvTranspose, shapeOf,
} from './conv-plan.js';
import { native } from './native.js';
import { checkShape, checkTensor, outputArray, overlaps, type Tensor, type TensorLike } from './tensor.js';
import { checkBoolean, checkOptionsObject, lengthOf, rangeError } from './validate.js';

export type { ConvOptions, ConvTransposeOptions } from './conv-plan.js';

export interface ConvGrads {
  dx?: Tensor;
  dw?: Tensor;
  db?: Tensor;
}

export interface ConvBackwardOptions extends ConvOptions {
  /** Which gradients to compute; all three by default. */
  grads?: { input?: boolean; weight?: boolean; bias?: boolean };
}

function checkOutNotInput(fn: string, out: Float32Array, inputs: Record<string, Float32Array | null>): void {
  for (const [name, arr] of Object.entries(inputs))
    if (arr && overlaps(out, arr)) throw rangeError(fn, `out must not share memory with ${name}`);
}

interface ForwardCall {
  x: Tensor;
  w: Tensor;
  bias: Float32Array | null;
  y: Float32Array;
  shape: number[];
  desc: number[];
}

function prepareConv(fn: string, xArg: unknown, wArg: unknown, options: unknown, rank?: number): ForwardCall {
  const x = checkTensor(fn, 'x', xArg);
  const w = checkTensor(fn, 'w', wArg);
  if (rank !== undefined && w.shape.length !== rank + 2)
    throw rangeError(fn, `w must have ${rank + 2} dimensions [K, C/groups, ...kernel] for a ${rank}-d convolution, got shape [${w.shape.join(', ')}]`);
  const { plan, opts } = planConv(fn, x, w, options);
  const bias = checkBias(fn, opts.bias, plan.outChannels);
  const shape = shapeOf(plan.batched, plan.batch, plan.outChannels, plan.output);
  const y = outputArray(fn, opts.out, shape.reduce((a, b) => a * b, 1));
  checkOutNotInput(fn, y, { x: x.data, w: w.data, bias });
  return { x, w, bias, y, shape, desc: descriptor(plan) };
}

/** N-dimensional convolution (cross-correlation, as PyTorch); the rank comes from w. */
export function conv(x: TensorLike, w: TensorLike, options?: ConvOptions): Tensor {
  const c = prepareConv('conv', x, w, options);
  native().convForward(c.x.data, c.w.data, c.bias, c.y, c.desc);
  return { data: c.y, shape: c.shape };
}

export function conv1d(x: TensorLike, w: TensorLike, options?: ConvOptions): Tensor {
  const c = prepareConv('conv1d', x, w, options, 1);
  native().convForward(c.x.data, c.w.data, c.bias, c.y, c.desc);
  return { data: c.y, shape: c.shape };
}

export function conv2d(x: TensorLike, w: TensorLike, options?: ConvOptions): Tensor {
  const c = prepareConv('conv2d', x, w, options, 2);
  native().convForward(c.x.data, c.w.data, c.bias, c.y, c.desc);
  return { data: c.y, shape: c.shape };
}

export function conv3d(x: TensorLike, w: TensorLike, options?: ConvOptions): Tensor {
  const c = prepareConv('conv3d', x, w, options, 3);
  native().convForward(c.x.data, c.w.data, c.bias, c.y, c.desc);
  return { data: c.y, shape: c.shape };
}

/** conv() computed on the addon's threads; inputs must not change until the promise settles. */
export async function convAsync(x: TensorLike, w: TensorLike, options?: ConvOptions): Promise<Tensor> {
  const c = prepareConv('convAsync', x, w, options);
  await native().convForwardAsync(c.x.data, c.w.data, c.bias, c.y, c.desc);
  return { data: c.y, shape: c.shape };
}

/** The output shape conv(x, w, options) would have. */
export function convOutputShape(xShape: readonly number[], wShape: readonly number[], options?: ConvOptions): number[] {
  const fn = 'convOutputShape';
  // planConv reads shapes only, so the data can stay empty.
  const x = { data: new Float32Array(0), shape: checkShape(fn, 'xShape', xShape) };
  const w = { data: new Float32Array(0), shape: checkShape(fn, 'wShape', wShape) };
  const { plan } = planConv(fn, x, w, options);
  return shapeOf(plan.batched, plan.batch, plan.outChannels, plan.output);
}

interface BackwardCall {
  dy: Tensor;
  x: Tensor;
  w: Tensor;
  plan: ConvPlan;
  desc: number[];
  want: { input: boolean; weight: boolean; bias: boolean };
}

function prepareBackward(fn: string, dyArg: unknown, xArg: unknown, wArg: unknown, options: unknown): BackwardCall {
  const dy = checkTensor(fn, 'dy', dyArg);
  const x = checkTensor(fn, 'x', xArg);
  const w = checkTensor(fn, 'w', wArg);
  const { plan, opts } = planConv(fn, x, w, options);
  checkSameShape(fn, 'dy', dy, shapeOf(plan.batched, plan.batch, plan.outChannels, plan.output));
  const grads = checkOptionsObject(fn, 'grads', opts.grads);
  const want = {
    input: checkBoolean(fn, 'grads.input', grads.input, true),
    weight: checkBoolean(fn, 'grads.weight', grads.weight, true),
    bias: checkBoolean(fn, 'grads.bias', grads.bias, true),
  };
  return { dy, x, w, plan, desc: descriptor(plan), want };
}

/** Gradients of sum(conv(x, w) * dy) with respect to x, w and the bias (sums over the batch). */
export function convBackward(dy: TensorLike, x: TensorLike, w: TensorLike, options?: ConvBackwardOptions): ConvGrads {
  const c = prepareBackward('convBackward', dy, x, w, options);
  const out: ConvGrads = {};
  const addon = native();
  if (c.want.input) {
    out.dx = { data: new Float32Array(lengthOf(c.x.data)), shape: c.x.shape };
    addon.convBackwardData(c.dy.data, c.w.data, null, out.dx.data, c.desc);
  }
  if (c.want.weight) {
    out.dw = { data: new Float32Array(lengthOf(c.w.data)), shape: c.w.shape };
    addon.convBackwardWeight(c.dy.data, c.x.data, out.dw.data, c.desc);
  }
  if (c.want.bias) {
    out.db = { data: new Float32Array(c.plan.outChannels), shape: [c.plan.outChannels] };
    addon.convBackwardBias(c.dy.data, out.db.data, c.desc);
  }
  return out;
}

export async function convBackwardAsync(dy: TensorLike, x: TensorLike, w: TensorLike, options?: ConvBackwardOptions): Promise<ConvGrads> {
  const c = prepareBackward('convBackwardAsync', dy, x, w, options);
  const out: ConvGrads = {};
  const addon = native();
  const work: Promise<void>[] = [];
  if (c.want.input) {
    out.dx = { data: new Float32Array(lengthOf(c.x.data)), shape: c.x.shape };
    work.push(addon.convBackwardDataAsync(c.dy.data, c.w.data, null, out.dx.data, c.desc));
  }
  if (c.want.weight) {
    out.dw = { data: new Float32Array(lengthOf(c.w.data)), shape: c.w.shape };
    work.push(addon.convBackwardWeightAsync(c.dy.data, c.x.data, out.dw.data, c.desc));
  }
  if (c.want.bias) {
    out.db = { data: new Float32Array(c.plan.outChannels), shape: [c.plan.outChannels] };
    work.push(addon.convBackwardBiasAsync(c.dy.data, out.db.data, c.desc));
  }
  await Promise.all(work);
  return out;
}

function prepareTranspose(fn: string, xArg: unknown, wArg: unknown, options: unknown): ForwardCall {
  const x = checkTensor(fn, 'x', xArg);
  const w = checkTensor(fn, 'w', wArg);
  const { plan, opts } = planConvTranspose(fn, x, w, options);
  const bias = checkBias(fn, opts.bias, plan.inChannels);
  const shape = shapeOf(plan.batched, plan.batch, plan.inChannels, plan.input);
  const y = outputArray(fn, opts.out, shape.reduce((a, b) => a * b, 1));
  checkOutNotInput(fn, y, { x: x.data, w: w.data, bias });
  return { x, w, bias, y, shape, desc: descriptor(plan) };
}

/** Transposed convolution, as PyTorch's conv_transpose{1,2,3}d; w is [C_in, C_out/groups, ...kernel]. */
export function convTranspose(x: TensorLike, w: TensorLike, options?: ConvTransposeOptions): Tensor {
  const c = prepareTranspose('convTranspose', x, w, options);
  native().convBackwardData(c.x.data, c.w.data, c.bias, c.y, c.desc);
  return { data: c.y, shape: c.shape };
}

export async function convTransposeAsync(x: TensorLike, w: TensorLike, options?: ConvTransposeOptions): Promise<Tensor> {
  const c = prepareTranspose('convTransposeAsync', x, w, options);
  await native().convBackwardDataAsync(c.x.data, c.w.data, c.bias, c.y, c.desc);
  return { data: c.y, shape: c.shape };
}

