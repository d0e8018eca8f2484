/**
 * The typed HTTP client of the manager's REST API (design.md §5). Over node:http
 * by default (http-fetch.ts; any fetch fits the same shape), no state beyond the base
 * URL and token; every method maps to one route. Failures throw VnpError: the server's
 * own error rebuilt, or VNP_ERR_UNAVAILABLE "cannot reach the manager at URL: …".
 *
 * By API area: transport.ts (requests, streams, probes), resource-client.ts (resources,
 * settings, interface records, apply, import), this file (verdicts, revisions, events,
 * operations, tokens, health, watch and flows).
 */
import type { Document, Kind, Protocol, Tags } from '../model/types.js';
import type {
  AuditEntry,
  AuditVerification,
  CanIAnswer,
  IdentityInfo,
  ServerVersion,
  CheckRequest,
  CheckResult,
  CreatedToken,
  FlowFilters,
  FlowPage,
  FlowReplay,
  FlowSummary,
  HealthInfo,
  StoredFlow,
  ImpactResult,
  JsonObject,
  PepInfo,
  ResolvedPolicy,
  RotatedToken,
  TokenInfo,
  TokenRole,
  WatchEvent,
} from './api-types.js';
import { ResourceClient, type WriteOptions } from './resource-client.js';
import { itemsOf } from './transport.js';

export { normaliseServer, type VnpClientOptions } from './transport.js';
export {
  resourcePath,
  type ApplyOptions,
  type ListOptions,
  type WriteOptions,
} from './resource-client.js';

/**
 * A client of one manager.
 *
 * @example
 *   const client = new VnpClient({ server: 'http://127.0.0.1:7400', token });
 *   const ifaces = await client.list('Interface', { selector: 'env == "prod"' });
 *   const verdict = await client.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 });
 */
export class VnpClient extends ResourceClient {
  // ---- verdicts, revisions, events ------------------------------------

  /** Judge a flow and explain the verdict. */
  async check(req: CheckRequest): Promise<CheckResult> {
    return this.request<CheckResult>('POST', '/v1/check', { body: req });
  }

  /**
   * The merged, ordered rule set a record with these tags would get (the seed's
   * `get_policy_for_traffic`).
   */
  async policyForTags(tags: Tags): Promise<ResolvedPolicy> {
    return this.request<ResolvedPolicy>('POST', '/v1/policy-for-tags', { body: { tags } });
  }

  /** The flows a batch would flip, without applying it. */
  async impact(req: {
    documents: Document[];
    deletes?: { kind: Kind; name: string }[];
    /** Rows per page, 1..5000. */
    limit?: number;
    /** Rows to skip (the next page starts at the previous offset + limit). */
    offset?: number;
    /** Replay the flows observed in this window (`1h`, an ISO time) through the change. */
    againstFlows?: string;
  }): Promise<ImpactResult & { againstFlows?: FlowReplay }> {
    return this.request<ImpactResult>('POST', '/v1/impact', { body: req });
  }

  /** Identities and outside-address classes allowed to reach `dst`. */
  async whoCanReach(
    dst: string,
    opts: { proto?: Protocol; port?: number } = {},
  ): Promise<JsonObject> {
    return this.request<JsonObject>('GET', '/v1/who-can-reach', {
      query: { dst, proto: opts.proto, port: opts.port },
    });
  }

  /** Recent revisions with a summary of each. */
  async history(limit?: number): Promise<JsonObject> {
    return this.request<JsonObject>('GET', '/v1/history', { query: { limit } });
  }

  /** Resources that differ between two revisions. */
  async diff(from: number, to: number): Promise<JsonObject> {
    return this.request<JsonObject>('GET', '/v1/diff', { query: { from, to } });
  }

  /** Restore the policy state of a past revision as a new revision (or preview it). */
  async rollback(
    revision: number,
    dryRun = false,
    opts: WriteOptions & { limit?: number } = {},
  ): Promise<JsonObject> {
    return this.request<JsonObject>('POST', '/v1/rollback', {
      body: {
        revision,
        ...(dryRun ? { dryRun: true } : {}),
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      },
      query: { wait: opts.wait },
    });
  }

  /** Post an event about a record or address (reactions fire on it). */
  async event(
    type: string,
    target: string,
    opts: { severity?: number; details?: unknown } = {},
  ): Promise<unknown> {
    return this.request<unknown>('POST', '/v1/events', { body: { type, target, ...opts } });
  }

  // ---- operations ------------------------------------------------------

  /** Policy enforcement points known to this manager. */
  async peps(): Promise<PepInfo[]> {
    return itemsOf<PepInfo>(await this.request<unknown>('GET', '/v1/peps'));
  }

  /** Live identities (all, the one of a record, or those of a selector's records). */
  async identities(opts: { record?: string; selector?: string } = {}): Promise<IdentityInfo[]> {
    return itemsOf<IdentityInfo>(
      await this.request<unknown>('GET', '/v1/identities', { query: opts }),
    );
  }

  /** Verify the audit log's hash chain (admin): `ok`, entries checked, head, first broken entry. */
  async auditVerify(expectHead?: string): Promise<AuditVerification> {
    return this.request<AuditVerification>('GET', '/v1/audit/verify', {
      query: { expectHead },
    });
  }

  /** The manager's version. */
  async version(): Promise<ServerVersion> {
    return this.request<ServerVersion>('GET', '/v1/version');
  }

  /** May this client's token do VERB on RESOURCE (`get interfaces`, `patch interfaces/tags`)? */
  async canI(verb: string, resource: string, host?: string): Promise<CanIAnswer> {
    return this.request<CanIAnswer>('GET', '/v1/auth/can-i', { query: { verb, resource, host } });
  }

  /** The audit log, newest first. */
  async audit(
    opts: { limit?: number; since?: number; kind?: Kind; name?: string } = {},
  ): Promise<AuditEntry[]> {
    const query = { limit: opts.limit, since: opts.since, kind: opts.kind, name: opts.name };
    return itemsOf<AuditEntry>(await this.request<unknown>('GET', '/v1/audit', { query }));
  }

  /** Create a token; the secret is in the answer and nowhere else. */
  async createToken(role: TokenRole, host?: string, ttl?: string): Promise<CreatedToken> {
    return this.request<CreatedToken>('POST', '/v1/tokens', {
      body: { role, ...(host ? { host } : {}), ...(ttl !== undefined ? { ttl } : {}) },
    });
  }

  /** Rotate a token: a new secret; the old one works for `grace` more (server default 1h). */
  async rotateToken(
    id: string,
    opts: { grace?: string; ttl?: string } = {},
  ): Promise<RotatedToken> {
    return this.request<RotatedToken>('POST', `/v1/tokens/${encodeURIComponent(id)}/rotate`, {
      body: {
        ...(opts.grace !== undefined ? { grace: opts.grace } : {}),
        ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}),
      },
    });
  }

  /** Tokens (never their secrets). */
  async listTokens(): Promise<TokenInfo[]> {
    return itemsOf<TokenInfo>(await this.request<unknown>('GET', '/v1/tokens'));
  }

  /** Revoke a token by id. */
  async revokeToken(id: string): Promise<void> {
    await this.request<unknown>('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
  }

  /** `GET /healthz`: never throws on a non-2xx, only when unreachable. */
  async health(): Promise<HealthInfo> {
    return this.probe('/healthz');
  }

  /** `GET /readyz`: never throws on a non-2xx, only when unreachable. */
  async ready(): Promise<HealthInfo> {
    return this.probe('/readyz');
  }

  /** The Prometheus exposition text of `/metrics`. */
  async metrics(): Promise<string> {
    const body = await this.request<unknown>('GET', '/metrics');
    return typeof body === 'string' ? body : '';
  }

  /** The OpenAPI description of the API. */
  async openapi(): Promise<Record<string, unknown>> {
    return this.request<Record<string, unknown>>('GET', '/openapi.json');
  }

  /**
   * Stream committed changes after `since` (default: now; NDJSON). Ends when the server closes
   * the stream or `signal` aborts.
   *
   * @example
   *   for await (const change of client.watch(0, { signal })) console.log(change.revision);
   */
  async *watch(since?: number, opts: { signal?: AbortSignal } = {}): AsyncGenerator<WatchEvent> {
    yield* this.ndjson<WatchEvent>('/v1/watch', { since }, opts.signal);
  }

  /** Flow records, newest first, one page (docs/flows.md); `next` pages on. */
  async flows(query: FlowFilters & { limit?: number; cursor?: string } = {}): Promise<FlowPage> {
    return this.request<FlowPage>('GET', '/v1/flows', { query: { ...query } });
  }

  /** The observed connectivity graph of a window (default the last hour). */
  async flowSummary(query: { since?: string; until?: string } = {}): Promise<FlowSummary> {
    return this.request<FlowSummary>('GET', '/v1/flows/summary', { query: { ...query } });
  }

  /**
   * Stream new flow records matching the filters, until the server ends or `signal` aborts.
   *
   * @example
   *   for await (const f of client.watchFlows({ verdict: 'deny' }, { signal })) console.log(f.dst.address);
   */
  async *watchFlows(
    query: FlowFilters = {},
    opts: { signal?: AbortSignal } = {},
  ): AsyncGenerator<StoredFlow> {
    yield* this.ndjson<StoredFlow>('/v1/flows/watch', { ...query }, opts.signal);
  }
}
