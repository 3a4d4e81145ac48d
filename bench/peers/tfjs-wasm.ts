// TensorFlow.js on its WebAssembly backend (XNNPACK, SIMD), channels-last (NHWC) as TensorFlow expects.
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfWasm from '@tensorflow/tfjs-backend-wasm';
import type { Case, ConvCase, Op, PoolCase } from '../cases.js';
import { isDepthwise } from '../cases.js';
import { type CaseData, permute, toChannelsFirst, toChannelsLast, weightToKernelFirst } from '../data.js';
import type { Peer, Prepared } from './types.js';

type Tf = typeof TfCore;
type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

export interface TfjsSetup {
  tf: Tf;
  /** Threads the backend really runs on (the Node.js build of tfjs-backend-wasm is single-threaded). */
  threads: number;
  simd: boolean;
}

/**
 * Initializes the wasm backend once per process. Threads must be chosen before that; we ask for
 * `threads`, and report what the backend says it got.
 */
export async function initTfjsWasm(tf: Tf, wasm: typeof TfWasm, threads: number): Promise<TfjsSetup> {
  wasm.setThreadsCount(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialize');
  await tf.ready();
  return { tf, threads: wasm.getThreadsCount(), simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) };
}

interface Geometry { x: number[]; padding: number[]; stride: number[]; kernel: number[]; dilation: number[] }

/** 'valid' for no padding, 'same' when TF's SAME_UPPER picks exactly the symmetric padding, else null. */
function namedPadding(g: Geometry): 'valid' | 'same' | null {
  if (g.padding.every((p) => p === 0)) return 'valid';
  const same = g.x.slice(2).every((n, a) => {
    const out = Math.ceil(n / g.stride[a]);
    const total = Math.max((out - 1) * g.stride[a] + g.dilation[a] * (g.kernel[a] - 1) + 1 - n, 0);
    return total === 2 * g.padding[a];
  });
  return same ? 'same' : null;
}

/**
 * Padding as tfjs takes it: 'valid' / 'same' where they match (tfjs 4.22 computes a wrong output size for
 * conv1d with a number and dilation), else a number (2-d only); null when tfjs cannot express it.
 */
function tfPadding(g: Geometry): Pad | null {
  const named = namedPadding(g);
  if (named) return named;
  if (g.padding.length === 2) return g.padding[0] === g.padding[1] ? g.padding[0] : [[0, 0], [g.padding[0], g.padding[0]], [g.padding[1], g.padding[1]], [0, 0]];
  return null; // conv1d with dilation, conv3d and maxPool3d: 'valid' or 'same' only
}

const convGeometry = (c: ConvCase): Geometry => ({ ...c, kernel: c.w.slice(2) });
const poolGeometry = (c: PoolCase): Geometry => ({ ...c, dilation: c.kernel.map(() => 1) });

function convUnsupported(c: ConvCase): string | null {
  const rank = c.w.length - 2;
  if (c.groups > 1 && !(rank === 2 && isDepthwise(c))) return 'no grouped convolution (only depthwise 2-d)';
  if (rank === 1 && c.stride[0] > 1 && c.dilation[0] > 1) return 'conv1d: stride and dilation cannot both exceed 1';
  if (tfPadding(convGeometry(c)) === null) return `conv${rank}d: padding must be 'valid' or 'same'`;
  return null;
}

function poolUnsupported(c: PoolCase): string | null {
  if (c.kind === 'avgpool' && c.padding.some((p) => p > 0)) return 'avgPool excludes padding from the divisor';
  if (c.x.length === 3) return 'no 1-d pooling';
  if (tfPadding(poolGeometry(c)) === null) return "pool3d: padding must be 'valid' or 'same'";
  return null;
}

export function tfjsWasmPeer(setup: TfjsSetup, version: string): Peer {
  const { tf } = setup;
  return {
    key: 'tfjs',
    label: 'tfjs-wasm',
    version,
    effectiveThreads: () => setup.threads,
    unsupported(c: Case, op: Op): string | null {
      if (op !== 'forward') return 'forward only in this benchmark';
      return c.kind === 'conv' ? convUnsupported(c) : poolUnsupported(c);
    },
    async prepare(c: Case, _op: Op, data: CaseData): Promise<Prepared> {
      const xl = toChannelsLast(data.x, c.x);
      const x = tf.tensor(xl.data, xl.shape, 'float32');
      const tensors: TfCore.Tensor[] = [x];
      let call: () => TfCore.Tensor;
      if (c.kind === 'conv') {
        const rank = c.w.length - 2;
        // Depthwise: convnd [C, 1, kh, kw] -> TF [kh, kw, C, 1]; otherwise [K, C, ...k] -> [...k, C, K].
        const wl = isDepthwise(c) ? permute(data.w!, c.w, [2, 3, 0, 1]) : weightToKernelFirst(data.w!, c.w);
        const w = tf.tensor(wl.data, wl.shape, 'float32');
        tensors.push(w);
        if (rank === 1) {
          const x3 = x as TfCore.Tensor3D;
          const w3 = w as TfCore.Tensor3D;
          const p = tfPadding(convGeometry(c)) as 'valid' | 'same' | number;
          call = () => tf.conv1d(x3, w3, c.stride[0], p, 'NWC', c.dilation[0]);
        } else if (rank === 2) {
          const x4 = x as TfCore.Tensor4D;
          const w4 = w as TfCore.Tensor4D;
          const s = c.stride as [number, number];
          const d = c.dilation as [number, number];
          const p = tfPadding(convGeometry(c))!;
          call = isDepthwise(c)
            ? () => tf.depthwiseConv2d(x4, w4, s, p, 'NHWC', d)
            : () => tf.conv2d(x4, w4, s, p, 'NHWC', d);
        } else {
          const x5 = x as TfCore.Tensor5D;
          const w5 = w as TfCore.Tensor5D;
          const p = tfPadding(convGeometry(c)) as 'valid' | 'same';
          const s = c.stride as [number, number, number];
          const d = c.dilation as [number, number, number];
          call = () => tf.conv3d(x5, w5, s, p, 'NDHWC', d);
        }
      } else if (c.x.length === 4) {
        const x4 = x as TfCore.Tensor4D;
        const k = c.kernel as [number, number];
        const s = c.stride as [number, number];
        const p = tfPadding(poolGeometry(c))!;
        call = c.kind === 'maxpool' ? () => tf.maxPool(x4, k, s, p) : () => tf.avgPool(x4, k, s, p);
      } else {
        const x5 = x as TfCore.Tensor5D;
        const k = c.kernel as [number, number, number];
        const s = c.stride as [number, number, number];
        const p = tfPadding(poolGeometry(c)) as 'valid' | 'same';
        call = c.kind === 'maxpool' ? () => tf.maxPool3d(x5, k, s, p) : () => tf.avgPool3d(x5, k, s, p);
      }
      let last: TfCore.Tensor | null = null;
      return {
        // The wasm backend computes eagerly inside the op call; the result stays in the wasm heap.
        run: () => {
          last?.dispose();
          last = call();
        },
        output: async () => {
          if (!last) last = call();
          const data = (await last.data()) as Float32Array;
          return toChannelsFirst(data, last.shape).data;
        },
        dispose: () => {
          last?.dispose();
          last = null;
          for (const t of tensors) t.dispose();
        },
      };
    },
  };
}
