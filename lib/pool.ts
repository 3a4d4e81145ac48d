// Max, min and average pooling over 1-3 spatial axes, forward and backward, sync and async.
import { checkSameShape, putAxes, shapeOf, splitInput } from './conv-plan.js';
import { native } from './native.js';
import { type Padding, type PerAxis, perAxis, resolvePadding } from './options.js';
import { allocateOutput, callerOutput, checkTensor, overlaps, type Tensor, type TensorLike } from './tensor.js';
import { checkSignal, runNative } from './async.js';
import { checkBoolean, checkElements, checkInnermost, checkOptionsObject, lengthOf, rangeError, typeError } from './validate.js';

export interface PoolOptions {
  /** Window size; its length (if an array) sets the rank, else the rank is x.rank - 2. */
  kernel: PerAxis;
  /** Default: the kernel. */
  stride?: PerAxis;
  /** Default 0; padded cells never win a max or min. */
  padding?: Padding;
  dilation?: PerAxis;
  /** PyTorch's ceil_mode: the last partial window counts if it starts inside the input or the left padding. */
  ceilMode?: boolean;
  /** Average only: divide by the window's taps including padding (default true), else by the cells inside. */
  countIncludePad?: boolean;
  out?: Float32Array;
  /** Async calls only: cancels the call if it has not started yet (rejecting with an AbortError). */
  signal?: AbortSignal;
}

export type Kind = 'max' | 'min' | 'avg';
const KIND_CODE: Record<Kind, number> = { max: 0, min: 1, avg: 2 };

export interface PoolPlan {
  x: Tensor;
  shape: number[];
  desc: Float64Array;
  opts: Record<string, unknown>;
  windows: { input: number[]; kernel: number[]; output: number[]; stride: number[]; dilation: number[]; before: number[] };
}

/** The addon's limit on the cells of one pooling window. */
const MAX_TAPS = 2 ** 24;

/** Checks a pooling call and builds its descriptor (exported for the property tests). */
export function planPool(fn: string, kind: Kind, xArg: unknown, options: unknown): PoolPlan {
  const x = checkTensor(fn, 'x', xArg);
  if (options === undefined || options === null) throw typeError(fn, 'options', 'an object with at least { kernel }', options);
  const opts = checkOptionsObject(fn, 'options', options);
  if (opts.kernel === undefined) throw typeError(fn, 'options.kernel', 'a number or an array of 1-3 numbers', undefined);
  const rank = Array.isArray(opts.kernel) ? opts.kernel.length : x.shape.length - 2;
  if (rank < 1 || rank > 3)
    throw rangeError(fn, `pooling works over 1-3 spatial axes; ${Array.isArray(opts.kernel) ? `kernel has ${rank} entries` : `x has shape [${x.shape.join(', ')}] (a number kernel takes the rank from batched x [N, C, ...spatial])`}`);
  const { batched, batch, channels, spatial } = splitInput(fn, 'x', x, rank);
  const kernel = perAxis(fn, 'kernel', opts.kernel, rank, 1, 1);
  const stride = perAxis(fn, 'stride', opts.stride ?? kernel, rank, 1, 1);
  const dilation = perAxis(fn, 'dilation', opts.dilation, rank, 1, 1);
  const pad = resolvePadding(fn, opts.padding, rank, { input: spatial, kernel, stride, dilation });
  const ceilMode = checkBoolean(fn, 'ceilMode', opts.ceilMode, false);
  const countIncludePad = checkBoolean(fn, 'countIncludePad', opts.countIncludePad, true);
  const output = spatial.map((n, a) => {
    const span = dilation[a] * (kernel[a] - 1) + 1;
    const room = n + pad.before[a] + pad.after[a] - span;
    if (room < 0) throw rangeError(fn, `the dilated window (${span}) is larger than the padded input (${n + pad.before[a] + pad.after[a]}) along spatial axis ${a}`);
    let out = (ceilMode ? Math.ceil(room / stride[a]) : Math.floor(room / stride[a])) + 1;
    // PyTorch: the last window must start inside the input or the left padding.
    if (ceilMode && (out - 1) * stride[a] >= n + pad.before[a]) out--;
    return out;
  });
  checkElements(fn, 'output', [batch, channels, ...output]);
  const last = rank - 1;
  checkInnermost(fn, last, spatial[last], kernel[last], dilation[last], output[last]);
  const taps = kernel.reduce((p, k) => p * k, 1);
  if (taps >= MAX_TAPS) throw rangeError(fn, `a pooling window is limited to 2^24 cells, kernel [${kernel.join(', ')}] has ${taps}`);
  const shape = shapeOf(batched, batch, channels, output);
  const desc = new Float64Array(24);
  desc[0] = KIND_CODE[kind];
  desc[1] = countIncludePad ? 1 : 0;
  desc[2] = batch * channels;
  putAxes(desc, 3, spatial, 1);
  putAxes(desc, 6, kernel, 1);
  putAxes(desc, 9, output, 1);
  putAxes(desc, 12, stride, 1);
  putAxes(desc, 15, dilation, 1);
  putAxes(desc, 18, pad.before, 0);
  putAxes(desc, 21, pad.after, 0);
  return { x, shape, desc, opts, windows: { input: spatial, kernel, output, stride, dilation, before: pad.before } };
}

/**
 * Throws when some window holds only padding. Called once the output (or dy) exists, so the
 * work is bounded by the output's size. A window starting at s >= 0 holds an input cell iff
 * s < in, so past the left padding only the last window matters; windows starting in the left
 * padding are checked one by one (just the first when dilation <= in: there the condition is
 * monotone).
 */
function checkWindows(fn: string, w: PoolPlan['windows']): void {
  w.input.forEach((n, a) => {
    const holdsInput = (o: number): boolean => {
      const start = o * w.stride[a] - w.before[a];
      const first = start >= 0 ? 0 : Math.ceil(-start / w.dilation[a]);
      return first < w.kernel[a] && start + first * w.dilation[a] < n;
    };
    const bad = (o: number) =>
      rangeError(fn, `window ${o} along spatial axis ${a} holds no input cell (only padding); reduce padding or dilation`);
    for (let o = 0; o < w.output[a] && o * w.stride[a] < w.before[a]; o++) {
      if (!holdsInput(o)) throw bad(o);
      if (w.dilation[a] <= n) break;
    }
    if (!holdsInput(w.output[a] - 1)) throw bad(w.output[a] - 1);
  });
}

interface PoolCall {
  plan: PoolPlan;
  /** The caller's output array, or null to allocate one. */
  out: Float32Array | null;
  length: number;
  signal: AbortSignal | undefined;
}

function forward(fn: string, kind: Kind, x: unknown, options: unknown): PoolCall {
  const plan = planPool(fn, kind, x, options);
  const length = plan.shape.reduce((a, b) => a * b, 1);
  const out = callerOutput(fn, plan.opts.out, length);
  if (out && overlaps(out, plan.x.data)) throw rangeError(fn, 'out must not share memory with x');
  checkWindows(fn, plan.windows);
  return { plan, out, length, signal: checkSignal(fn, plan.opts.signal) };
}

function backward(fn: string, kind: Kind, dyArg: unknown, x: unknown, options: unknown): PoolCall & { dy: Tensor } {
  const dy = checkTensor(fn, 'dy', dyArg);
  const plan = planPool(fn, kind, x, options);
  checkSameShape(fn, 'dy', dy, plan.shape);
  checkWindows(fn, plan.windows);
  const length = lengthOf(plan.x.data);
  const out = callerOutput(fn, plan.opts.out, length);
  if (out && (overlaps(out, plan.x.data) || overlaps(out, dy.data))) throw rangeError(fn, 'out must not share memory with x or dy');
  return { plan, dy, out, length, signal: checkSignal(fn, plan.opts.signal) };
}

function poolSync(fn: string, kind: Kind, x: unknown, options: unknown): Tensor {
  const c = forward(fn, kind, x, options);
  const y = c.out ?? allocateOutput(fn, c.length);
  native().poolForward(c.plan.x.data, y, c.plan.desc);
  return { data: y, shape: c.plan.shape };
}

async function poolAsync(fn: string, kind: Kind, x: unknown, options: unknown): Promise<Tensor> {
  const c = forward(fn, kind, x, options);
  const y = await runNative(fn, c.signal, () => native().poolForwardAsync(c.plan.x.data, c.out, c.plan.desc));
  return { data: y, shape: c.plan.shape };
}

function poolBackwardSync(fn: string, kind: Kind, dy: unknown, x: unknown, options: unknown): Tensor {
  const c = backward(fn, kind, dy, x, options);
  const dx = c.out ?? allocateOutput(fn, c.length);
  native().poolBackward(c.dy.data, c.plan.x.data, dx, c.plan.desc);
  return { data: dx, shape: c.plan.x.shape };
}

async function poolBackwardAsync(fn: string, kind: Kind, dy: unknown, x: unknown, options: unknown): Promise<Tensor> {
  const c = backward(fn, kind, dy, x, options);
  const dx = await runNative(fn, c.signal, () => native().poolBackwardAsync(c.dy.data, c.plan.x.data, c.out, c.plan.desc));
  return { data: dx, shape: c.plan.x.shape };
}

export const maxPool = (x: TensorLike, options: PoolOptions): Tensor => poolSync('maxPool', 'max', x, options);
export const minPool = (x: TensorLike, options: PoolOptions): Tensor => poolSync('minPool', 'min', x, options);
export const avgPool = (x: TensorLike, options: PoolOptions): Tensor => poolSync('avgPool', 'avg', x, options);
export const maxPoolAsync = (x: TensorLike, options: PoolOptions): Promise<Tensor> => poolAsync('maxPoolAsync', 'max', x, options);
export const minPoolAsync = (x: TensorLike, options: PoolOptions): Promise<Tensor> => poolAsync('minPoolAsync', 'min', x, options);
export const avgPoolAsync = (x: TensorLike, options: PoolOptions): Promise<Tensor> => poolAsync('avgPoolAsync', 'avg', x, options);

/** Routes each output gradient to the first cell holding the window's maximum (PyTorch's rule). */
export const maxPoolBackward = (dy: TensorLike, x: TensorLike, options: PoolOptions): Tensor =>
  poolBackwardSync('maxPoolBackward', 'max', dy, x, options);
export const minPoolBackward = (dy: TensorLike, x: TensorLike, options: PoolOptions): Tensor =>
  poolBackwardSync('minPoolBackward', 'min', dy, x, options);
export const avgPoolBackward = (dy: TensorLike, x: TensorLike, options: PoolOptions): Tensor =>
  poolBackwardSync('avgPoolBackward', 'avg', dy, x, options);
export const maxPoolBackwardAsync = (dy: TensorLike, x: TensorLike, options: PoolOptions): Promise<Tensor> =>
  poolBackwardAsync('maxPoolBackwardAsync', 'max', dy, x, options);
export const minPoolBackwardAsync = (dy: TensorLike, x: TensorLike, options: PoolOptions): Promise<Tensor> =>
  poolBackwardAsync('minPoolBackwardAsync', 'min', dy, x, options);
export const avgPoolBackwardAsync = (dy: TensorLike, x: TensorLike, options: PoolOptions): Promise<Tensor> =>
  poolBackwardAsync('avgPoolBackwardAsync', 'avg', dy, x, options);
