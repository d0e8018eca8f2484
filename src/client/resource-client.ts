/**
 * The client's resource area: collections and single resources of every kind, the
 * settings, the operator actions on interface records, apply and the Kubernetes import
 * (design.md §5). Every method maps to one route; lists follow `next` cursors.
 */
import { KIND_PLURAL, type Kind, type Settings } from '../model/types.js';
import type {
  ApiResource,
  ApplyRequest,
  ApplyResult,
  ImportK8sRequest,
  ImportK8sResult,
  JsonObject,
  ListPage,
  TagPatch,
} from './api-types.js';
import { inFieldOrder } from '../model/field-order.js';
import { ClientTransport } from './transport.js';

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

/** The path of a kind's collection (`/v1/interfaces`) or of one resource of it. */
export function resourcePath(kind: Kind, name?: string): string {
  // Settings is a singleton: `/v1/settings`, never `/v1/settings/default`.
  if (kind === 'Settings') return '/v1/settings';
  const base = `/v1/${KIND_PLURAL[kind]}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

/** The server's largest page. */
const MAX_PAGE = 1000;

/** Reads and writes of resources; VnpClient adds the other areas. */
export class ResourceClient extends ClientTransport {
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

  // ---- batches ---------------------------------------------------------

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
