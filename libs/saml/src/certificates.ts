import { X509Certificate } from 'node:crypto';
import { SamlValidationError } from './errors';
import { toPem } from './idp-metadata';

export interface CertificateInfo {
  subject: string;
  notAfter: string;
  fingerprintSha256: string;
  daysLeft: number;
  /** expired, or expiring within the warning window. */
  status: 'valid' | 'expiring' | 'expired';
}

/** Base64 DER (as in metadata) or PEM → base64 DER, refusing what is not an X.509 certificate. */
export function normaliseCertificate(input: string): string {
  const der = input.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  try {
    new X509Certificate(toPem(der));
  } catch {
    throw new SamlValidationError('malformed', 'a signing certificate is not a valid X.509 certificate');
  }
  return der;
}

/** What an admin needs to see of an IdP signing certificate, with an expiry warning. */
export function certificateInfo(base64Der: string, warnDays = 30, now = new Date()): CertificateInfo {
  const cert = new X509Certificate(toPem(base64Der));
  const notAfter = new Date(cert.validTo);
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    notAfter: notAfter.toISOString(),
    fingerprintSha256: cert.fingerprint256,
    daysLeft,
    status: daysLeft < 0 ? 'expired' : daysLeft <= warnDays ? 'expiring' : 'valid',
  };
}
