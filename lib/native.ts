// Loads the native addon on first use: a prebuild from prebuilds/ or a local build from
// build/Release, whichever node-gyp-build finds for this platform, architecture and libc.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

type Buffer32 = Float32Array;
type Bias = Float32Array | null;

/** Raw entry points. Descriptors are Float64Arrays of integers; see native/binding/args.cc. */
export interface NativeAddon {
  convForward(x: Buffer32, w: Buffer32, b: Bias, y: Buffer32, desc: Float64Array): void;
  convForwardAsync(x: Buffer32, w: Buffer32, b: Bias, y: Buffer32 | null, desc: Float64Array): [Promise<Float32Array>, number];
  convBackwardData(dy: Buffer32, w: Buffer32, b: Bias, dx: Buffer32, desc: Float64Array): void;
  convBackwardDataAsync(dy: Buffer32, w: Buffer32, b: Bias, dx: Buffer32 | null, desc: Float64Array): [Promise<Float32Array>, number];
  convBackwardWeight(dy: Buffer32, x: Buffer32, dw: Buffer32, desc: Float64Array): void;
  convBackwardWeightAsync(dy: Buffer32, x: Buffer32, dw: Buffer32 | null, desc: Float64Array): [Promise<Float32Array>, number];
  convBackwardBias(dy: Buffer32, db: Buffer32, desc: Float64Array): void;
  convBackwardBiasAsync(dy: Buffer32, db: Buffer32 | null, desc: Float64Array): [Promise<Float32Array>, number];
  poolForward(x: Buffer32, y: Buffer32, desc: Float64Array): void;
  poolForwardAsync(x: Buffer32, y: Buffer32 | null, desc: Float64Array): [Promise<Float32Array>, number];
  poolBackward(dy: Buffer32, x: Buffer32, dx: Buffer32, desc: Float64Array): void;
  poolBackwardAsync(dy: Buffer32, x: Buffer32, dx: Buffer32 | null, desc: Float64Array): [Promise<Float32Array>, number];
  // The double-precision reference loops, same arguments as the sync forms (for tests).
  convForwardReference(x: Buffer32, w: Buffer32, b: Bias, y: Buffer32, desc: Float64Array): void;
  convBackwardDataReference(dy: Buffer32, w: Buffer32, b: Bias, dx: Buffer32, desc: Float64Array): void;
  convBackwardWeightReference(dy: Buffer32, x: Buffer32, dw: Buffer32, desc: Float64Array): void;
  convBackwardBiasReference(dy: Buffer32, db: Buffer32, desc: Float64Array): void;
  poolForwardReference(x: Buffer32, y: Buffer32, desc: Float64Array): void;
  poolBackwardReference(dy: Buffer32, x: Buffer32, dx: Buffer32, desc: Float64Array): void;
  backendInfo(): { isa: string; threads: number; supported: string[] };
  setNumThreads(n: number): void;
  /** Cancels a queued async job that has not started; true if it was cancelled. */
  cancelJob(id: number): boolean;
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
    // CONVND_ADDON_PATH loads a specific build (the sanitizer build of `npm run test:asan`).
    file = process.env.CONVND_ADDON_PATH ? path.resolve(process.env.CONVND_ADDON_PATH) : gypBuild.resolve(root);
  } catch (e) {
    throw new Error(noBinaryMessage(root, 'no native binary fits', e));
  }
  try {
    loaded = { addon: req(file) as NativeAddon, file };
  } catch (e) {
    // A binary that exists but does not load: another libc or libstdc++, or a broken build.
    throw new Error(noBinaryMessage(root, `${file} does not load`, e));
  }
  return loaded.addon;
}

/**
 * Why no binary could be used: the target, what was tried, how to fix it. One message for the
 * run-time error and for a failed install (scripts/install-failed.js prints it).
 */
export function noBinaryMessage(root: string, problem: string, cause?: unknown): string {
  const dirs = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
  const shipped = dirs(path.join(root, 'prebuilds')).flatMap((d) => dirs(path.join(root, 'prebuilds', d)).map((f) => `${d}/${f}`));
  const compilers: Record<string, string> = {
    linux: 'Debian/Ubuntu: apt-get install python3 make g++; Alpine: apk add python3 make g++; Fedora: dnf install python3 make gcc-c++',
    darwin: 'xcode-select --install',
    win32: "Python 3 and Visual Studio Build Tools with the 'Desktop development with C++' workload",
  };
  const compiler = compilers[process.platform] ?? 'python3, make and a C++17 compiler';
  return [
    `convnd: ${problem} for ${process.platform}-${process.arch} (${libc()}, Node ${process.version}, Node-API ${process.versions.napi}).`,
    `Tried: ${path.join(root, 'prebuilds', `${process.platform}-${process.arch}`)} (the package ships: ${shipped.join(', ') || 'no prebuilds'})`,
    `  and a local build in ${path.join(root, 'build', 'Release')}.`,
    `Fix: build it from source. Install python3, make and a C++17 compiler (${compiler}),`,
    `  then run 'npm rebuild convnd --build-from-source' in your project (if your npm skips dependencies'`,
    `  install scripts, allow convnd's first: 'npm install-scripts approve convnd').`,
    ...(cause ? [`Cause: ${String((cause as Error).message ?? cause).trim().split('\n')[0]}`] : []),
  ].join('\n');
}

function libc(): string {
  if (process.platform !== 'linux') return 'no libc tag';
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? `glibc ${report.header.glibcVersionRuntime}` : 'musl';
}
