// onnxruntime-node on its default CPU execution provider (MLAS kernels).
import type * as Ort from 'onnxruntime-node';
import type { Case, Op } from '../cases.js';
import type { CaseData } from '../data.js';
import { outputShape, product } from '../work.js';
import { onnxModel } from './onnx-model.js';
import type { Peer, Prepared } from './types.js';

export function onnxruntimePeer(ort: typeof Ort, version: string): Peer {
  return {
    key: 'ort',
    label: 'onnxruntime',
    version,
    effectiveThreads: (threads) => threads,
    unsupported: (_c: Case, op: Op) => (op === 'forward' ? null : 'forward only (no standalone backward op)'),
    async prepare(c: Case, _op: Op, data: CaseData, threads: number): Promise<Prepared> {
      const session = await ort.InferenceSession.create(onnxModel(c, data.w), {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      const yShape = outputShape(c);
      const feeds = { x: new ort.Tensor('float32', data.x, c.x) };
      const y = new Float32Array(product(yShape));
      const fetches = { y: new ort.Tensor('float32', y, yShape) }; // preallocated output
      return {
        run: async () => { await session.run(feeds, fetches); },
        output: () => y,
        dispose: () => session.release(),
      };
    },
  };
}
