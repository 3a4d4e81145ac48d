// Loads the native addon on first use: a prebuild from prebuilds/ or a local build from
// build/Release, whichever node-gyp-build finds for this platform, architecture and libc.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

type Buffer32 = Float32Array;
type Bias = Float32Array | null;

/** Raw entry points. Descriptors are flat integer arrays; see native/binding/args.cc. */
export interface NativeAddon {
  convForward(x: Buffer32, w: Buffer32, b: Bias, y: Buffer32, desc: number[]): void;
  convForwardAsync(x: Buffer32, w: Buffer32, b: Bias, y: Buffer32, desc: number[]): Promise<void>;
  convBackwardData(dy: Buffer32, w: Buffer32, b: Bias, dx: Buffer32, desc: number[]): void;
  convBackwardDataAsync(dy: Buffer32, w: Buffer32, b: Bias, dx: Buffer32, desc: number[]): Promise<void>;
  convBackwardWeight(dy: Buffer32, x: Buffer32, dw: Buffer32, desc: number[]): void;
  convBackwardWeightAsync(dy: Buffer32, x: Buffer32, dw: Buffer32, desc: number[]): Promise<void>;
  convBackwardBias(dy: Buffer32, db: Buffer32, desc: number[]): void;
  convBackwardBiasAsync(dy: Buffer32, db: Buffer32, desc: number[]): Promise<void>;
  poolForward(x: Buffer32, y: Buffer32, desc: number[]): void;
  poolForwardAsync(x: Buffer32, y: Buffer32, desc: number[]): Promise<void>;
  poolBackward(dy: Buffer32, x: Buffer32, dx: Buffer32, desc: number[]): void;
  poolBackwardAsync(dy: Buffer32, x: Buffer32, dx: Buffer32, desc: number[]): Promise<void>;
  backendInfo(): { isa: string; threads: number; supported: string[] };
  setNumThreads(n: number): void;
  /** FMA rate of the active kernel set on `threads` threads, GF/s (for benchmarks). */
  peakGflops(threads: number, milliseconds: number): number;
}

const req = createRequire(__filename);

/** The folder holding convnd's package.json, from lib/ (sources) or dist/cjs/ (build). */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'convnd')
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('convnd: cannot find its own package.json above ' + __dirname);
    dir = parent;
  }
}

let loaded: { addon: NativeAddon; file: string } | null = null;

export function addonFile(): string {
  return native() && loaded!.file;
}

export function native(): NativeAddon {
  if (loaded) return loaded.addon;
  const root = packageRoot();
  const gypBuild = req('node-gyp-build') as { resolve(dir: string): string };
  let file: string;
  try {
    file = gypBuild.resolve(root);
  } catch (e) {
    throw new Error(
      `convnd: no native binary for ${process.platform}-${process.arch} (Node-API, ${libc()}). ` +
        `Looked in ${path.join(root, 'prebuilds')} and ${path.join(root, 'build', 'Release')}. ` +
        `Build one from source with 'npm rebuild convnd --build-from-source' (needs python3, make and a C++17 compiler). ` +
        `Cause: ${(e as Error).message}`,
    );
  }
  loaded = { addon: req(file) as NativeAddon, file };
  return loaded.addon;
}

function libc(): string {
  if (process.platform !== 'linux') return 'no libc tag';
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? `glibc ${report.header.glibcVersionRuntime}` : 'musl';
}
