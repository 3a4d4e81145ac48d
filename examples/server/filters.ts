// The filter bank: small kernels applied to every colour channel on its own, as one depthwise
// convolution (groups = channels) with 'same' padding, so the output has the input's size.
// Borders are zero-padded, as convnd pads: a blur darkens the outermost pixels a little.
import { convAsync, type Tensor } from '../../lib/index.js';
import type { Image } from './pnm.js';

export interface Filter {
  description: string;
  /** Side of the square kernels. */
  size: number;
  /** One kernel, or two (x and y) whose responses combine into a gradient magnitude; row-major. */
  kernels: number[][];
  /** Added to the response, as a fraction of maxval: 0.5 centres signed responses on mid-grey. */
  offset: number;
}

const binomial5 = [1, 4, 6, 4, 1];
const sobelX = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
const sobelY = [-1, -2, -1, 0, 0, 0, 1, 2, 1];

// Every weight is a small dyadic fraction, exact in float32, so results do not depend on rounding
// of the weights themselves.
export const FILTERS: Record<string, Filter> = {
  blur: {
    description: 'Gaussian blur, 5x5 binomial kernel (sigma about 1)',
    size: 5,
    kernels: [binomial5.flatMap((a) => binomial5.map((b) => (a * b) / 256))],
    offset: 0,
  },
  sharpen: { description: 'sharpen: 5 x centre minus the 4 neighbours', size: 3, kernels: [[0, -1, 0, -1, 5, -1, 0, -1, 0]], offset: 0 },
  emboss: { description: 'emboss: diagonal relief on mid-grey', size: 3, kernels: [[-2, -1, 0, -1, 0, 1, 0, 1, 2]], offset: 0.5 },
  edges: { description: 'Sobel edge magnitude sqrt(gx^2 + gy^2)', size: 3, kernels: [sobelX, sobelY], offset: 0 },
  'sobel-x': { description: 'Sobel x gradient / 4, on mid-grey', size: 3, kernels: [sobelX.map((v) => v / 4)], offset: 0.5 },
  'sobel-y': { description: 'Sobel y gradient / 4, on mid-grey', size: 3, kernels: [sobelY.map((v) => v / 4)], offset: 0.5 },
};

/** The depthwise weight [channels * kernels, 1, size, size]: group c holds every kernel for channel c. */
export function filterWeight(filter: Filter, channels: number): Tensor {
  const k = filter.size * filter.size;
  const data = new Float32Array(channels * filter.kernels.length * k);
  for (let c = 0; c < channels; c++)
    filter.kernels.forEach((kernel, j) => data.set(kernel, (c * filter.kernels.length + j) * k));
  return { data, shape: [channels * filter.kernels.length, 1, filter.size, filter.size] };
}

/**
 * Filters `image` off the event loop and returns its new planes (same layout and size). The
 * planes are copied when the call is made; `signal` cancels the work if the client goes away
 * while it waits in the queue.
 */
export async function applyFilter(filter: Filter, image: Image, signal?: AbortSignal): Promise<Float32Array> {
  const { width, height, channels, maxval } = image;
  const x = { data: image.planes, shape: [1, channels, height, width] };
  const y = await convAsync(x, filterWeight(filter, channels), { padding: 'same', groups: channels, signal });
  const offset = filter.offset * maxval;
  if (filter.kernels.length === 1) {
    if (offset !== 0) for (let i = 0; i < y.data.length; i++) y.data[i] += offset;
    return y.data;
  }
  // Two responses per channel (gx, gy), adjacent in the output: combine them into one plane.
  const plane = width * height;
  const out = new Float32Array(channels * plane);
  for (let c = 0; c < channels; c++) {
    const gx = y.data.subarray(2 * c * plane, (2 * c + 1) * plane);
    const gy = y.data.subarray((2 * c + 1) * plane, (2 * c + 2) * plane);
    for (let p = 0; p < plane; p++) out[c * plane + p] = Math.sqrt(gx[p] * gx[p] + gy[p] * gy[p]) + offset;
  }
  return out;
}
