import type { ClusterCheck } from './check-definition';

/** A key store connects with one active HSM; creating CMKs needs two (the material is kept on two HSMs). */
export const clusterActiveHsms: ClusterCheck = {
  id: 'cluster.active-hsms',
  title: 'Enough active HSMs',
  scope: 'cluster',
  run({ cluster, activeHsmCount: active, passwordRefusedBy }) {
    const evidence = [`${active} of ${cluster.Hsms.length} HSM(s) active (present, initialised, kmsuser usable, reachable).`];
    if (active === 0) {
      const passwordRefused = passwordRefusedBy !== null;
      return {
        status: 'fail',
        evidence,
        // With the password refused, a connection would stop at the login, before counting HSMs.
        predicted: passwordRefused ? 'INVALID_CREDENTIALS' : 'INSUFFICIENT_CLOUDHSM_HSMS',
        remedy: passwordRefused
          ? 'The kmsuser password was refused, so no HSM can be counted as active. Re-run the checks with the kmsuser password set on the HSMs.'
          : 'A key store cannot connect without at least one active HSM. Fix the failures reported for the individual HSMs (hsm.* checks).',
      };
    }
    if (active === 1) {
      return {
        status: 'warn',
        evidence,
        remedy: 'A key store can connect with one active HSM, but creating CMKs needs at least two (the material is kept on two HSMs). Add or repair an HSM.',
      };
    }
    return { status: 'pass', evidence: [...evidence, 'Two or more: a key store can connect and create CMKs.'] };
  },
};
