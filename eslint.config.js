// Lint for the whole repo. Besides the baseline (no any, explicit boundary types, type-only imports,
// no floating promises, no console in main), it holds the architecture: which layer may import what.
// tests/integration/layering.spec.ts proves each layering rule fires, so the rules cannot rot silently.
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig, globalIgnores, includeIgnoreFile } from 'eslint/config';
import pluginVue from 'eslint-plugin-vue';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// `node:*` and every bare builtin (`fs`, `fs/promises`, `path`, …); `_http_agent`-style internals too.
const NODE_BUILTINS = { regex: `^(node:.*|(${builtinModules.map(escape).join('|')})(/.*)?)$`, message: 'Node built-ins are not available in this layer.' };
const ELECTRON = { regex: '^electron(/.*)?$', message: 'Only main/electron/ (the shell) and preload/ import electron.' };
const PKCS11JS = { regex: '^pkcs11js(/.*)?$', message: 'Only the HSM host (main/hsm/) imports pkcs11js: PKCS#11 runs in a supervised child process.' };
const LOWDB = { regex: '^(lowdb|steno)(/.*)?$', message: 'Only main/ reads or writes the state file.' };
const VUE = { regex: '^(vue|@vue/.*|pinia)(/.*)?$', message: 'Vue and Pinia belong to renderer/.' };
// Another top-level layer is reached only by walking up (`../../main/…`); a renderer folder that happens to be
// called `main` is not another layer.
const layerPath = (layers, message) => ({ regex: `^(\\.\\./)+(${layers.join('|')})/`, message });
const MAIN = layerPath(['main'], 'This layer talks to main only through the contract in shared/.');
const PRELOAD = layerPath(['preload'], 'Nothing imports the preload: it is a separate, sandboxed bundle.');
const RENDERER = layerPath(['renderer'], 'Nothing imports the renderer: it is untrusted browser code.');
// Banning the package name is not enough: `../hsm/pkcs11-module` (or any module that imports pkcs11js) would load
// PKCS#11 into the parent process. Outside main/hsm/, only its supervisor-side surface may be imported.
const HSM_INTERNALS = {
  regex: '^(\\.\\./)+(main/)?hsm/(?!(hsm-host|hsm-host-client)$)',
  message: 'Outside main/hsm/, import only hsm-host (the interface) and hsm-host-client (the pool): the rest runs in the HSM host child.',
};

/** Named imports from electron that only one wrapper may use (GitHub Desktop's ipc-main / ipc-renderer split). */
const electronNames = (names, message) => ['electron', 'electron/main', 'electron/renderer'].map((name) => ({ name, importNames: names, message }));
const IPC_MAIN_ONLY_IN_WRAPPER = electronNames(['ipcMain'], 'Only main/electron/ipc-main.ts touches ipcMain: it checks the sender and the envelope.');
const IPC_RENDERER_ONLY_IN_PRELOAD = electronNames(['ipcRenderer'], 'Only preload/preload.ts touches ipcRenderer; never expose it.');

// One rule entry per file: flat config replaces (does not merge) a rule's options, so each layer lists everything it bans.
// no-restricted-imports sees only static imports; `import('…')` and `require('…')` of the same modules are caught
// with no-restricted-syntax (for the module-ban patterns; builtins and layer paths stay static-only).
const DYNAMIC_CHECKED = [ELECTRON, PKCS11JS, LOWDB, VUE];
const restrict = ({ paths = [], patterns }) => {
  const dynamic = patterns.filter((pattern) => DYNAMIC_CHECKED.includes(pattern));
  return {
    '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns: patterns.map(({ regex, message }) => ({ regex, message })) }],
    'no-restricted-syntax': [
      'error',
      ...dynamic.flatMap(({ regex, message }) => [
        { selector: `ImportExpression > Literal.source[value=/${regex.replaceAll('/', '\\/')}/]`, message },
        { selector: `CallExpression[callee.name='require'] > Literal.arguments[value=/${regex.replaceAll('/', '\\/')}/]`, message },
      ]),
    ],
  };
};

const layers = [
  { name: 'layer/shared', files: ['shared/**'], rules: restrict({ patterns: [NODE_BUILTINS, ELECTRON, PKCS11JS, LOWDB, VUE, MAIN, PRELOAD, RENDERER] }) },
  { name: 'layer/renderer', files: ['renderer/**'], rules: restrict({ patterns: [NODE_BUILTINS, ELECTRON, PKCS11JS, LOWDB, MAIN, PRELOAD] }) },
  // Sandboxed preloads can load neither Node built-ins nor sibling files: shared/ (bundled in) and electron only.
  { name: 'layer/preload', files: ['preload/**'], rules: restrict({ paths: IPC_MAIN_ONLY_IN_WRAPPER, patterns: [NODE_BUILTINS, PKCS11JS, LOWDB, VUE, MAIN, RENDERER] }) },
  { name: 'layer/main-hsm', files: ['main/hsm/**'], rules: restrict({ patterns: [ELECTRON, VUE, PRELOAD, RENDERER] }) },
  { name: 'layer/main-core', files: ['main/**'], ignores: ['main/electron/**', 'main/hsm/**'], rules: restrict({ patterns: [ELECTRON, PKCS11JS, HSM_INTERNALS, VUE, PRELOAD, RENDERER] }) },
  {
    name: 'layer/main-electron',
    files: ['main/electron/**'],
    ignores: ['main/electron/ipc-main.ts'],
    rules: restrict({ paths: [...IPC_MAIN_ONLY_IN_WRAPPER, ...IPC_RENDERER_ONLY_IN_PRELOAD], patterns: [PKCS11JS, HSM_INTERNALS, VUE, PRELOAD, RENDERER] }),
  },
  { name: 'layer/main-electron-ipc', files: ['main/electron/ipc-main.ts'], rules: restrict({ paths: IPC_RENDERER_ONLY_IN_PRELOAD, patterns: [PKCS11JS, HSM_INTERNALS, VUE, PRELOAD, RENDERER] }) },
];

export default defineConfig([
  globalIgnores(['dist/', 'node_modules/', 'test-results/', 'playwright-report/', 'coverage/', 'release/']),
  // Whatever git ignores (scratch dirs, state dirs) is not source either.
  includeIgnoreFile(fileURLToPath(new URL('.gitignore', import.meta.url)), 'gitignore'),

  js.configs.recommended,
  tseslint.configs.recommended,
  pluginVue.configs['flat/recommended'],
  // Layout is a formatter's job (prettier), not lint's: keep vue's correctness rules, drop its layout ones.
  { name: 'vue/no-layout-rules', files: ['**/*.vue'], rules: pluginVue.configs['no-layout-rules'].rules },

  {
    name: 'baseline',
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },

  // Type-aware rules where cheap: TypeScript sources already covered by the two tsconfigs.
  {
    name: 'typed',
    files: ['**/*.ts', '**/*.mts'],
    languageOptions: { parserOptions: { project: ['./tsconfig.node.json', './tsconfig.web.json'], tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },

  // Vue single-file components: TypeScript inside <script>, without type information (it is not cheap there).
  {
    name: 'vue',
    files: ['renderer/**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' }, globals: globals.browser },
  },
  { name: 'renderer/browser', files: ['renderer/**'], languageOptions: { globals: globals.browser } },

  // Plain JavaScript (this file, scripts, bin): Node globals, no TypeScript-only rules.
  {
    name: 'javascript',
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: globals.node },
    rules: { '@typescript-eslint/explicit-module-boundary-types': 'off' },
  },
  { name: 'node-globals', files: ['main/**', 'tests/**', 'scripts/**', 'bin/**', '*.config.ts'], languageOptions: { globals: globals.node } },

  // main/ logs through the redacting logger; the CLI writes its output to stdout by design.
  { name: 'main/no-console', files: ['main/**'], ignores: ['main/cli/**'], rules: { 'no-console': 'error' } },

  ...layers,
]);
