// Layer classes (torch.nn style) built on the functional API: they own their weights,
// remember their input for backward(), and accumulate gradients until zeroGrad().
export { Conv1d, Conv2d, Conv3d, ConvNd, type ConvLayerOptions } from './layers/conv-layers.js';
export {
  AvgPool1d, AvgPool2d, AvgPool3d, AvgPoolNd, MaxPool1d, MaxPool2d, MaxPool3d, MaxPoolNd, PoolNd,
  type AvgPoolLayerOptions, type MaxPoolLayerOptions,
} from './layers/pool-layers.js';
export type { Layer, Parameter } from './layers/shared.js';
