import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { AgentMtls } from '../config/settings.js';
import { VnpError } from '../model/errors.js';
import { certHost, checkAgentCert } from './agent-mtls.js';
import type { Principal } from './auth.js';

const AGENT: Principal = { id: 'ab12', role: 'agent', host: 'host-a' };

/** A request over a TLS socket that presented `cert` (verified or not), or plain HTTP. */
function over(cert: object | undefined, authorized = true): FastifyRequest {
  const socket = cert === undefined ? {} : { authorized, getPeerCertificate: () => cert };
  return { raw: { socket } } as unknown as FastifyRequest;
}

function outcome(mode: AgentMtls, request: FastifyRequest, p: Principal = AGENT): string {
  try {
    checkAgentCert(mode, request, p);
    return 'ok';
  } catch (e) {
    return (e as VnpError).code;
  }
}

const OWN = { subjectaltname: 'URI:urn:vnp:host:host-a', subject: { CN: 'host-a' } };
const OTHER = { subjectaltname: 'URI:urn:vnp:host:host-b', subject: { CN: 'host-b' } };

describe('certHost', () => {
  it('reads the urn:vnp:host: URI SAN, else the subject CN', () => {
    expect(certHost(OWN)).toBe('host-a');
    expect(certHost({ subjectaltname: 'DNS:x, URI:urn:vnp:host:h1', subject: { CN: 'h2' } })).toBe(
      'h1',
    );
    expect(certHost({ subject: { CN: 'h2' } })).toBe('h2');
  });

  it('names no host when it names several, or none', () => {
    const two = 'URI:urn:vnp:host:host-a, URI:urn:vnp:host:host-b';
    expect(certHost({ subjectaltname: two, subject: { CN: 'host-a' } })).toBeUndefined();
    expect(certHost({ subject: { CN: ['a', 'b'] } })).toBeUndefined();
    expect(certHost({})).toBeUndefined();
  });
});

describe('checkAgentCert', () => {
  it.each([
    // mode, what the connection presented, outcome
    ['off', over(undefined), 'ok'],
    ['off', over(OTHER), 'ok'],
    ['optional', over(undefined), 'ok'],
    ['optional', over({}), 'ok'],
    ['optional', over(OWN), 'ok'],
    ['optional', over(OTHER), 'VNP_ERR_CLIENT_CERT_HOST'],
    ['required', over(undefined), 'VNP_ERR_NO_CLIENT_CERT'],
    ['required', over({}), 'VNP_ERR_NO_CLIENT_CERT'],
    // An unverified certificate counts as none (the gate closes such connections first).
    ['required', over(OWN, false), 'VNP_ERR_NO_CLIENT_CERT'],
    ['required', over(OWN), 'ok'],
    ['required', over(OTHER), 'VNP_ERR_CLIENT_CERT_HOST'],
    ['required', over({ subject: { CN: 'host-a' } }), 'ok'],
  ] as const)('%s, %o → %s', (mode, request, want) => {
    expect(outcome(mode, request)).toBe(want);
  });

  it('binds agent tokens only: people need no certificate', () => {
    for (const role of ['viewer', 'operator', 'admin'] as const)
      expect(outcome('required', over(undefined), { id: 'x', role })).toBe('ok');
  });

  it('401 and 403 with the token and both hosts named', () => {
    expect(() => checkAgentCert('required', over(undefined), AGENT)).toThrow(
      /agent token ab12 is accepted only with a client certificate for host "host-a"/,
    );
    expect(() => checkAgentCert('required', over(OTHER), AGENT)).toThrow(
      'the client certificate names host "host-b", but agent token ab12 is bound to host "host-a"',
    );
    const err = new VnpError('VNP_ERR_NO_CLIENT_CERT', 'x');
    expect(err.status).toBe(401);
    expect(new VnpError('VNP_ERR_CLIENT_CERT_HOST', 'x').status).toBe(403);
  });
});
