import { defineConfig } from 'vitest/config';

// The e2e layer builds network namespaces and so needs root; without root it is
// left out of the run (and the run says so) rather than skipped test by test.
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) console.log('ironlb: not root, test/e2e is not run');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: isRoot ? ['**/node_modules/**'] : ['**/node_modules/**', 'test/e2e/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // .ci/run reads the JSON report to print its `N passed, N failed` line.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});
