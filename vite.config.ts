import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./renderer', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/renderer', import.meta.url));

/**
 * Renderer-only build: the Electron shell serves it over a custom protocol and the E2E tests
 * through Playwright's page.route. The CSP forbids inline scripts and styles, so everything is a file.
 */
export default defineConfig({
  root,
  base: './',
  plugins: [vue()],
  build: {
    outDir,
    emptyOutDir: true,
    // Electron 45 and Debian's Chromium are far newer than this floor.
    target: 'chrome128',
    cssCodeSplit: false,
    // The polyfill would be dead code in Chromium; keep the output to the entry and its CSS.
    modulePreload: { polyfill: false },
    // Never inline assets as data: URLs into JS or CSS; they stay files served from 'self'.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
});
