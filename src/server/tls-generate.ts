/**
 * `vnp server --tls-generate`: a private CA and a server certificate it signs, kept
 * in the data directory and reused on later starts (clients pin the CA with
 * `--ca-file`). Keys are made by node's crypto; node-forge only builds and signs
 * the X.509 structures (node's crypto cannot).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';

export interface GeneratedTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Whether this call created them (false: an earlier start did). */
  created: boolean;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

/** The names a server certificate carries: the listen host, loopback, extras. */
export function tlsNames(listenHost: string, extra: readonly string[]): string[] {
  const wildcard = listenHost === '0.0.0.0' || listenHost === '::';
  const names = [...(wildcard ? [] : [listenHost]), 'localhost', '127.0.0.1', '::1', ...extra];
  return [...new Set(names)];
}

/**
 * Reuse or create `tls-ca.pem`, `tls-ca.key`, `tls-server.pem`, `tls-server.key`
 * (keys mode 0600) in `dataDir`.
 *
 * @example
 *   await ensureGeneratedTls('/var/lib/vnp', ['127.0.0.1', 'localhost']) // { caFile: '/var/lib/vnp/tls-ca.pem', … }
 */
export async function ensureGeneratedTls(
  dataDir: string,
  names: readonly string[],
  now = new Date(),
): Promise<GeneratedTls> {
  const files = {
    caFile: join(dataDir, 'tls-ca.pem'),
    caKey: join(dataDir, 'tls-ca.key'),
    certFile: join(dataDir, 'tls-server.pem'),
    keyFile: join(dataDir, 'tls-server.key'),
  };
  const out = { caFile: files.caFile, certFile: files.certFile, keyFile: files.keyFile };
  if ((await exists(files.caFile)) && (await exists(files.certFile))) {
    await Promise.all([readFile(files.keyFile), readFile(files.caKey)]); // present and readable
    return { ...out, created: false };
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const ca = newKeys();
  const caCert = certificate(ca, ca, 'vnp CA', CA_SUBJECT, now, [
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  const server = newKeys();
  const altNames = names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }));
  const serverCert = certificate(server, ca, 'vnp manager', CA_SUBJECT, now, [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  // Keys first, the CA certificate last: its presence marks a complete set.
  await writeFile(files.caKey, ca.privatePem, { mode: 0o600 });
  await writeFile(files.keyFile, server.privatePem, { mode: 0o600 });
  await writeFile(files.certFile, serverCert, { mode: 0o644 });
  await writeFile(files.caFile, caCert, { mode: 0o644 });
  return { ...out, created: true };
}

/** The subject (and so the issuer of what it signs) of the generated CA. */
const CA_SUBJECT: forge.pki.CertificateField[] = [{ name: 'commonName', value: 'vnp CA' }];

/** A key pair as PEM text. */
export interface Keys {
  privatePem: string;
  publicPem: string;
}

/** A new RSA 2048 key pair (node's crypto: native and fast). */
export function newKeys(): Keys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * A certificate for `subject`'s public key signed by `issuer`'s private key (PKCS#1 RSA
 * PEM); `issuerName` must be the issuer certificate's subject, exactly. Valid from an
 * hour ago (clock skew) until `notAfter` (default ten years).
 */
export function certificate(
  subject: Pick<Keys, 'publicPem'>,
  issuer: Pick<Keys, 'privatePem'>,
  subjectCn: string,
  issuerName: forge.pki.CertificateField[],
  now: Date,
  extensions: object[],
  notAfter = new Date(now.getTime() + 10 * YEAR_MS),
): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(subject.publicPem);
  cert.serialNumber = '01' + randomBytes(15).toString('hex'); // positive, unique
  cert.validity.notBefore = new Date(now.getTime() - 3600_000);
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'commonName', value: subjectCn }]);
  cert.setIssuer(issuerName);
  cert.setExtensions(extensions);
  cert.sign(forge.pki.privateKeyFromPem(issuer.privatePem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** Whether a file exists (and is visible to this user). */
export async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
