/**
 * `vnp cert issue --host H`: an agent's client certificate, signed by the manager's CA
 * (docs/security.md, "Agent client certificates"; ADR 0052). Offline, on the manager's
 * host: it needs the CA key, which never leaves the data directory and which no API
 * uses — a stolen admin token can mint agent tokens, never the certificate that makes
 * one usable under `--agent-mtls required`.
 *
 * The certificate names its host twice: the URI SAN `urn:vnp:host:H` (what the
 * manager matches, src/server/agent-mtls.ts) and the subject CN (for people).
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';
import { VnpError } from '../model/errors.js';
import { HOST_RE } from '../model/validate-primitives.js';
import { AGENT_HOST_URI_PREFIX } from './agent-mtls.js';
import { certificate, exists, newKeys } from './tls-generate.js';

/** Default lifetime of an agent certificate (a year), and the longest accepted (ten). */
export const DEFAULT_CERT_TTL_MS = 365 * 86_400_000;
export const MAX_CERT_TTL_MS = 10 * 365 * 86_400_000;

/** A CA able to sign: its certificate and private key, as PEM. */
export interface SigningCa {
  certPem: string;
  keyPem: string;
}

/** An issued agent certificate with its private key (the only copy). */
export interface IssuedCert {
  certPem: string;
  keyPem: string;
  serial: string;
  notAfter: Date;
}

function invalid(field: string, message: string): VnpError {
  return new VnpError('VNP_ERR_VALIDATION', `${field}: ${message}`, { field });
}

/**
 * Sign a client certificate for `host` (a new RSA 2048 key) with `ca`; its lifetime
 * ends with the CA's at the latest.
 *
 * @example
 *   const c = issueAgentCert({ certPem, keyPem }, 'host-a', { now: new Date(), ttlMs: 86_400_000 });
 */
export function issueAgentCert(
  ca: SigningCa,
  host: string,
  opts: { now: Date; ttlMs: number },
): IssuedCert {
  if (!HOST_RE.test(host))
    throw invalid('host', `expected a host name, got ${JSON.stringify(host)}`);
  const caCert = parseCa(ca);
  const keys = newKeys();
  const wanted = opts.now.getTime() + opts.ttlMs;
  const notAfter = new Date(Math.min(wanted, caCert.validity.notAfter.getTime()));
  const pem = certificate(
    keys,
    { privatePem: ca.keyPem },
    host,
    caCert.subject.attributes,
    opts.now,
    [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 6, value: `${AGENT_HOST_URI_PREFIX}${host}` }] },
    ],
    notAfter,
  );
  const serial = forge.pki.certificateFromPem(pem).serialNumber;
  return { certPem: pem, keyPem: keys.privatePem, serial, notAfter };
}

/**
 * The CA certificate, checked: it is a CA, its key is RSA (node-forge signs only RSA)
 * and belongs to it. `keyPem` is rewritten as PKCS#1, the form forge reads.
 */
function parseCa(ca: SigningCa): forge.pki.Certificate {
  let cert: forge.pki.Certificate;
  let key;
  try {
    cert = forge.pki.certificateFromPem(ca.certPem);
    key = createPrivateKey(ca.keyPem);
  } catch (e) {
    throw invalid('ca', `cannot read the CA certificate and key: ${(e as Error).message}`);
  }
  const constraints = cert.getExtension('basicConstraints') as { cA?: boolean } | undefined;
  if (!constraints?.cA) throw invalid('ca-cert', 'the certificate is not a CA (basicConstraints)');
  if (key.asymmetricKeyType !== 'rsa') throw invalid('ca-key', 'the CA key must be RSA');
  const fromKey = createPublicKey(key).export({ type: 'spki', format: 'pem' });
  const fromCert = createPublicKey(ca.certPem).export({ type: 'spki', format: 'pem' });
  if (fromKey !== fromCert)
    throw invalid('ca-key', 'the key does not belong to the CA certificate');
  ca.keyPem = key.export({ type: 'pkcs1', format: 'pem' }).toString();
  return cert;
}

/** Where `vnp cert issue` reads the CA and writes the certificate. */
export interface IssueFiles {
  host: string;
  caCertFile: string;
  caKeyFile: string;
  outDir: string;
  ttlMs: number;
  /** Replace existing files (default: refuse). */
  force?: boolean;
  now?: Date;
}

/**
 * Issue and write `agent-HOST.pem` (0644) and `agent-HOST.key` (0600) into `outDir`.
 *
 * @example
 *   await writeAgentCert({ host: 'host-a', caCertFile: '/var/lib/vnp/tls-ca.pem',
 *     caKeyFile: '/var/lib/vnp/tls-ca.key', outDir: '.', ttlMs: DEFAULT_CERT_TTL_MS });
 */
export async function writeAgentCert(
  f: IssueFiles,
): Promise<{ certFile: string; keyFile: string; serial: string; notAfter: Date }> {
  const read = (file: string, field: string): Promise<string> =>
    readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      // The usual first-hour miss: no CA yet, or the wrong data directory.
      const hint =
        e.code === 'ENOENT'
          ? ` (no CA there: \`vnp server --tls-generate\` creates one in the data directory; name another with --data-dir, or give --ca-cert and --ca-key)`
          : '';
      throw invalid(field, `${file}: ${e.message}${hint}`);
    });
  const ca = {
    certPem: await read(f.caCertFile, 'ca-cert'),
    keyPem: await read(f.caKeyFile, 'ca-key'),
  };
  const issued = issueAgentCert(ca, f.host, { now: f.now ?? new Date(), ttlMs: f.ttlMs });
  const certFile = join(f.outDir, `agent-${f.host}.pem`);
  const keyFile = join(f.outDir, `agent-${f.host}.key`);
  for (const file of [certFile, keyFile]) {
    if (!f.force && (await exists(file)))
      throw invalid('out', `${file} exists (--force replaces it)`);
    // Removed first, so that a new key file is created 0600 rather than keeping a mode.
    await rm(file, { force: true });
  }
  try {
    await writeFile(keyFile, issued.keyPem, { mode: 0o600, flag: 'wx' });
    await writeFile(certFile, issued.certPem, { mode: 0o644, flag: 'wx' });
  } catch (e) {
    throw invalid('out', (e as Error).message);
  }
  return { certFile, keyFile, serial: issued.serial, notAfter: issued.notAfter };
}
