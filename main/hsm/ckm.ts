import { constantNames, constantValues, unknownName } from './pkcs11-constants';

/** CK_MECHANISM_TYPE → CKM_ name. Of two names for one value, the current spec's wins. */
const CKM_NAMES = constantNames('CKM_', ['CKM_EC_KEY_PAIR_GEN']);
const CKM_VALUES = constantValues('CKM_');

export function ckmName(mechanism: number): string {
  return CKM_NAMES.get(mechanism) ?? unknownName('CKM_', mechanism);
}

/** The CKM_ value for a name, or undefined if pkcs11js does not know it. */
export function ckmValue(name: string): number | undefined {
  return CKM_VALUES.get(name);
}
