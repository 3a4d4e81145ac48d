// The benchmark cases: realistic layer shapes, in convnd's layout (x [N, C, ...spatial], w [K, C/groups, ...kernel]).

export interface ConvCase {
  kind: 'conv';
  name: string;
  /** Where the shape comes from. */
  note: string;
  x: number[];
  w: number[];
  stride: number[];
  /** Symmetric padding per spatial axis. */
  padding: number[];
  dilation: number[];
  groups: number;
}

export interface PoolCase {
  kind: 'maxpool' | 'avgpool';
  name: string;
  note: string;
  x: number[];
  kernel: number[];
  stride: number[];
  padding: number[];
}

export type Case = ConvCase | PoolCase;

/** Forward for everyone; the backward passes are timed for convnd alone (pooling has only a data gradient). */
export type Op = 'forward' | 'backward-data' | 'backward-weight';

const fill = (rank: number, v: number): number[] => new Array<number>(rank).fill(v);

function conv(
  name: string, note: string, x: number[], w: number[],
  o: { stride?: number; padding?: number; dilation?: number; groups?: number } = {},
): ConvCase {
  const rank = w.length - 2;
  return {
    kind: 'conv', name, note, x, w,
    stride: fill(rank, o.stride ?? 1), padding: fill(rank, o.padding ?? 0),
    dilation: fill(rank, o.dilation ?? 1), groups: o.groups ?? 1,
  };
}

function pool(kind: PoolCase['kind'], name: string, note: string, x: number[], k: number, s: number, p = 0): PoolCase {
  const rank = x.length - 2;
  return { kind, name, note, x, kernel: fill(rank, k), stride: fill(rank, s), padding: fill(rank, p) };
}

export const CASES: readonly Case[] = [
  conv('3x3 64>64 56x56 b1', 'ResNet-50 stage 1', [1, 64, 56, 56], [64, 64, 3, 3], { padding: 1 }),
  conv('3x3 128>128 28x28 b8', 'ResNet-50 stage 2, batch 8', [8, 128, 28, 28], [128, 128, 3, 3], { padding: 1 }),
  conv('3x3 512>512 7x7 b1', 'ResNet-50 stage 4', [1, 512, 7, 7], [512, 512, 3, 3], { padding: 1 }),
  conv('1x1 256>64 56x56 b1', 'ResNet-50 bottleneck reduce', [1, 256, 56, 56], [64, 256, 1, 1]),
  conv('stem 7x7/2 3>64 224x224', 'ResNet-50 stem, pad 3', [1, 3, 224, 224], [64, 3, 7, 7], { stride: 2, padding: 3 }),
  conv('3x3/2 128>128 56x56', 'ResNet downsampling, pad 1', [1, 128, 56, 56], [128, 128, 3, 3], { stride: 2, padding: 1 }),
  conv('depthwise 3x3 128ch 56x56', 'MobileNet v1 block 3', [1, 128, 56, 56], [128, 1, 3, 3], { padding: 1, groups: 128 }),
  conv('grouped 3x3 g32 128>128 28x28', 'ResNeXt 32x4d', [1, 128, 28, 28], [128, 4, 3, 3], { padding: 1, groups: 32 }),
  conv('dilated 3x3 d2 64>64 56x56', 'DeepLab-style atrous, pad 2', [1, 64, 56, 56], [64, 64, 3, 3], { padding: 2, dilation: 2 }),
  conv('1d k3 d4 64>64 L16384', 'WaveNet-style dilated, pad 4', [1, 64, 16384], [64, 64, 3], { padding: 4, dilation: 4 }),
  conv('1d k255/4 1>64 L65536', 'learned filterbank on raw audio', [1, 1, 65536], [64, 1, 255], { stride: 4 }),
  conv('3d 3x3x3 32>32 16x56x56', 'video: 16 frames', [1, 32, 16, 56, 56], [32, 32, 3, 3, 3], { padding: 1 }),
  conv('3d 3x3x3 16>16 64^3', 'volume (medical imaging)', [1, 16, 64, 64, 64], [16, 16, 3, 3, 3], { padding: 1 }),
  conv('tiny 3x3 3>8 32x32', 'per-call overhead', [1, 3, 32, 32], [8, 3, 3, 3], { padding: 1 }),
  pool('maxpool', 'maxpool 3x3/2 64x112x112', 'ResNet stem pool, pad 1', [1, 64, 112, 112], 3, 2, 1),
  pool('avgpool', 'avgpool 2x2/2 256x56x56', 'DenseNet transition', [1, 256, 56, 56], 2, 2),
  pool('maxpool', 'maxpool3d 2x2x2/2 32x16x56x56', 'video / volume downsampling', [1, 32, 16, 56, 56], 2, 2),
];

export function opsOf(c: Case, backward: boolean): Op[] {
  if (!backward) return ['forward'];
  return c.kind === 'conv' ? ['forward', 'backward-data', 'backward-weight'] : ['forward', 'backward-data'];
}

export const isDepthwise = (c: ConvCase): boolean => c.groups > 1 && c.groups === c.x[1] && c.w[0] === c.x[1];
