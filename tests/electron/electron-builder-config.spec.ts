import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import type { Configuration } from 'app-builder-lib';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { DebugLogger } from 'builder-util';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * Packaging cannot run here (it downloads Electron), so electron-builder.yml is checked the way
 * electron-builder itself would load and validate it, and its security choices are pinned.
 * ajv and app-builder-lib come with electron-builder (transitive dependencies).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

let config: Configuration;
let validate: ValidateFunction;

beforeAll(async () => {
  // electron-builder's own loader: finds electron-builder.yml, parses the YAML, normalises `files`.
  config = await getConfig(root, null, null);
  const schema: unknown = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8'));
  // No type coercion (electron-builder coerces): "true" where a boolean belongs is a mistake here.
  validate = new Ajv({ allErrors: true, strict: false }).compile(schema as object);
});

describe('electron-builder.yml', () => {
  it('matches electron-builder’s JSON schema', () => {
    const valid = validate(config);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('passes electron-builder’s own validation', async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('is checked by a validator that does reject mistakes', () => {
    expect(validate({ ...config, electronFuses: { ...config.electronFuses, runAsnode: true } })).toBe(false);
    expect(validate({ ...config, asar: 'yes' })).toBe(false);
  });

  it('names the product and ships only the bundles', () => {
    expect(config.productName).toBe('HSM Workbench');
    expect(config.appId).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
    expect(JSON.stringify(config.files)).toContain('dist/**');
    expect(JSON.stringify(config.files)).toContain('package.json');
  });

  it('packs into asar with the pkcs11js native module unpacked and no native rebuild', () => {
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toContain('node_modules/pkcs11js/**');
    expect(config.npmRebuild).toBe(false);
  });

  it('sets the fuses: run-as-node kept for the HSM host child, every injection path closed', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: true,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('targets Linux AppImage + deb, Windows nsis and macOS dmg', () => {
    const targets = (platform: unknown): unknown => (platform as { target?: unknown } | null | undefined)?.target;
    expect(targets(config.linux)).toEqual(['AppImage', 'deb']);
    expect(config.linux?.category).toBe('Utility');
    expect(targets(config.win)).toEqual(['nsis']);
    expect(targets(config.mac)).toEqual(['dmg']);
  });
});
