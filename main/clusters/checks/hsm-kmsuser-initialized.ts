import { memberToken, type MemberCheck } from './check-definition';

/** kmsuser is the token's normal user (CKU_USER): it exists once the SO has set the user PIN. */
export const hsmKmsuserInitialized: MemberCheck = {
  id: 'hsm.kmsuser-initialized',
  title: 'kmsuser (user PIN) is initialised',
  scope: 'member',
  run(ctx) {
    if (memberToken(ctx).flags.has('CKF_USER_PIN_INITIALIZED')) return { status: 'pass', evidence: ['CKF_USER_PIN_INITIALIZED is set.'] };
    return {
      status: 'fail',
      evidence: ['CKF_USER_PIN_INITIALIZED is not set: the token has no user (kmsuser) PIN.'],
      predicted: 'USER_NOT_FOUND',
      remedy: 'Create the kmsuser crypto user: the token\'s security officer sets the user PIN (C_InitPIN, e.g. `pkcs11-tool --init-pin --login --login-type so`, or the kmsuser setup wizard).',
      inactive: true,
    };
  },
};
