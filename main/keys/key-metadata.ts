import type { KeyMetadata, KeyState } from '../../shared/contract/keys';
import type { CmkRecord, CustomKeyStoreRecord } from '../state/records';

/**
 * The state AWS shows: a key whose store is not CONNECTED is `Unavailable`, except a key pending deletion
 * (still visible and cancellable) and one still being created. The stored state is kept underneath, so an
 * enable or disable while unavailable takes effect on reconnect.
 */
export function effectiveKeyState(key: Pick<CmkRecord, 'KeyState'>, store: Pick<CustomKeyStoreRecord, 'ConnectionState'> | undefined): KeyState {
  if (key.KeyState === 'PendingDeletion' || key.KeyState === 'Creating') return key.KeyState;
  return store?.ConnectionState === 'CONNECTED' ? key.KeyState : 'Unavailable';
}

/** AWS's KeyMetadata of a key in an AWS CloudHSM key store. */
export function toKeyMetadata(key: Readonly<CmkRecord>, store: Pick<CustomKeyStoreRecord, 'ConnectionState'> | undefined): KeyMetadata {
  const state = effectiveKeyState(key, store);
  return {
    AWSAccountId: key.AWSAccountId,
    KeyId: key.KeyId,
    Arn: key.Arn,
    CreationDate: key.CreationDate,
    Enabled: state === 'Enabled',
    Description: key.Description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: state,
    ...(key.DeletionDate !== undefined ? { DeletionDate: key.DeletionDate } : {}),
    Origin: 'AWS_CLOUDHSM',
    CustomKeyStoreId: key.CustomKeyStoreId,
    CloudHsmClusterId: key.CloudHsmClusterId,
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
    ...(key.PendingDeletionWindowInDays !== undefined ? { PendingDeletionWindowInDays: key.PendingDeletionWindowInDays } : {}),
  };
}
