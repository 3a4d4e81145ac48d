// The fuzz script (scripts/fuzz-native.ts) in a child process: a crash below the TypeScript
// checks would kill the child, never the test runner.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect, it } from 'vitest';

it('raw native entry points survive 2,000 malformed calls', () => {
  const root = path.resolve(__dirname, '..');
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'fuzz-native.ts'), '2000', '7'], {
    cwd: root, encoding: 'utf8', timeout: 120_000,
  });
  expect(run.stderr).not.toMatch(/threw/);
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/fuzz: 2000 calls, \d+ returned, \d+ threw TypeError\/RangeError, 0 crashes/);
});
