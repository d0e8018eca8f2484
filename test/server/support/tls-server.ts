/**
 * A test manager served over HTTPS with a fresh self-signed certificate (openssl makes
 * it), for the TLS tests of the API and of the WebSocket channel.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './test-server.js';

/** Whether openssl is present; absent, the named test skips loudly (and fails under CI=true). */
export function hasOpenssl(what: string): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`openssl is required in CI for the ${what}`);
    console.warn(`\n*** SKIPPING ${what}: openssl not found ***\n`);
    return false;
  }
}

/** A listening HTTPS test server, the certificate to trust, and its cleanup. */
export interface TlsTestServer {
  server: TestServer;
  url: string;
  cert: Buffer;
  close(): Promise<void>;
}

/** Start a test server with `tls` settings on a certificate for localhost and 127.0.0.1. */
export async function startTlsTestServer(): Promise<TlsTestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'vnp-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
      ...['-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost'],
      ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    ],
    { stdio: 'ignore' },
  );
  const cert = await readFile(certFile);
  const server = await startTestServer({ settings: { tls: { certFile, keyFile } } });
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    server,
    url,
    cert,
    close: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
