// Conv1d / Conv2d / Conv3d: convolution layers that own their weights, as torch.nn.ConvNd does.
import { conv, convBackward } from '../conv.js';
import type { Padding, PerAxis } from '../options.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { checkBoolean, checkInteger, rangeError } from '../validate.js';
import {
  addInto, axisOption, checkLayerInput, checkOptions, checkRng, fillUniform, inLayer, type Layer, type Parameter,
  paddingOption,
} from './shared.js';

export interface ConvLayerOptions {
  /** Default 1. */
  stride?: PerAxis;
  /** Default 0; also [before, after] pairs, 'valid', 'same' or 'full' as conv() takes them. */
  padding?: Padding;
  /** Default 1. */
  dilation?: PerAxis;
  /** Default 1; must divide inChannels and outChannels. */
  groups?: number;
  /** Whether the layer has a bias; default true. */
  bias?: boolean;
  /** Source of uniform numbers in [0, 1) for initialisation; default Math.random. Pass a seeded one for reproducible weights. */
  rng?: () => number;
}

const OPTION_NAMES = ['stride', 'padding', 'dilation', 'groups', 'bias', 'rng'] as const;

/**
 * The shared implementation; Conv1d, Conv2d and Conv3d only fix the spatial rank.
 *
 * Gradients accumulate, as PyTorch's `.grad` does: each backward() adds into `grad.weight` and
 * `grad.bias`, so call zeroGrad() once per optimisation step (before the backward passes).
 */
export abstract class ConvNd implements Layer {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: Padding;
  readonly dilation: number[];
  readonly groups: number;
  /** [outChannels, inChannels / groups, ...kernelSize]; update its data in place to train or load weights. */
  readonly weight: Tensor;
  /** [outChannels], or null when constructed with bias: false. */
  readonly bias: Tensor | null;
  /** Gradients summed over every backward() since the last zeroGrad(). */
  readonly grad: { weight: Tensor; bias: Tensor | null };

  private readonly name: string;
  private readonly rank: number;
  /** The input of the last forward(); backward() needs it for the weight gradient. */
  private input: Tensor | null = null;

  protected constructor(name: string, rank: number, inChannels: number, outChannels: number, kernelSize: PerAxis, options?: ConvLayerOptions) {
    this.name = name;
    this.rank = rank;
    const opts = checkOptions(name, options, OPTION_NAMES);
    this.inChannels = checkInteger(name, 'inChannels', inChannels, 1);
    this.outChannels = checkInteger(name, 'outChannels', outChannels, 1);
    this.kernelSize = axisOption(name, 'kernelSize', kernelSize, rank, 1);
    this.stride = axisOption(name, 'stride', opts.stride, rank, 1);
    this.padding = paddingOption(name, opts.padding, rank);
    this.dilation = axisOption(name, 'dilation', opts.dilation, rank, 1);
    this.groups = opts.groups === undefined ? 1 : checkInteger(name, 'groups', opts.groups, 1);
    if (this.inChannels % this.groups !== 0) throw rangeError(name, `groups (${this.groups}) must divide inChannels (${this.inChannels})`);
    if (this.outChannels % this.groups !== 0) throw rangeError(name, `groups (${this.groups}) must divide outChannels (${this.outChannels})`);
    const hasBias = checkBoolean(name, 'bias', opts.bias, true);
    const rng = checkRng(name, opts.rng);

    const perGroup = this.inChannels / this.groups;
    const wShape = [this.outChannels, perGroup, ...this.kernelSize];
    this.weight = { data: new Float32Array(wShape.reduce((a, b) => a * b, 1)), shape: wShape };
    this.bias = hasBias ? { data: new Float32Array(this.outChannels), shape: [this.outChannels] } : null;
    // PyTorch's reset_parameters: kaiming_uniform_(a=sqrt(5)) on the weight, whose bound
    // sqrt(6 / ((1 + a^2) fan_in)) reduces to 1/sqrt(fan_in), and the same bound for the bias.
    const fanIn = perGroup * this.kernelSize.reduce((a, b) => a * b, 1);
    const bound = 1 / Math.sqrt(fanIn);
    fillUniform(name, this.weight.data, bound, rng);
    if (this.bias) fillUniform(name, this.bias.data, bound, rng);

    this.grad = {
      weight: { data: new Float32Array(this.weight.data.length), shape: [...wShape] },
      bias: this.bias ? { data: new Float32Array(this.outChannels), shape: [this.outChannels] } : null,
    };
  }

  private convOptions() {
    return { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
  }

  /** y = conv(x, weight) + bias for x of [N, C, ...spatial] or [C, ...spatial]. Keeps a reference to x (not a copy) for backward(). */
  forward(x: TensorLike): Tensor {
    const fn = `${this.name}.forward`;
    const input = checkLayerInput(fn, x, this.rank, this.inChannels);
    const y = inLayer(fn, () => conv(input, this.weight, { ...this.convOptions(), bias: this.bias }));
    this.input = input;
    return y;
  }

  /**
   * Given dy = dLoss/dy for the last forward(), adds dLoss/dweight and dLoss/dbias into `grad`
   * and returns dLoss/dx. The saved input must not have been modified since forward().
   */
  backward(dy: TensorLike): Tensor {
    const fn = `${this.name}.backward`;
    const x = this.input;
    if (x === null) throw new Error(`${fn}: no saved input; call forward(x) before backward(dy)`);
    const g = inLayer(fn, () =>
      convBackward(dy, x, this.weight, { ...this.convOptions(), grads: { input: true, weight: true, bias: this.bias !== null } }));
    addInto(this.grad.weight.data, g.dw!.data);
    if (this.grad.bias && g.db) addInto(this.grad.bias.data, g.db.data);
    return g.dx!;
  }

  /** The weight and (if any) the bias, each with its gradient; the tensors are the layer's own, so updating `value.data` trains the layer. */
  parameters(): Parameter[] {
    const params: Parameter[] = [{ name: 'weight', value: this.weight, grad: this.grad.weight }];
    if (this.bias && this.grad.bias) params.push({ name: 'bias', value: this.bias, grad: this.grad.bias });
    return params;
  }

  /** Sets the accumulated gradients to zero. */
  zeroGrad(): void {
    this.grad.weight.data.fill(0);
    this.grad.bias?.data.fill(0);
  }
}

/** 1-d convolution over x of [N, C, L] or [C, L]. */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: PerAxis, options?: ConvLayerOptions) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, options);
  }
}

/** 2-d convolution over x of [N, C, H, W] or [C, H, W]. */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: PerAxis, options?: ConvLayerOptions) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, options);
  }
}

/** 3-d convolution over x of [N, C, D, H, W] or [C, D, H, W]. */
export class Conv3d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: PerAxis, options?: ConvLayerOptions) {
    super('Conv3d', 3, inChannels, outChannels, kernelSize, options);
  }
}
