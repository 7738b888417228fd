import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { BasicConstraintsExtension, Pkcs10CertificateRequestGenerator, X509Certificate } from '@peculiar/x509';
import { WorkbenchError } from '../../shared/errors';
import { CLUSTER_SIGNING_ALGORITHM, rsaPublicKeyHex, type HsmSigner, type RsaPublicKeyHex } from './hsm-signer';

/*
 * The cluster's PKI in X.509 terms, built and parsed by @peculiar/x509 (no DER is assembled by hand): the
 * CSR signed inside the HSM, and the checks a cluster certificate and its trust anchor must pass before they
 * are stored on the members.
 */

/** The PKCS#10 request for the cluster certificate, signed by the cluster signing key through `signer` (inside the HSM). */
export async function buildClusterCsr(signer: HsmSigner, clusterId: string): Promise<string> {
  const csr = await Pkcs10CertificateRequestGenerator.create({ name: `CN=${clusterId}, O=hsm-workbench`, keys: signer.keys, signingAlgorithm: CLUSTER_SIGNING_ALGORITHM }, signer.crypto);
  return csr.toString('pem');
}

/** A certificate from PEM text; what is wrong with the text is named with the field it came from. */
export function parseCertificate(pem: string, field: 'ClusterCertificate' | 'TrustAnchorCertificate'): X509Certificate {
  try {
    return new X509Certificate(pem.trim());
  } catch (error) {
    throw new WorkbenchError(
      'ValidationException',
      `${field} is not an X.509 certificate in PEM form (-----BEGIN CERTIFICATE-----): ${(error as Error).message}. Nothing was changed. Give the certificate file itself, e.g. file://cluster.crt.`,
      { details: { field } },
    );
  }
}

function incorrectAnchor(reason: string): WorkbenchError {
  return new WorkbenchError('IncorrectTrustAnchorException', `The trust anchor certificate does not vouch for the cluster certificate: ${reason}. Nothing was changed.`);
}

/** The trust anchor must be a CA that issued the cluster certificate, with a valid signature, both within their dates. */
export async function verifyClusterChain(certificate: X509Certificate, anchor: X509Certificate, now: Date = new Date()): Promise<void> {
  if (certificate.issuer !== anchor.subject) throw incorrectAnchor(`the cluster certificate was issued by "${certificate.issuer}", the trust anchor is "${anchor.subject}"`);
  const constraints = anchor.getExtension(BasicConstraintsExtension);
  if (constraints !== null && !constraints.ca) throw incorrectAnchor(`"${anchor.subject}" is not a CA certificate (basicConstraints cA is false)`);
  if (!(await certificate.verify({ publicKey: anchor.publicKey, signatureOnly: true }, webcrypto))) {
    throw incorrectAnchor(`the cluster certificate's signature does not verify with the key of "${anchor.subject}"`);
  }
  for (const [what, cert] of [['cluster certificate', certificate], ['trust anchor certificate', anchor]] as const) {
    if (now < cert.notBefore || now > cert.notAfter) {
      throw new WorkbenchError('ValidationException', `The ${what} is valid from ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}, not now (${now.toISOString()}). Nothing was changed. Issue a current certificate.`);
    }
  }
}

/** Whether the certificate certifies `key` (the token's cluster public key), compared as RSA numbers. */
export async function certifiesKey(certificate: X509Certificate, key: RsaPublicKeyHex): Promise<boolean> {
  let certified: RsaPublicKeyHex;
  try {
    certified = await rsaPublicKeyHex(await certificate.publicKey.export({ ...CLUSTER_SIGNING_ALGORITHM }, ['verify'], webcrypto));
  } catch {
    return false;
  }
  return stripZeros(certified.modulus) === stripZeros(key.modulus) && stripZeros(certified.publicExponent) === stripZeros(key.publicExponent);
}

function stripZeros(hex: string): string {
  return hex.toLowerCase().replace(/^(00)+/, '');
}

/** What a CKO_CERTIFICATE object holds of a certificate: its DER, subject and issuer, hex. */
export function certificateDer(certificate: X509Certificate): { value: string; subject: string; issuer: string } {
  const hex = (buffer: ArrayBuffer): string => Buffer.from(buffer).toString('hex');
  return { value: hex(certificate.rawData), subject: hex(certificate.subjectName.toArrayBuffer()), issuer: hex(certificate.issuerName.toArrayBuffer()) };
}
