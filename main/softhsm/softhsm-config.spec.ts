import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../../shared/errors';
import { locateSoftHsm } from './softhsm-config';

describe('locateSoftHsm', () => {
  it('finds the first installed SoftHSM2 module', () => {
    expect(locateSoftHsm((p) => p === '/usr/lib64/pkcs11/libsofthsm2.so')).toEqual({ modulePath: '/usr/lib64/pkcs11/libsofthsm2.so' });
  });

  it('says how to install SoftHSM2 when it is missing', () => {
    let error: unknown;
    try {
      locateSoftHsm(() => false);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WorkbenchError);
    expect(error).toMatchObject({ name: 'Pkcs11ModuleLoadException', code: 'MODULE_NOT_FOUND' });
    expect((error as Error).message).toContain('sudo apt-get install softhsm2');
  });
});
