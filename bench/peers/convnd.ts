// convnd itself, through its public API (forward into a preallocated `out`).
import {
  avgPool, avgPoolBackward, conv, convBackward, maxPool, maxPoolBackward, setNumThreads, type ConvOptions, type PoolOptions,
} from '../../lib/index.js';
import type { Case, ConvCase, Op, PoolCase } from '../cases.js';
import type { CaseData } from '../data.js';
import { outputShape, product } from '../work.js';
import type { Peer, Prepared } from './types.js';

function convOptions(c: ConvCase): ConvOptions {
  return { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
}

function poolOptions(c: PoolCase): PoolOptions {
  return { kernel: c.kernel, stride: c.stride, padding: c.padding };
}

function prepareConv(c: ConvCase, op: Op, data: CaseData): Prepared {
  const x = { data: data.x, shape: c.x };
  const w = { data: data.w!, shape: c.w };
  const yShape = outputShape(c);
  if (op === 'forward') {
    const out = new Float32Array(product(yShape));
    const opts = { ...convOptions(c), out };
    return { run: () => { conv(x, w, opts); }, output: () => out, dispose: () => {} };
  }
  // The gradient goes into a preallocated array too, as the forward's output does: a fresh
  // array each call measured V8's allocator and the page faults of its first touch (the 1x1
  // layer's 3.2 MB dx: 2.9 ms a call on two threads, against 1.1 ms for the kernels).
  const dy = { data: data.dy, shape: yShape };
  const input = op === 'backward-data';
  const grad = new Float32Array(product(input ? c.x : c.w));
  const opts = {
    ...convOptions(c),
    grads: { input, weight: !input, bias: false },
    out: input ? { dx: grad } : { dw: grad },
  };
  return { run: () => { convBackward(dy, x, w, opts); }, output: () => grad, dispose: () => {} };
}

function preparePool(c: PoolCase, op: Op, data: CaseData): Prepared {
  const x = { data: data.x, shape: c.x };
  const yShape = outputShape(c);
  if (op === 'forward') {
    const out = new Float32Array(product(yShape));
    const opts = { ...poolOptions(c), out };
    const fn = c.kind === 'maxpool' ? maxPool : avgPool;
    return { run: () => { fn(x, opts); }, output: () => out, dispose: () => {} };
  }
  const dy = { data: data.dy, shape: yShape };
  const dx = new Float32Array(product(c.x));
  const opts = { ...poolOptions(c), out: dx };
  const fn = c.kind === 'maxpool' ? maxPoolBackward : avgPoolBackward;
  return { run: () => { fn(dy, x, opts); }, output: () => dx, dispose: () => {} };
}

export function convndPeer(version: string): Peer {
  return {
    key: 'convnd',
    label: 'convnd',
    version,
    effectiveThreads: (threads) => threads,
    unsupported: () => null,
    async prepare(c: Case, op: Op, data: CaseData, threads: number): Promise<Prepared> {
      setNumThreads(threads);
      return c.kind === 'conv' ? prepareConv(c, op, data) : preparePool(c, op, data);
    },
  };
}
