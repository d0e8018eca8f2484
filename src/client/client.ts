/**
 * The typed HTTP client of the manager's REST API (design.md §5). Over node:http
 * by default (http-fetch.ts; any fetch fits the same shape), no state beyond the base URL and token; every method maps to one route (lists
 * follow `next` cursors). Failures throw VnpError: the server's own error rebuilt,
 * or VNP_ERR_UNAVAILABLE "cannot reach the manager at URL: …".
 */
import {
  KIND_PLURAL,
  type Document,
  type Kind,
  type Protocol,
  type Settings,
  type Tags,
} from '../model/types.js';
import type {
  ApiResource,
  ApplyRequest,
  ApplyResult,
  ImportK8sRequest,
  ImportK8sResult,
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
  ListPage,
  PepInfo,
  ResolvedPolicy,
  TagPatch,
  RotatedToken,
  TokenInfo,
  TokenRole,
  WatchEvent,
} from './api-types.js';
import { inFieldOrder } from '../model/field-order.js';
import { connectionError, errorFromResponse } from './errors.js';
import {
  httpFetch,
  pinnedFetch,
  type FetchInit,
  type FetchLike,
  type FetchResponse,
} from './http-fetch.js';

export interface VnpClientOptions {
  /** Base URL of the manager, e.g. `http://127.0.0.1:7400` (a bare `host:port` gets `http://`). */
  server: string;
  /** Bearer token; requests go unauthenticated without one. */
  token?: string;
  /** Per-request timeout in milliseconds (default 120 s; watch streams have none). */
  timeoutMs?: number;
  /** The transport (default: httpFetch over node:http; the global fetch fits too). */
  fetch?: FetchLike;
  /** PEM of the only CA trusted for an https manager (`--ca-file`); ignored with `fetch`. */
  ca?: string;
}

export interface ListOptions {
  /** `?selector=` filter (design.md §1 Selectors; interfaces only). */
  selector?: string;
  /** Page size hint. */
  limit?: number;
}

/** `?wait=DURATION`: answer once the PEPs the write concerns acknowledged it (docs/protocol.md). */
export interface WriteOptions {
  wait?: string;
}

export interface ApplyOptions extends WriteOptions {
  /** Called while the request body is sent: bytes sent so far and the total. */
  onUploadProgress?: (sent: number, total: number) => void;
}

interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Pre-encoded body with upload progress (apply of big batches). */
  upload?: { bytes: Uint8Array; onProgress: (sent: number, total: number) => void };
  timeoutMs?: number | null;
}

/** Normalise a server address: add `http://`, drop trailing slashes. */
export function normaliseServer(server: string): string {
  const s = server.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `http://${s}`;
  return withScheme.replace(/\/+$/, '');
}

/** The path of a kind's collection (`/v1/interfaces`) or of one resource of it. */
export function resourcePath(kind: Kind, name?: string): string {
  // Settings is a singleton: `/v1/settings`, never `/v1/settings/default`.
  if (kind === 'Settings') return '/v1/settings';
  const base = `/v1/${KIND_PLURAL[kind]}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

const UPLOAD_CHUNK = 64 * 1024;
/** The server's largest page. */
const MAX_PAGE = 1000;

/**
 * A client of one manager.
 *
 * @example
 *   const client = new VnpClient({ server: 'http://127.0.0.1:7400', token });
 *   const ifaces = await client.list('Interface', { selector: 'env == "prod"' });
 *   const verdict = await client.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 });
 */
export class VnpClient {
  readonly server: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchImpl: FetchLike;

  constructor(opts: VnpClientOptions) {
    this.server = normaliseServer(opts.server);
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.fetchImpl = opts.fetch ?? (opts.ca === undefined ? httpFetch : pinnedFetch(opts.ca));
  }

  // ---- resources -------------------------------------------------------

  /** One page of a kind's collection (names after `after`). */
  async listPage<K extends Kind>(
    kind: K,
    opts: ListOptions & { after?: string } = {},
  ): Promise<ListPage<ApiResource>> {
    if (kind === 'Settings') return { items: [await this.get('Settings', 'default')] };
    return this.request<ListPage<ApiResource>>('GET', resourcePath(kind), {
      query: { selector: opts.selector, limit: opts.limit, after: opts.after },
    });
  }

  /** Every resource of a kind (following `next`), sorted as the server sends them. */
  async list(kind: Kind, opts: ListOptions = {}): Promise<ApiResource[]> {
    const out: ApiResource[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.listPage(kind, { limit: MAX_PAGE, ...opts, after });
      out.push(...page.items.map((item) => withKind(kind, item)));
      // `next` is the last name of the page: the following page starts after it.
      if (page.next === undefined || page.next === null || page.next === '' || page.next === after)
        return out;
      after = String(page.next);
    }
  }

  /** One resource by kind and name; VNP_ERR_NOT_FOUND when absent. */
  async get(kind: Kind, name: string): Promise<ApiResource> {
    return withKind(kind, await this.request<ApiResource>('GET', resourcePath(kind, name)));
  }

  /** Create a resource (VNP_ERR_ALREADY_EXISTS when the name is taken). */
  async create(kind: Kind, doc: Record<string, unknown>): Promise<ApiResource> {
    return withKind(
      kind,
      await this.request<ApiResource>('POST', resourcePath(kind), { body: stripKind(doc) }),
    );
  }

  /** Create or replace a resource by name. */
  async put(kind: Kind, name: string, doc: Record<string, unknown>): Promise<ApiResource> {
    return withKind(
      kind,
      await this.request<ApiResource>('PUT', resourcePath(kind, name), { body: stripKind(doc) }),
    );
  }

  /** Change some fields of a resource. */
  async patch(kind: Kind, name: string, fields: Record<string, unknown>): Promise<ApiResource> {
    return withKind(
      kind,
      await this.request<ApiResource>('PATCH', resourcePath(kind, name), { body: fields }),
    );
  }

  /** Delete a resource by kind and name; the answer names the revision (and `waited`). */
  async delete(kind: Kind, name: string, opts: WriteOptions = {}): Promise<JsonObject> {
    return this.request<JsonObject>('DELETE', resourcePath(kind, name), { query: { ...opts } });
  }

  /** The global settings (`GET /v1/settings`). */
  async getSettings(): Promise<Settings> {
    return this.request<Settings>('GET', '/v1/settings');
  }

  /** Replace the global settings. */
  async putSettings(settings: Omit<Settings, 'name'> & { name?: 'default' }): Promise<Settings> {
    return this.request<Settings>('PUT', '/v1/settings', {
      body: { name: 'default', ...settings },
    });
  }

  // ---- interface records ----------------------------------------------

  /** Attach an interface record to an instance (moves it if attached elsewhere). */
  async attach(iface: string, instance: string, opts: WriteOptions = {}): Promise<ApiResource> {
    const path = `${resourcePath('Interface', iface)}/attach`;
    return withKind(
      'Interface',
      await this.request<ApiResource>('POST', path, { body: { instance }, query: { ...opts } }),
    );
  }

  /** Detach an interface record from its instance. */
  async detach(iface: string, opts: WriteOptions = {}): Promise<ApiResource> {
    const path = `${resourcePath('Interface', iface)}/detach`;
    return withKind(
      'Interface',
      await this.request<ApiResource>('POST', path, { body: {}, query: { ...opts } }),
    );
  }

  /**
   * Set and/or remove tags of an interface record in one change. With `wait` (`5s`),
   * the answer comes once every connected PEP the change concerns acknowledged it
   * (`waited: {ms, hosts}` in the answer), or VNP_ERR_TIMEOUT names the laggards.
   */
  async patchTags(iface: string, patch: TagPatch, opts: WriteOptions = {}): Promise<ApiResource> {
    const path = `${resourcePath('Interface', iface)}/tags`;
    const query = { wait: opts.wait };
    return withKind(
      'Interface',
      await this.request<ApiResource>('PATCH', path, { body: patch, query }),
    );
  }

  // ---- batches, verdicts, events --------------------------------------

  /** All-or-nothing apply of documents (and `kind: Test` documents). */
  async apply(req: ApplyRequest, opts: ApplyOptions = {}): Promise<ApplyResult> {
    const body = {
      documents: req.documents,
      ...(req.dryRun ? { dryRun: true } : {}),
      ...(req.strict ? { strict: true } : {}),
    };
    const query = { wait: opts.wait };
    if (opts.onUploadProgress === undefined)
      return this.request<ApplyResult>('POST', '/v1/apply', { body, query });
    const bytes = new TextEncoder().encode(JSON.stringify(body));
    return this.request<ApplyResult>('POST', '/v1/apply', {
      upload: { bytes, onProgress: opts.onUploadProgress },
      query,
    });
  }

  /** Import Kubernetes objects, declaratively per source, all or nothing. */
  async importK8s(req: ImportK8sRequest): Promise<ImportK8sResult> {
    return this.request<ImportK8sResult>('POST', '/v1/import/k8s', { body: req });
  }

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

  /** An NDJSON stream as values (blank keep-alive lines skipped). */
  private async *ndjson<T>(
    path: string,
    query: Record<string, string | number | undefined>,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<T> {
    const res = await this.send('GET', path, { query, timeoutMs: null }, signal);
    if (!res.ok) throw responseError(res, await readBody(res));
    if (res.body === null) return;
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line !== '') yield JSON.parse(line) as T;
      }
    }
    if (buffered.trim() !== '') yield JSON.parse(buffered) as T;
  }

  // ---- transport -------------------------------------------------------

  /** Send one request and decode its JSON answer; throws VnpError on any failure. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    const body = await readBody(res);
    if (!res.ok) throw responseError(res, body);
    return body as T;
  }

  private async probe(path: string): Promise<HealthInfo> {
    const res = await this.send('GET', path, { timeoutMs: 10_000 });
    return { ok: res.ok, status: res.status, body: await readBody(res) };
  }

  private async send(
    method: string,
    path: string,
    opts: RequestOptions,
    signal?: AbortSignal,
  ): Promise<FetchResponse> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined && this.token !== '')
      headers.authorization = `Bearer ${this.token}`;
    const init: FetchInit = { method, headers };
    if (opts.upload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(opts.upload.bytes.byteLength);
      init.body = progressStream(opts.upload.bytes, opts.upload.onProgress);
      init.duplex = 'half';
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    const timeoutMs = opts.timeoutMs === undefined ? this.timeoutMs : opts.timeoutMs;
    const signals = [
      signal,
      timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs),
    ].filter((s): s is AbortSignal => s !== undefined);
    if (signals.length > 0)
      init.signal = signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    try {
      return await this.fetchImpl(url, init);
    } catch (e) {
      if (signal?.aborted) throw e;
      throw connectionError(this.server, e);
    }
  }
}

/** A body stream that reports how much of it was read (i.e. sent). */
function progressStream(
  bytes: Uint8Array,
  onProgress: (sent: number, total: number) => void,
): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close();
        return;
      }
      const end = Math.min(offset + UPLOAD_CHUNK, bytes.byteLength);
      controller.enqueue(bytes.subarray(offset, end));
      offset = end;
      onProgress(offset, bytes.byteLength);
    },
  });
}

function responseError(res: FetchResponse, body: unknown): Error {
  return errorFromResponse(
    res.status,
    body,
    res.statusText,
    res.headers.get('x-request-id') ?? undefined,
  );
}

async function readBody(res: FetchResponse): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Accept `{items: [...]}` or a bare array. */
function itemsOf<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  if (
    typeof body === 'object' &&
    body !== null &&
    Array.isArray((body as { items?: unknown }).items)
  ) {
    return (body as { items: T[] }).items;
  }
  return [];
}

/** Documents carry `kind` (the API's resource bodies may not), keys in the documented order. */
function withKind(kind: Kind, item: ApiResource): ApiResource {
  if (typeof item !== 'object' || item === null) return item;
  return inFieldOrder(kind, { kind, ...(item as object) }) as ApiResource;
}

function stripKind(doc: Record<string, unknown>): Record<string, unknown> {
  const { kind: _kind, ...rest } = doc;
  return rest;
}
