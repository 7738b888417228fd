import { errorEvidence, failureVerdict } from '../check-result';
import type { ModuleCheck } from './check-definition';

/** The cluster's PKCS#11 library loads (C_Initialize) and describes itself (C_GetInfo). */
export const moduleLoads: ModuleCheck = {
  id: 'module.loads',
  title: 'PKCS#11 module loads',
  scope: 'module',
  async run({ cluster, host, timeout }) {
    try {
      const info = await host.getModuleInfo(timeout);
      return {
        status: 'pass',
        evidence: [cluster.ModulePath, `Library: ${info.LibraryDescription} ${info.LibraryVersion} by ${info.ManufacturerId}`, `Cryptoki ${info.CryptokiVersion}`],
      };
    } catch (error) {
      return {
        status: 'fail',
        evidence: [cluster.ModulePath, errorEvidence(error)],
        ...failureVerdict(error, {
          predicted: 'CLUSTER_NOT_FOUND',
          remedy:
            'The workbench cannot use this PKCS#11 library, so it cannot find the cluster. Check the module path (it must be the vendor\'s PKCS#11 shared library, e.g. /usr/lib/softhsm/libsofthsm2.so) and the module environment (e.g. SOFTHSM2_CONF), then re-run the checks.',
        }),
        skipRest: 'The module did not load.',
      };
    }
  },
};
