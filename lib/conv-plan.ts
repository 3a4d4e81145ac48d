// Shape checking and descriptor building for convolution, its gradients and its transpose.
import { checkTensor, type Tensor, type TensorLike } from './tensor.js';
import { type Padding, type PerAxis, perAxis, resolvePadding } from './options.js';
import { checkElements, checkFloat32Array, checkInnermost, checkInteger, checkOptionsObject, lengthOf, rangeError } from './validate.js';

export interface ConvOptions {
  stride?: PerAxis;
  padding?: Padding;
  dilation?: PerAxis;
  groups?: number;
  bias?: TensorLike | Float32Array | null;
  /** Preallocated output of exactly the output's length. */
  out?: Float32Array;
  /** Async calls only: cancels the call if it has not started yet (rejecting with an AbortError). */
  signal?: AbortSignal;
}

export interface ConvTransposeOptions extends ConvOptions {
  /** Extra size added to one side of each axis of the output; smaller than stride or dilation. */
  outputPadding?: PerAxis;
}

/** The forward convolution a call describes, in the addon's terms. */
export interface ConvPlan {
  rank: number;
  batched: boolean;
  batch: number;
  inChannels: number;
  outChannels: number;
  groups: number;
  input: number[];
  kernel: number[];
  output: number[];
  stride: number[];
  dilation: number[];
  padBefore: number[];
  padAfter: number[];
}

/** [N, C, K, groups, in x3, kernel x3, out x3, stride x3, dilation x3, padBefore x3]. */
/**
 * The addon's description of a convolution: a Float64Array, which the addon reads in one call
 * (a plain array costs it one engine call per element). Leading axes a lower-rank problem lacks
 * have size 1 (padding 0).
 */
export function descriptor(p: ConvPlan): Float64Array {
  return writeDescriptor(new Float64Array(22), p);
}

// Allocating a typed array costs about as much as the rest of a small call's checks.
const shared = new Float64Array(22);
// The plan `shared` describes: a loop repeating one call (its plan reused) skips the writes.
let sharedPlan: ConvPlan | null = null;

/**
 * descriptor(p) in one array shared by every call: only for a native call made at once, which
 * copies it before returning (the async entry points too, when they queue their job).
 */
export function descriptorForCall(p: ConvPlan): Float64Array {
  if (p !== sharedPlan) {
    writeDescriptor(shared, p);
    sharedPlan = p;
  }
  return shared;
}

function writeDescriptor(d: Float64Array, p: ConvPlan): Float64Array {
  d[0] = p.batch;
  d[1] = p.inChannels;
  d[2] = p.outChannels;
  d[3] = p.groups;
  putAxes(d, 4, p.input, 1);
  putAxes(d, 7, p.kernel, 1);
  putAxes(d, 10, p.output, 1);
  putAxes(d, 13, p.stride, 1);
  putAxes(d, 16, p.dilation, 1);
  putAxes(d, 19, p.padBefore, 0);
  return d;
}

/** Writes 1-3 per-axis values at d[at..at+3), right-aligned, the missing leading axes = fill. */
export function putAxes(d: Float64Array, at: number, values: readonly number[], fill: number): void {
  const lead = 3 - values.length;
  for (let a = 0; a < 3; a++) d[at + a] = a < lead ? fill : values[a - lead];
}

export function spatialRank(fn: string, w: Tensor): number {
  const rank = w.shape.length - 2;
  if (rank < 1 || rank > 3) throw rangeError(fn, `w must have 3, 4 or 5 dimensions ([K, C/groups, ...kernel] over 1-3 spatial axes), got ${w.shape.length}`);
  return rank;
}

/** Splits x into batch, channels and spatial extents, accepting batched or unbatched input. */
export function splitInput(fn: string, arg: string, x: Tensor, rank: number): { batched: boolean; batch: number; channels: number; spatial: number[] } {
  const r = x.shape.length;
  if (r === rank + 2) return { batched: true, batch: x.shape[0], channels: x.shape[1], spatial: x.shape.slice(2) };
  if (r === rank + 1) return { batched: false, batch: 1, channels: x.shape[0], spatial: x.shape.slice(1) };
  throw rangeError(fn, `${arg} must have ${rank + 2} dimensions [N, C, ...spatial] or ${rank + 1} [C, ...spatial] for a ${rank}-d operation, got shape [${x.shape.join(', ')}]`);
}

function checkGroups(fn: string, opts: Record<string, unknown>): number {
  return opts.groups === undefined ? 1 : checkInteger(fn, 'groups', opts.groups, 1);
}

/** Bias as a Float32Array of `length`, or null. */
export function checkBias(fn: string, bias: unknown, length: number): Float32Array | null {
  if (bias === undefined || bias === null) return null;
  const data = typeof bias === 'object' && 'shape' in (bias as object) ? checkTensor(fn, 'bias', bias).data : checkFloat32Array(fn, 'bias', bias);
  if (lengthOf(data) !== length) throw rangeError(fn, `bias must hold ${length} elements (one per output channel), got ${lengthOf(data)}`);
  return data;
}

function outputExtent(fn: string, input: number, before: number, after: number, kernel: number, stride: number, dilation: number, axis: number): number {
  const out = Math.floor((input + before + after - dilation * (kernel - 1) - 1) / stride) + 1;
  if (out < 1)
    throw rangeError(fn, `output size along spatial axis ${axis} would be ${out}: input ${input} + padding ${before}+${after} is smaller than the dilated kernel ${dilation * (kernel - 1) + 1}`);
  return out;
}

/** Equal numbers, strings or (nested) arrays of them; undefined equals undefined. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
  return true;
}

/**
 * The last forward plan made, and what it was made from. A call repeating the shapes and the
 * geometry options reuses it: the checks would pass again and give the same plan. Small calls in
 * a loop (a 3 -> 8 channel 32x32 layer) spent 2-7 µs planning between native calls, which
 * evict its code and data from the caches; the comparison touches a few values. Plans are never
 * changed after they are made, and nothing a caller receives shares an array with the key (the
 * options are the call's own snapshot).
 */
let lastPlan: { x: number[]; w: number[]; stride: unknown; padding: unknown; dilation: unknown; groups: unknown; plan: ConvPlan } | null = null;

export function planConv(fn: string, x: Tensor, w: Tensor, options: unknown): { plan: ConvPlan; opts: Record<string, unknown> } {
  const opts = checkOptionsObject(fn, 'options', options);
  return { plan: planFromOptions(fn, x, w, opts), opts };
}

/** planConv for options already checked by checkOptionsObject (a snapshot of the caller's). */
export function planFromOptions(fn: string, x: Tensor, w: Tensor, opts: Record<string, unknown>): ConvPlan {
  const last = lastPlan;
  if (last && sameValue(last.x, x.shape) && sameValue(last.w, w.shape) && sameValue(last.stride, opts.stride) &&
      sameValue(last.padding, opts.padding) && sameValue(last.dilation, opts.dilation) && sameValue(last.groups, opts.groups))
    return last.plan;
  const plan = makeConvPlan(fn, x, w, opts);
  // The shapes copied: a checked tensor's shape can reach the caller (convBackward's dx and dw).
  lastPlan = { x: x.shape.slice(), w: w.shape.slice(), stride: opts.stride, padding: opts.padding, dilation: opts.dilation, groups: opts.groups, plan };
  return plan;
}

function makeConvPlan(fn: string, x: Tensor, w: Tensor, opts: Record<string, unknown>): ConvPlan {
  const rank = spatialRank(fn, w);
  const { batched, batch, channels, spatial } = splitInput(fn, 'x', x, rank);
  const groups = checkGroups(fn, opts);
  const [outChannels, perGroup] = w.shape;
  const kernel = w.shape.slice(2);
  if (outChannels % groups !== 0) throw rangeError(fn, `groups=${groups} must divide the ${outChannels} output channels of w`);
  if (perGroup * groups !== channels)
    throw rangeError(fn, `weight expects ${perGroup} input channels per group (groups=${groups}) but x has ${channels} channels`);
  const stride = perAxis(fn, 'stride', opts.stride, rank, 1, 1);
  const dilation = perAxis(fn, 'dilation', opts.dilation, rank, 1, 1);
  const pad = resolvePadding(fn, opts.padding, rank, { input: spatial, kernel, stride, dilation });
  const output = spatial.map((n, a) => outputExtent(fn, n, pad.before[a], pad.after[a], kernel[a], stride[a], dilation[a], a));
  checkElements(fn, 'output', [batch, outChannels, ...output]);
  const last = rank - 1;
  checkInnermost(fn, last, spatial[last], kernel[last], dilation[last], output[last]);
  return { rank, batched, batch, inChannels: channels, outChannels, groups, input: spatial, kernel, output, stride, dilation, padBefore: pad.before, padAfter: pad.after };
}

/** convTranspose(x, w) is the data gradient of a forward convolution whose output is x. */
export function planConvTranspose(fn: string, x: Tensor, w: Tensor, options: unknown): { plan: ConvPlan; opts: Record<string, unknown> } {
  const opts = checkOptionsObject(fn, 'options', options);
  const rank = spatialRank(fn, w);
  const { batched, batch, channels, spatial } = splitInput(fn, 'x', x, rank);
  const groups = checkGroups(fn, opts);
  const [inChannels, outPerGroup] = w.shape;
  const kernel = w.shape.slice(2);
  if (inChannels !== channels)
    throw rangeError(fn, `w expects ${inChannels} input channels (w is [C_in, C_out/groups, ...kernel]) but x has ${channels} channels`);
  if (inChannels % groups !== 0) throw rangeError(fn, `groups=${groups} must divide the ${inChannels} input channels`);
  const stride = perAxis(fn, 'stride', opts.stride, rank, 1, 1);
  const dilation = perAxis(fn, 'dilation', opts.dilation, rank, 1, 1);
  const pad = resolvePadding(fn, opts.padding, rank, null);
  const outputPadding = perAxis(fn, 'outputPadding', opts.outputPadding, rank, 0, 0);
  const output = spatial.map((n, a) => {
    if (outputPadding[a] >= stride[a] && outputPadding[a] >= dilation[a])
      throw rangeError(fn, `outputPadding[${a}]=${outputPadding[a]} must be smaller than stride (${stride[a]}) or dilation (${dilation[a]})`);
    const size = (n - 1) * stride[a] - pad.before[a] - pad.after[a] + dilation[a] * (kernel[a] - 1) + outputPadding[a] + 1;
    if (size < 1) throw rangeError(fn, `output size along spatial axis ${a} would be ${size}: padding ${pad.before[a]}+${pad.after[a]} trims more than the full output`);
    return size;
  });
  checkElements(fn, 'output', [batch, outPerGroup * groups, ...output]);
  const last = rank - 1;
  checkInnermost(fn, last, output[last], kernel[last], dilation[last], spatial[last]);
  // In forward terms: input = this output, output = x, K = C_in, C = C_out.
  return {
    plan: {
      rank, batched, batch, inChannels: outPerGroup * groups, outChannels: inChannels, groups,
      input: output, kernel, output: spatial, stride, dilation, padBefore: pad.before, padAfter: pad.after,
    },
    opts,
  };
}

export function shapeOf(batched: boolean, batch: number, channels: number, spatial: number[]): number[] {
  return batched ? [batch, channels, ...spatial] : [channels, ...spatial];
}

export function checkSameShape(fn: string, arg: string, t: Tensor, expected: number[]): void {
  if (t.shape.length !== expected.length || t.shape.some((s, i) => s !== expected[i]))
    throw rangeError(fn, `${arg} must have the output's shape [${expected.join(', ')}], got [${t.shape.join(', ')}]`);
}

