import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, Pkcs10CertificateRequest, PemConverter, X509Certificate, X509CertificateGenerator } from '@peculiar/x509';
import { DEMO_CA_LABEL } from '../../shared/contract/clusters';
import { WorkbenchError } from '../../shared/errors';
import { readTextIfExists, writeFileDurably } from '../state/durable-json-file';
import { refuseSymlink, withFileSystemErrors } from '../state/safe-files';

/*
 * The throwaway demo CA: a software RSA key and a self-signed certificate under <stateDir>/demo-ca/<ClusterId>/
 * (directories 0700, key 0600, links refused). It signs one cluster's certificate so a demo needs no real CA.
 * Its subject says DEMO_CA_LABEL, so wherever the certificate shows, so does the warning.
 */

const ALGORITHM = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
const KEY_FILE = 'demo-ca-key.pem';
const CERTIFICATE_FILE = 'demo-ca-certificate.pem';
const DAY_MS = 86_400_000;

export function demoCaCertificatePath(stateDir: string, clusterId: string): string {
  return join(stateDir, 'demo-ca', clusterId, CERTIFICATE_FILE);
}

async function privateDirectory(path: string): Promise<void> {
  const info = await refuseSymlink(path, { what: 'The demo CA directory' });
  if (info !== undefined && !info.isDirectory()) throw new WorkbenchError('FileSystemException', `${path} is not a directory. Move it aside and try again; nothing was changed.`, { details: { path } });
  if (info === undefined) await withFileSystemErrors('create the demo CA directory', path, () => mkdir(path, { mode: 0o700 }));
}

interface DemoCa {
  certificate: X509Certificate;
  privateKey: webcrypto.CryptoKey;
}

/** The cluster's demo CA, made on first use; an interrupted first use (a key without its certificate) is made again. */
async function openDemoCa(stateDir: string, clusterId: string): Promise<DemoCa> {
  await privateDirectory(join(stateDir, 'demo-ca'));
  const dir = join(stateDir, 'demo-ca', clusterId);
  await privateDirectory(dir);
  const [keyPem, certificatePem] = await Promise.all([readTextIfExists(join(dir, KEY_FILE), 'The demo CA key'), readTextIfExists(join(dir, CERTIFICATE_FILE), 'The demo CA certificate')]);
  if (keyPem !== null && certificatePem !== null) {
    const privateKey = await webcrypto.subtle.importKey('pkcs8', PemConverter.decodeFirst(keyPem), ALGORITHM, false, ['sign']);
    return { certificate: new X509Certificate(certificatePem), privateKey };
  }
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomBytes(8).toString('hex').replace(/^[89a-f]/, '1'),
      name: `CN=hsm-workbench ${DEMO_CA_LABEL}, OU=${clusterId}`,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 3650 * DAY_MS),
      keys,
      signingAlgorithm: ALGORITHM,
      extensions: [new BasicConstraintsExtension(true, 0, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true)],
    },
    webcrypto,
  );
  // The key first: a certificate whose key is lost would be a trust anchor nothing can sign for.
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  await writeFileDurably(join(dir, KEY_FILE), PemConverter.encode(pkcs8, 'PRIVATE KEY'), { mode: 0o600, what: 'The demo CA key' });
  await writeFileDurably(join(dir, CERTIFICATE_FILE), certificate.toString('pem'), { mode: 0o600, what: 'The demo CA certificate' });
  return { certificate, privateKey: keys.privateKey };
}

/** Signs the cluster's CSR with its demo CA: the cluster certificate and the trust anchor, PEM. */
export async function issueWithDemoCa(stateDir: string, clusterId: string, csrPem: string): Promise<{ ClusterCertificate: string; TrustAnchorCertificate: string; TrustAnchorCertificatePath: string }> {
  const ca = await openDemoCa(stateDir, clusterId);
  const csr = new Pkcs10CertificateRequest(csrPem);
  const now = Date.now();
  const certificate = await X509CertificateGenerator.create(
    {
      serialNumber: randomBytes(8).toString('hex').replace(/^[89a-f]/, '1'),
      subject: csr.subject,
      issuer: ca.certificate.subject,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 365 * DAY_MS),
      publicKey: csr.publicKey,
      signingKey: ca.privateKey,
      signingAlgorithm: ALGORITHM,
      extensions: [new BasicConstraintsExtension(false, undefined, true), new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign, true)],
    },
    webcrypto,
  );
  return { ClusterCertificate: certificate.toString('pem'), TrustAnchorCertificate: ca.certificate.toString('pem'), TrustAnchorCertificatePath: demoCaCertificatePath(stateDir, clusterId) };
}
