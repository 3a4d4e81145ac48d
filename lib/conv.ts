// Public convolution functions: forward, gradients and transposed convolution, sync and async.
import {
  checkBias, checkSameShape, type ConvOptions, type ConvPlan, type ConvTransposeOptions, descriptorForCall,
  planConv, planConvTranspose, planFromOptions, shapeOf,
} from './conv-plan.js';
import { native } from './native.js';
import { allocateOutput, callerOutput, checkShape, checkTensor, overlaps, type Tensor, type TensorLike } from './tensor.js';
import { checkSignal, runNative } from './async.js';
import { checkBoolean, checkOptionsObject, isFloat32Array, lengthOf, rangeError } from './validate.js';

export type { ConvOptions, ConvTransposeOptions } from './conv-plan.js';

export interface ConvGrads {
  dx?: Tensor;
  dw?: Tensor;
  db?: Tensor;
}

/** Preallocated outputs for convBackward, each of exactly its gradient's length. */
export interface ConvGradOutputs {
  dx?: Float32Array;
  dw?: Float32Array;
  db?: Float32Array;
}

export interface ConvBackwardOptions extends Omit<ConvOptions, 'out'> {
  /** Which gradients to compute; all three by default. */
  grads?: { input?: boolean; weight?: boolean; bias?: boolean };
  /**
   * Preallocated gradient outputs. A Float32Array here is taken for the forward call's `out`
   * and ignored, so that one options object can serve conv and convBackward.
   */
  out?: ConvGradOutputs | Float32Array;
}

/**
 * Throws when `out` shares memory with one of the first `count` arrays (null: absent), named
 * alike. Parallel arrays, not an object of names: building objects by spreading (as the backward
 * pass's three checks did) cost about 2 µs a call, as much as a small layer's kernels.
 */
function checkOutNotInput(fn: string, outName: string, out: Float32Array | null, names: readonly string[],
                          arrays: readonly (Float32Array | null)[], count = arrays.length): void {
  if (!out) return;
  for (let i = 0; i < count; i++) {
    const arr = arrays[i];
    if (arr && overlaps(out, arr)) throw rangeError(fn, `${outName} must not share memory with ${names[i]}`);
  }
}

const FORWARD_INPUTS = ['x', 'w', 'bias'] as const;
const BACKWARD_ARRAYS = ['dy', 'x', 'w', 'out.dx', 'out.dw'] as const;

interface ForwardCall {
  x: Tensor;
  w: Tensor;
  bias: Float32Array | null;
  /** The caller's output array, or null to allocate one. */
  out: Float32Array | null;
  length: number;
  shape: number[];
  plan: ConvPlan;
  signal: AbortSignal | undefined;
}

function prepareConv(fn: string, xArg: unknown, wArg: unknown, options: unknown, rank?: number): ForwardCall {
  const x = checkTensor(fn, 'x', xArg);
  const w = checkTensor(fn, 'w', wArg);
  if (rank !== undefined && w.shape.length !== rank + 2)
    throw rangeError(fn, `w must have ${rank + 2} dimensions [K, C/groups, ...kernel] for a ${rank}-d convolution, got shape [${w.shape.join(', ')}]`);
  const { plan, opts } = planConv(fn, x, w, options);
  const bias = checkBias(fn, opts.bias, plan.outChannels);
  const shape = shapeOf(plan.batched, plan.batch, plan.outChannels, plan.output);
  const length = shape.reduce((a, b) => a * b, 1);
  const out = callerOutput(fn, opts.out, length);
  checkOutNotInput(fn, 'out', out, FORWARD_INPUTS, [x.data, w.data, bias]);
  return { x, w, bias, out, length, shape, plan, signal: checkSignal(fn, opts.signal) };
}

function forwardSync(fn: string, c: ForwardCall): Tensor {
  const y = c.out ?? allocateOutput(fn, c.length);
  native().convForward(c.x.data, c.w.data, c.bias, y, descriptorForCall(c.plan));
  return { data: y, shape: c.shape };
}

/** N-dimensional convolution (cross-correlation, as PyTorch); the rank comes from w. */
export function conv(x: TensorLike, w: TensorLike, options?: ConvOptions): Tensor {
  return forwardSync('conv', prepareConv('conv', x, w, options));
}

export function conv1d(x: TensorLike, w: TensorLike, options?: ConvOptions): Tensor {
  return forwardSync('conv1d', prepareConv('conv1d', x, w, options, 1));
}

export function conv2d(x: TensorLike, w: TensorLike, options?: ConvOptions): Tensor {
  return forwardSync('conv2d', prepareConv('conv2d', x, w, options, 2));
}

export function conv3d(x: TensorLike, w: TensorLike, options?: ConvOptions): Tensor {
  return forwardSync('conv3d', prepareConv('conv3d', x, w, options, 3));
}

/**
 * conv() computed on the addon's threads. The inputs are copied when the call is made, so
 * they may change at once; `out` (if given) receives the result when the promise settles.
 */
export async function convAsync(x: TensorLike, w: TensorLike, options?: ConvOptions): Promise<Tensor> {
  const c = prepareConv('convAsync', x, w, options);
  const y = await runNative('convAsync', c.signal, () => native().convForwardAsync(c.x.data, c.w.data, c.bias, c.out, descriptorForCall(c.plan)));
  return { data: y, shape: c.shape };
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
  want: { input: boolean; weight: boolean; bias: boolean };
  out: { dx: Float32Array | null; dw: Float32Array | null; db: Float32Array | null };
  signal: AbortSignal | undefined;
}

function prepareBackward(fn: string, dyArg: unknown, xArg: unknown, wArg: unknown, options: unknown): BackwardCall {
  const dy = checkTensor(fn, 'dy', dyArg);
  const x = checkTensor(fn, 'x', xArg);
  const w = checkTensor(fn, 'w', wArg);
  const opts = checkOptionsObject(fn, 'options', options);
  const outs = isFloat32Array(opts.out) ? {} : checkOptionsObject(fn, 'out', opts.out);
  const plan = planFromOptions(fn, x, w, opts);
  checkSameShape(fn, 'dy', dy, shapeOf(plan.batched, plan.batch, plan.outChannels, plan.output));
  const grads = checkOptionsObject(fn, 'grads', opts.grads);
  const want = {
    input: checkBoolean(fn, 'grads.input', grads.input, true),
    weight: checkBoolean(fn, 'grads.weight', grads.weight, true),
    bias: checkBoolean(fn, 'grads.bias', grads.bias, true),
  };
  const out = {
    dx: callerOutput(fn, outs.dx, lengthOf(x.data), 'out.dx'),
    dw: callerOutput(fn, outs.dw, lengthOf(w.data), 'out.dw'),
    db: callerOutput(fn, outs.db, plan.outChannels, 'out.db'),
  };
  // Each output apart from the inputs and from the outputs before it.
  const arrays = [dy.data, x.data, w.data, out.dx, out.dw];
  checkOutNotInput(fn, 'out.dx', out.dx, BACKWARD_ARRAYS, arrays, 3);
  checkOutNotInput(fn, 'out.dw', out.dw, BACKWARD_ARRAYS, arrays, 4);
  checkOutNotInput(fn, 'out.db', out.db, BACKWARD_ARRAYS, arrays, 5);
  return { dy, x, w, plan, want, out, signal: checkSignal(fn, opts.signal) };
}

/** Gradients of sum(conv(x, w) * dy) with respect to x, w and the bias (sums over the batch). */
export function convBackward(dy: TensorLike, x: TensorLike, w: TensorLike, options?: ConvBackwardOptions): ConvGrads {
  const fn = 'convBackward';
  const c = prepareBackward(fn, dy, x, w, options);
  const grads: ConvGrads = {};
  const addon = native();
  const desc = descriptorForCall(c.plan);  // nothing below writes it again before the calls
  if (c.want.input) {
    grads.dx = { data: c.out.dx ?? allocateOutput(fn, lengthOf(c.x.data)), shape: c.x.shape };
    addon.convBackwardData(c.dy.data, c.w.data, null, grads.dx.data, desc);
  }
  if (c.want.weight) {
    grads.dw = { data: c.out.dw ?? allocateOutput(fn, lengthOf(c.w.data)), shape: c.w.shape };
    addon.convBackwardWeight(c.dy.data, c.x.data, grads.dw.data, desc);
  }
  if (c.want.bias) {
    grads.db = { data: c.out.db ?? allocateOutput(fn, c.plan.outChannels), shape: [c.plan.outChannels] };
    addon.convBackwardBias(c.dy.data, grads.db.data, desc);
  }
  return grads;
}

export async function convBackwardAsync(dy: TensorLike, x: TensorLike, w: TensorLike, options?: ConvBackwardOptions): Promise<ConvGrads> {
  const fn = 'convBackwardAsync';
  const c = prepareBackward(fn, dy, x, w, options);
  const addon = native();
  // runNative starts each call before it first awaits, so all three read `desc` at once.
  const desc = descriptorForCall(c.plan);
  const [dx, dw, db] = await Promise.all([
    c.want.input ? runNative(fn, c.signal, () => addon.convBackwardDataAsync(c.dy.data, c.w.data, null, c.out.dx, desc)) : null,
    c.want.weight ? runNative(fn, c.signal, () => addon.convBackwardWeightAsync(c.dy.data, c.x.data, c.out.dw, desc)) : null,
    c.want.bias ? runNative(fn, c.signal, () => addon.convBackwardBiasAsync(c.dy.data, c.out.db, desc)) : null,
  ]);
  const grads: ConvGrads = {};
  if (dx) grads.dx = { data: dx, shape: c.x.shape };
  if (dw) grads.dw = { data: dw, shape: c.w.shape };
  if (db) grads.db = { data: db, shape: [c.plan.outChannels] };
  return grads;
}

function prepareTranspose(fn: string, xArg: unknown, wArg: unknown, options: unknown): ForwardCall {
  const x = checkTensor(fn, 'x', xArg);
  const w = checkTensor(fn, 'w', wArg);
  const { plan, opts } = planConvTranspose(fn, x, w, options);
  const bias = checkBias(fn, opts.bias, plan.inChannels);
  const shape = shapeOf(plan.batched, plan.batch, plan.inChannels, plan.input);
  const length = shape.reduce((a, b) => a * b, 1);
  const out = callerOutput(fn, opts.out, length);
  checkOutNotInput(fn, 'out', out, FORWARD_INPUTS, [x.data, w.data, bias]);
  return { x, w, bias, out, length, shape, plan, signal: checkSignal(fn, opts.signal) };
}

/** Transposed convolution, as PyTorch's conv_transpose{1,2,3}d; w is [C_in, C_out/groups, ...kernel]. */
export function convTranspose(x: TensorLike, w: TensorLike, options?: ConvTransposeOptions): Tensor {
  const fn = 'convTranspose';
  const c = prepareTranspose(fn, x, w, options);
  const y = c.out ?? allocateOutput(fn, c.length);
  native().convBackwardData(c.x.data, c.w.data, c.bias, y, descriptorForCall(c.plan));
  return { data: y, shape: c.shape };
}

export async function convTransposeAsync(x: TensorLike, w: TensorLike, options?: ConvTransposeOptions): Promise<Tensor> {
  const fn = 'convTransposeAsync';
  const c = prepareTranspose(fn, x, w, options);
  const y = await runNative(fn, c.signal, () => native().convBackwardDataAsync(c.x.data, c.w.data, c.bias, c.out, descriptorForCall(c.plan)));
  return { data: y, shape: c.shape };
}
