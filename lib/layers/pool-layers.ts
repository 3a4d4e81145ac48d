// MaxPool{1,2,3}d and AvgPool{1,2,3}d: pooling layers that remember their input for backward().
import type { Padding, PerAxis } from '../options.js';
import { avgPool, avgPoolBackward, maxPool, maxPoolBackward, type PoolOptions } from '../pool.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { checkBoolean } from '../validate.js';
import { axisOption, checkLayerInput, checkOptions, inLayer, type Layer, type Parameter, paddingOption } from './shared.js';

export interface MaxPoolLayerOptions {
  /** Default: the kernel size. */
  stride?: PerAxis;
  /** Default 0; padded cells never win. */
  padding?: Padding;
  /** Default 1. */
  dilation?: PerAxis;
  /** PyTorch's ceil_mode; default false. */
  ceilMode?: boolean;
}

export interface AvgPoolLayerOptions {
  /** Default: the kernel size. */
  stride?: PerAxis;
  /** Default 0. */
  padding?: Padding;
  /** PyTorch's ceil_mode; default false. */
  ceilMode?: boolean;
  /** Divide by the whole window including padding (default true, as PyTorch) or by the cells inside the input. */
  countIncludePad?: boolean;
}

type PoolFn = (x: TensorLike, options: PoolOptions) => Tensor;
type PoolBackwardFn = (dy: TensorLike, x: TensorLike, options: PoolOptions) => Tensor;

/** The shared implementation; the subclasses fix the rank and the kind of pooling. */
export abstract class PoolNd implements Layer {
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: Padding;
  readonly ceilMode: boolean;

  private readonly name: string;
  private readonly rank: number;
  private readonly options: PoolOptions;
  /** The input of the last forward(); max pooling's backward needs it to find the winners. */
  private input: Tensor | null = null;

  protected constructor(
    name: string, rank: number, kernelSize: PerAxis, opts: Record<string, unknown>, extra: Partial<PoolOptions>,
    private readonly pool: PoolFn, private readonly poolBackward: PoolBackwardFn,
  ) {
    this.name = name;
    this.rank = rank;
    this.kernelSize = axisOption(name, 'kernelSize', kernelSize, rank, 1);
    // PyTorch's default stride is the kernel size (non-overlapping windows), not 1.
    this.stride = opts.stride === undefined ? [...this.kernelSize] : axisOption(name, 'stride', opts.stride, rank, 1);
    this.padding = paddingOption(name, opts.padding, rank);
    this.ceilMode = checkBoolean(name, 'ceilMode', opts.ceilMode, false);
    // The kernel is passed as an array so that its length, not x's rank, fixes the spatial rank:
    // an unbatched [C, H, W] input to a 2-d layer would otherwise be read as a batched 1-d one.
    this.options = { kernel: this.kernelSize, stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, ...extra };
  }

  /** Pools x of [N, C, ...spatial] or [C, ...spatial]; keeps a reference to x (not a copy) for backward(). */
  forward(x: TensorLike): Tensor {
    const fn = `${this.name}.forward`;
    const input = checkLayerInput(fn, x, this.rank);
    const y = inLayer(fn, () => this.pool(input, this.options));
    this.input = input;
    return y;
  }

  /** dLoss/dx for the last forward(), given dy = dLoss/dy. */
  backward(dy: TensorLike): Tensor {
    const fn = `${this.name}.backward`;
    const x = this.input;
    if (x === null) throw new Error(`${fn}: no saved input; call forward(x) before backward(dy)`);
    return inLayer(fn, () => this.poolBackward(dy, x, this.options));
  }

  /** Pooling has nothing to train; present so that a model can treat every layer alike. */
  parameters(): Parameter[] {
    return [];
  }

  zeroGrad(): void {}
}

const MAX_OPTIONS = ['stride', 'padding', 'dilation', 'ceilMode'] as const;
const AVG_OPTIONS = ['stride', 'padding', 'ceilMode', 'countIncludePad'] as const;

/** Max pooling; backward sends each gradient to the first cell holding the window's maximum, as PyTorch. */
export abstract class MaxPoolNd extends PoolNd {
  readonly dilation: number[];

  protected constructor(name: string, rank: number, kernelSize: PerAxis, options: MaxPoolLayerOptions | undefined) {
    const opts = checkOptions(name, options, MAX_OPTIONS);
    const dilation = axisOption(name, 'dilation', opts.dilation, rank, 1);
    super(name, rank, kernelSize, opts, { dilation }, maxPool, maxPoolBackward);
    this.dilation = dilation;
  }
}

/** Average pooling. */
export abstract class AvgPoolNd extends PoolNd {
  readonly countIncludePad: boolean;

  protected constructor(name: string, rank: number, kernelSize: PerAxis, options: AvgPoolLayerOptions | undefined) {
    const opts = checkOptions(name, options, AVG_OPTIONS);
    const countIncludePad = checkBoolean(name, 'countIncludePad', opts.countIncludePad, true);
    super(name, rank, kernelSize, opts, { countIncludePad }, avgPool, avgPoolBackward);
    this.countIncludePad = countIncludePad;
  }
}

export class MaxPool1d extends MaxPoolNd {
  constructor(kernelSize: PerAxis, options?: MaxPoolLayerOptions) { super('MaxPool1d', 1, kernelSize, options); }
}
export class MaxPool2d extends MaxPoolNd {
  constructor(kernelSize: PerAxis, options?: MaxPoolLayerOptions) { super('MaxPool2d', 2, kernelSize, options); }
}
export class MaxPool3d extends MaxPoolNd {
  constructor(kernelSize: PerAxis, options?: MaxPoolLayerOptions) { super('MaxPool3d', 3, kernelSize, options); }
}
export class AvgPool1d extends AvgPoolNd {
  constructor(kernelSize: PerAxis, options?: AvgPoolLayerOptions) { super('AvgPool1d', 1, kernelSize, options); }
}
export class AvgPool2d extends AvgPoolNd {
  constructor(kernelSize: PerAxis, options?: AvgPoolLayerOptions) { super('AvgPool2d', 2, kernelSize, options); }
}
export class AvgPool3d extends AvgPoolNd {
  constructor(kernelSize: PerAxis, options?: AvgPoolLayerOptions) { super('AvgPool3d', 3, kernelSize, options); }
}
