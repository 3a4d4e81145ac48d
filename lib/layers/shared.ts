// Pieces shared by the layer classes: input checks, option checks, initialisation and the
// error wrapping that makes a failure inside conv() or maxPool() name the layer that called it.
import { type Padding, perAxis, resolvePadding } from '../options.js';
import { checkTensor, type Tensor, type TensorLike } from '../tensor.js';
import { rangeError, typeError } from '../validate.js';

/** A trainable tensor and the gradient that backward() accumulates into it. */
export interface Parameter {
  name: string;
  value: Tensor;
  grad: Tensor;
}

/** Names of the spatial axes, for messages such as "[N, C, H, W] or [C, H, W]". */
const SPATIAL_NAMES: Record<number, string[]> = { 1: ['L'], 2: ['H', 'W'], 3: ['D', 'H', 'W'] };

/**
 * Checks that x is a tensor of rank+2 ([N, C, ...spatial]) or rank+1 ([C, ...spatial]) dimensions
 * and, when `channels` is given, that it has that many channels. Done here rather than left to
 * conv() so that the message names the layer and spells out the layout it expects.
 */
export function checkLayerInput(fn: string, xArg: unknown, rank: number, channels?: number): Tensor {
  const x = checkTensor(fn, 'x', xArg);
  const axes = SPATIAL_NAMES[rank].join(', ');
  const r = x.shape.length;
  if (r !== rank + 2 && r !== rank + 1)
    throw rangeError(fn, `x must have shape [N, C, ${axes}] or [C, ${axes}], got [${x.shape.join(', ')}]`);
  const c = x.shape[r - rank - 1];
  if (channels !== undefined && c !== channels)
    throw rangeError(fn, `x must have ${channels} channels (the layer's inChannels), got ${c} in shape [${x.shape.join(', ')}]`);
  return x;
}

/**
 * Runs `f`, re-throwing a TypeError or RangeError from the functional API with the layer's
 * name in front (the original stays as `cause`). Other errors pass through untouched.
 */
export function inLayer<T>(fn: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError) throw new RangeError(`${fn}: ${e.message}`, { cause: e });
    if (e instanceof TypeError) throw new TypeError(`${fn}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** A per-axis option (kernel size, stride, dilation) as one positive integer per spatial axis. */
export function axisOption(fn: string, arg: string, v: unknown, rank: number, fallback: number, min = 1): number[] {
  if (v === null) throw typeError(fn, arg, `a number or an array of ${rank}`, v);
  return perAxis(fn, arg, v, rank, fallback, min);
}

/**
 * Checks the form of a padding option at construction time. 'same' and 'full' depend on the
 * input size, so they are kept as given and resolved by conv() / pool() on each call.
 */
export function paddingOption(fn: string, v: unknown, rank: number): Padding {
  if (v === undefined) return 0;
  if (v === 'valid' || v === 'same' || v === 'full') return v;
  const { before, after } = resolvePadding(fn, v, rank, null);
  return before.map((b, a) => [b, after[a]] as const);
}

export type Rng = () => number;

export function checkRng(fn: string, v: unknown): Rng {
  if (v === undefined) return Math.random;
  if (typeof v !== 'function') throw typeError(fn, 'rng', 'a function returning numbers in [0, 1)', v);
  return v as Rng;
}

/** Fills `out` with uniform values in [-bound, bound), drawing from `rng` (checked on every draw). */
export function fillUniform(fn: string, out: Float32Array, bound: number, rng: Rng): void {
  for (let i = 0; i < out.length; i++) {
    const u: unknown = rng();
    if (typeof u !== 'number' || !(u >= 0 && u < 1)) throw rangeError(fn, `rng must return numbers in [0, 1), got ${String(u)}`);
    out[i] = (2 * u - 1) * bound;
  }
}

/** Adds b into a in place (gradient accumulation). */
export function addInto(a: Float32Array, b: Float32Array): void {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
}

/** Rejects option names the layer does not know, so that a typo such as `paddng` is not silently ignored. */
export function checkOptions(fn: string, v: unknown, known: readonly string[]): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw typeError(fn, 'options', 'an options object', v);
  for (const key of Object.keys(v))
    if (!known.includes(key)) throw new TypeError(`${fn}: unknown option "${key}"; the options are ${known.join(', ')}`);
  return v as Record<string, unknown>;
}

/** What every layer offers, so that a model can be a plain array of layers. */
export interface Layer {
  forward(x: TensorLike): Tensor;
  backward(dy: TensorLike): Tensor;
  parameters(): Parameter[];
  zeroGrad(): void;
}
