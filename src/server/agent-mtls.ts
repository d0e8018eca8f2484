/**
 * Agent identity bound to the host by a client certificate (issue #11; docs/security.md,
 * "Agent client certificates"; ADR 0052). With `--agent-mtls optional|required` the
 * manager asks every TLS client for a certificate, verified against the agent CA:
 *
 * - a certificate the CA did not issue (or expired) closes the connection right after
 *   the handshake, before any HTTP — audited as `denied 495 TLS handshake …`;
 * - an agent token over a connection whose certificate names another host: 403
 *   VNP_ERR_CLIENT_CERT_HOST (both modes);
 * - an agent token without a certificate: 401 VNP_ERR_NO_CLIENT_CERT when
 *   required, accepted when optional (the migration step).
 *
 * Other roles are not asked for anything more: the certificate binds agent tokens only.
 * The TLS server must not refuse clients without a certificate (`rejectUnauthorized:
 * false`): people, the CLI and the web UI share the port.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AgentMtls } from '../config/settings.js';
import { VnpError } from '../model/errors.js';
import type { Principal } from './auth.js';
import type { DeniedAudit } from './denied-audit.js';

/** The URI SAN prefix naming an agent certificate's host: `urn:vnp:host:host-a`. */
export const AGENT_HOST_URI_PREFIX = 'urn:vnp:host:';

/** The parts of node's PeerCertificate read here. */
interface PeerCert {
  subject?: { CN?: string | string[] };
  subjectaltname?: string;
}

/**
 * The host a client certificate names: its `urn:vnp:host:` URI SAN (exactly one), or,
 * without any, its subject CN. Undefined when it names none, or several.
 *
 * @example
 *   certHost({ subjectaltname: 'URI:urn:vnp:host:host-a', subject: { CN: 'x' } }) // 'host-a'
 */
export function certHost(cert: PeerCert): string | undefined {
  const uris = (cert.subjectaltname ?? '')
    .split(', ')
    .filter((n) => n.startsWith(`URI:${AGENT_HOST_URI_PREFIX}`))
    .map((n) => n.slice(`URI:${AGENT_HOST_URI_PREFIX}`.length));
  if (uris.length > 0) return new Set(uris).size === 1 ? uris[0] : undefined;
  const cn = cert.subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

/** What a connection presented: nothing, or a verified certificate and the host it names. */
type Presented = { cert: false } | { cert: true; host: string | undefined };

/**
 * Per TLS connection, what its handshake presented: read once, when it completes
 * ({@link installClientCertGate}), not on every request the connection carries.
 */
const presentedBySocket = new WeakMap<object, Presented>();

function readPresented(socket: Pick<TLSSocket, 'authorized' | 'getPeerCertificate'>): Presented {
  const cert = socket.getPeerCertificate() as PeerCert | undefined;
  return socket.authorized && cert && Object.keys(cert).length > 0
    ? { cert: true, host: certHost(cert) }
    : { cert: false };
}

function presented(request: FastifyRequest): Presented {
  const socket = request.raw.socket as Partial<TLSSocket> | undefined;
  // Plain HTTP (and the test injector) carries no certificate.
  if (!socket || typeof socket.getPeerCertificate !== 'function') return { cert: false };
  let seen = presentedBySocket.get(socket);
  if (!seen) presentedBySocket.set(socket, (seen = readPresented(socket as TLSSocket)));
  return seen;
}

/**
 * Throws unless an agent principal's connection satisfies `mode` (see the file comment).
 *
 * @example
 *   checkAgentCert('required', request, request.principal);
 */
export function checkAgentCert(
  mode: AgentMtls,
  request: FastifyRequest,
  principal: Principal,
): void {
  if (mode === 'off' || principal.role !== 'agent') return;
  const host = principal.host ?? '';
  const seen = presented(request);
  if (!seen.cert) {
    if (mode === 'optional') return;
    throw new VnpError(
      'VNP_ERR_NO_CLIENT_CERT',
      `agent token ${principal.id} is accepted only with a client certificate for host "${host}" from the manager's CA (vnp cert issue --host ${host}; vnp agent --cert-file/--key-file)`,
      { field: 'client-certificate', host },
    );
  }
  if (seen.host !== host) {
    throw new VnpError(
      'VNP_ERR_CLIENT_CERT_HOST',
      `the client certificate names ${seen.host === undefined ? 'no host' : `host "${seen.host}"`}, but agent token ${principal.id} is bound to host "${host}"`,
      { field: 'client-certificate', host, certificateHost: seen.host ?? null },
    );
  }
}

/** The https server options that ask for (and verify, without refusing its absence) a client certificate. */
export function clientCertOptions(caPem: Buffer): {
  ca: Buffer;
  requestCert: true;
  rejectUnauthorized: false;
} {
  return { ca: caPem, requestCert: true, rejectUnauthorized: false };
}

/**
 * Close every TLS connection that presented a certificate the agent CA does not
 * verify, right after its handshake (no HTTP is read from it), and audit it.
 *
 * @example
 *   installClientCertGate(app, denials); // with --agent-mtls optional|required
 */
export function installClientCertGate(app: FastifyInstance, denials: DeniedAudit): void {
  app.server.on('secureConnection', (socket: TLSSocket) => {
    // The identity is the handshake's: a TLS 1.2 renegotiation must not swap the
    // certificate under a connection already judged.
    socket.disableRenegotiation();
    if (socket.authorized) {
      presentedBySocket.set(socket, readPresented(socket));
      return;
    }
    const cert = socket.getPeerCertificate() as PeerCert | undefined;
    if (!cert || Object.keys(cert).length === 0) return; // none presented: HTTP decides
    const cn = cert.subject?.CN;
    denials.note({
      status: 495,
      actor: 'anonymous',
      method: 'TLS',
      path: 'handshake',
      reason: `client certificate${typeof cn === 'string' ? ` CN=${cn}` : ''} not accepted: ${String(socket.authorizationError)}`,
      from: socket.remoteAddress ?? 'unknown',
    });
    socket.destroy();
  });
}
