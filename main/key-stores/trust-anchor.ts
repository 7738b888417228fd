import { X509Certificate } from 'node:crypto';
import { WorkbenchError } from '../../shared/errors';

/** Parses a PEM certificate given in `field`; anything else is a ValidationException naming the field. */
export function parseCertificate(pem: string, field: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new WorkbenchError('ValidationException', `${field} is not a certificate: give the PEM text of an X.509 certificate (-----BEGIN CERTIFICATE-----), e.g. file://customerCA.crt.`, {
      details: { field },
    });
  }
}

/** True when `anchor` issued `certificate`: the names chain and the anchor's key verifies the signature. */
export function issued(anchor: X509Certificate, certificate: X509Certificate): boolean {
  return certificate.checkIssued(anchor) && certificate.verify(anchor.publicKey);
}

/** The same cluster certificate: AWS's "shares a backup history" (a cluster restored from a backup keeps its certificate). */
export function sameCertificate(a: string, b: string): boolean {
  return new X509Certificate(a).fingerprint256 === new X509Certificate(b).fingerprint256;
}
