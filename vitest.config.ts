import { defineConfig } from 'vitest/config';

// Unit specs sit beside the code; integration tests run on real SoftHSM2 tokens under tests/integration.
export default defineConfig({
  test: {
    include: ['shared/**/*.spec.ts', 'main/**/*.spec.ts', 'preload/**/*.spec.ts', 'renderer/**/*.spec.ts', 'tests/integration/**/*.spec.ts', 'tests/electron/**/*.spec.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['tests/global-setup.ts'],
    // `npm run coverage`. V8 sees the test processes only: code the tests run in a child (the HSM host
    // child, the CLI) counts where a spec also loads it in-process. Sources no test loads count as 0 %.
    coverage: {
      provider: 'v8',
      include: ['main/**/*.ts', 'shared/**/*.ts', 'renderer/src/**/*.ts', 'preload/**/*.ts'],
      exclude: ['**/*.spec.ts', '**/*.d.ts'],
      // The nested text table has one row per directory (main/, shared/, renderer/ and their folders) above its files.
      reporter: [['text', { summarizer: 'nested' }], 'text-summary', 'json-summary', 'html'],
      reportsDirectory: 'coverage',
      // Figures even when a test fails (a timing test on a loaded machine): the run still exits 1.
      reportOnFailure: true,
    },
  },
});
