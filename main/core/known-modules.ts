import { existsSync } from 'node:fs';

interface KnownModule {
  ModulePath: string;
  Description: string;
}

/** Where SoftHSM2 installs itself (demo init needs one of these). */
export const SOFTHSM_MODULES: readonly KnownModule[] = [
  { ModulePath: '/usr/lib/softhsm/libsofthsm2.so', Description: 'SoftHSM2 (Debian, Ubuntu)' },
  { ModulePath: '/usr/lib64/pkcs11/libsofthsm2.so', Description: 'SoftHSM2 (Fedora, RHEL)' },
  { ModulePath: '/usr/local/lib/softhsm/libsofthsm2.so', Description: 'SoftHSM2 (built from source)' },
  { ModulePath: '/opt/homebrew/lib/softhsm/libsofthsm2.so', Description: 'SoftHSM2 (Homebrew, Apple silicon)' },
  { ModulePath: '/usr/local/lib/softhsm/libsofthsm2.dylib', Description: 'SoftHSM2 (Homebrew, Intel)' },
];

/** Where common PKCS#11 libraries install themselves; only those present on this machine are offered. */
const KNOWN_MODULES: readonly KnownModule[] = [
  ...SOFTHSM_MODULES,
  { ModulePath: '/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so', Description: 'p11-kit client (network HSM through p11-kit server)' },
  { ModulePath: '/usr/lib/aarch64-linux-gnu/pkcs11/p11-kit-client.so', Description: 'p11-kit client (network HSM through p11-kit server)' },
  { ModulePath: '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so', Description: 'AWS CloudHSM client' },
  { ModulePath: '/usr/lib/x86_64-linux-gnu/pkcs11/yubihsm_pkcs11.so', Description: 'YubiHSM 2' },
  { ModulePath: '/usr/safenet/lunaclient/lib/libCryptoki2_64.so', Description: 'Thales Luna client' },
  { ModulePath: '/opt/nfast/toolkits/pkcs11/libcknfast.so', Description: 'Entrust nShield' },
  { ModulePath: '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so', Description: 'OpenSC (smart cards, USB tokens)' },
];

export function suggestedModules(exists: (path: string) => boolean = existsSync): KnownModule[] {
  return KNOWN_MODULES.filter((m) => exists(m.ModulePath));
}
