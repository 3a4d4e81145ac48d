// binding.gyp (node-gyp, the install fallback) and CMakeLists.txt (cmake-js, the developer
// build) must compile the same sources with the same per-ISA flags.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');

interface GypTarget {
  target_name: string;
  sources?: string[];
  cflags_cc?: string[];
  conditions?: [string, { sources?: string[] }][];
  msvs_settings?: { VCCLCompilerTool?: { AdditionalOptions?: string[] } };
}
interface Gyp {
  targets: GypTarget[];
  conditions: [string, { targets: GypTarget[] }][];
}

// binding.gyp is a Python literal; Python itself reads it faithfully (node-gyp needs python3 anyway).
const gyp = JSON.parse(
  execFileSync('python3', ['-c', 'import ast, json, sys; print(json.dumps(ast.literal_eval(open(sys.argv[1]).read())))', path.join(root, 'binding.gyp')], { encoding: 'utf8' }),
) as Gyp;

const cmake = readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8');
// Last assignment wins: the MSVC branch comes first, the GCC/Clang branch after it.
function cmakeList(name: string, nth: 'first' | 'last' = 'last'): string[] {
  const all = [...cmake.matchAll(new RegExp(`set\\(${name}\\s+([^)]*)\\)`, 'g'))];
  expect(all.length, `CMakeLists.txt sets ${name}`).toBeGreaterThan(0);
  const m = nth === 'first' ? all[0] : all[all.length - 1];
  return m[1].split(/\s+/).filter(Boolean);
}

const allTargets = [...gyp.targets, ...gyp.conditions.flatMap(([, c]) => c.targets)];
const target = (name: string) => {
  const t = allTargets.find((x) => x.target_name === name);
  expect(t, `binding.gyp target ${name}`).toBeDefined();
  return t!;
};

function nativeSources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) return f === 'test' ? [] : nativeSources(p);
    return p.endsWith('.cc') ? [path.relative(root, p).split(path.sep).join('/')] : [];
  });
}

describe('binding.gyp and CMakeLists.txt agree', () => {
  it('compile the same portable sources', () => {
    expect([...target('convnd').sources!].sort()).toEqual(cmakeList('CONVND_SOURCES').sort());
  });

  it('compile each ISA file with the same flags', () => {
    for (const [isa, gcc, msvc] of [['avx2', '-mavx2 -mfma', '/arch:AVX2'], ['avx512', '-mavx512f -mfma', '/arch:AVX512']]) {
      const t = target(`convnd_${isa}`);
      const upper = isa.toUpperCase();
      expect(t.sources).toEqual(cmakeList(`CONVND_${upper}_SOURCES`));
      expect(t.cflags_cc).toEqual(cmakeList(`CONVND_${upper}_FLAGS`));
      expect(t.cflags_cc!.join(' ')).toBe(gcc);
      expect(t.msvs_settings?.VCCLCompilerTool?.AdditionalOptions).toEqual(cmakeList(`CONVND_${upper}_FLAGS`, 'first'));
      expect(cmakeList(`CONVND_${upper}_FLAGS`, 'first')).toEqual([msvc]);
    }
    const arm = target('convnd').conditions!.find(([cond]) => cond.includes('arm64'));
    expect(arm?.[1].sources).toEqual(cmakeList('CONVND_NEON_SOURCES'));
  });

  it('build every native source file exactly once', () => {
    const listed = ['CONVND_SOURCES', 'CONVND_AVX2_SOURCES', 'CONVND_AVX512_SOURCES', 'CONVND_NEON_SOURCES'].flatMap((n) => cmakeList(n));
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(nativeSources(path.join(root, 'native')).sort());
  });
});
