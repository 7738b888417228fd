import { defineConfig } from 'vitest/config';

// Unit specs sit beside the code; integration tests run on real SoftHSM2 tokens under tests/integration.
export default defineConfig({
  test: {
    include: ['shared/**/*.spec.ts', 'main/**/*.spec.ts', 'preload/**/*.spec.ts', 'renderer/**/*.spec.ts', 'tests/integration/**/*.spec.ts', 'tests/electron/**/*.spec.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['tests/global-setup.ts'],
  },
});
