// convnd: fast N-dimensional convolution and pooling for Node.js.
export { tensor, type Tensor, type TensorLike } from './tensor.js';
export type { Padding, PerAxis } from './options.js';
export {
  conv, conv1d, conv2d, conv3d, convAsync, convOutputShape, convBackward, convBackwardAsync,
  convTranspose, convTransposeAsync,
  type ConvOptions, type ConvTransposeOptions, type ConvBackwardOptions, type ConvGrads,
} from './conv.js';
export {
  maxPool, minPool, avgPool, maxPoolAsync, minPoolAsync, avgPoolAsync,
  maxPoolBackward, minPoolBackward, avgPoolBackward,
  maxPoolBackwardAsync, minPoolBackwardAsync, avgPoolBackwardAsync,
  type PoolOptions,
} from './pool.js';
export { backendInfo, setNumThreads, getNumThreads, type BackendInfo, type Isa } from './runtime.js';
export * from './layers.js';
