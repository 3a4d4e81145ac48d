import { defineConfig } from 'vitest/config';

// Tests that exercise kernels run once per kernel set (CONVND_ISA); each run skips itself
// when this CPU lacks that set. Everything else runs once, on the best set.
const isas = ['avx512', 'avx2', 'neon', 'scalar'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'api', include: ['test/*.test.ts'] } },
      ...isas.map((isa) => ({
        extends: true,
        test: { name: `kernels-${isa}`, include: ['test/kernels/*.test.ts'], env: { CONVND_ISA: isa } },
      })),
    ],
  },
});
