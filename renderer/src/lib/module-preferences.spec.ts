import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRememberedValue, loadModulePreference, rememberedEnvironment, saveModulePreference } from './module-preferences';

const STORAGE_KEY = 'hsm-workbench.last-module';

describe('which module environment values are remembered', () => {
  it('keeps values only for names that mark a path or an address', () => {
    for (const name of ['SOFTHSM2_CONF', 'P11_KIT_SERVER_ADDRESS', 'VENDOR_CONF', 'CHRYSTOKI_CONF_PATH', 'HSM_CONFIG', 'LOG_DIR', 'HSM_ADDRESS', 'CERT_FILE', ' softhsm2_conf ']) {
      expect(isRememberedValue(name), name).toBe(true);
    }
    for (const name of ['HSM_PIN', 'VENDOR_PASSWORD', 'API_TOKEN', 'PKCS11_SECRET', 'CONFIG_PASSWORD', 'PATHNAME', 'FILE', '']) {
      expect(isRememberedValue(name), name).toBe(false);
    }
  });

  it('keeps every name, and blanks the other values', () => {
    expect(
      rememberedEnvironment([
        { name: 'SOFTHSM2_CONF', value: '/etc/softhsm2.conf' },
        { name: 'VENDOR_HSM_PASSWORD', value: 'hunter22' },
      ]),
    ).toEqual([
      { name: 'SOFTHSM2_CONF', value: '/etc/softhsm2.conf' },
      { name: 'VENDOR_HSM_PASSWORD', value: '' },
    ]);
  });
});

describe('the saved module preference', () => {
  const stored = new Map<string, string>();

  beforeEach(() => {
    stored.clear();
    const localStorage = { getItem: (key: string) => stored.get(key) ?? null, setItem: (key: string, value: string) => void stored.set(key, value) };
    Object.assign(globalThis, { window: { localStorage } });
  });

  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'window');
  });

  it('never writes a credential-like value to localStorage, and still restores the module and names', () => {
    saveModulePreference({
      modulePath: '/usr/lib/vendor/libpkcs11.so',
      environment: [
        { name: 'P11_KIT_SERVER_ADDRESS', value: 'unix:path=/run/p11.sock' },
        { name: 'VENDOR_HSM_PASSWORD', value: 'hunter22' },
      ],
    });
    expect(stored.get(STORAGE_KEY)).not.toContain('hunter22');
    expect(loadModulePreference()).toEqual({
      modulePath: '/usr/lib/vendor/libpkcs11.so',
      environment: [
        { name: 'P11_KIT_SERVER_ADDRESS', value: 'unix:path=/run/p11.sock' },
        { name: 'VENDOR_HSM_PASSWORD', value: '' },
      ],
    });
  });

  it('does not hand back a secret value an older version saved', () => {
    stored.set(STORAGE_KEY, JSON.stringify({ modulePath: '/m.so', environment: [{ name: 'HSM_PIN', value: '1234' }] }));
    expect(loadModulePreference()?.environment).toEqual([{ name: 'HSM_PIN', value: '' }]);
  });
});
