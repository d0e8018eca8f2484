/**
 * Bearer-token authentication and role checks for `/v1`. Each route declares its
 * access level in `config.access`; a `/v1` route that forgets to is admin-only
 * (fail closed). Verified tokens are cached by a hash of the presented token so
 * scrypt runs once per token, not once per request; revocation is re-read from
 * the store at most every `recheckMs` (other managers may revoke).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VnpError } from '../model/errors.js';
import type { Store, TokenRecord } from '../store/types.js';
import { parseToken, verifySecret } from './token-secret.js';

export type Role = TokenRecord['role'];
export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer', 'agent'];

/**
 * Access levels: `read` = viewer and up, `operate` = operator and up (tags,
 * attach/detach), `admin` = admin only, `agent` = endpoints an agent may call
 * (and every human role), `public` = no token.
 */
export type Access = 'public' | 'read' | 'operate' | 'admin' | 'agent';

const ALLOWED: Record<Exclude<Access, 'public'>, readonly Role[]> = {
  read: ['viewer', 'operator', 'admin'],
  operate: ['operator', 'admin'],
  admin: ['admin'],
  agent: ['viewer', 'operator', 'admin', 'agent'],
};

/** Who is calling: the token id and its role. */
export interface Principal {
  id: string;
  role: Role;
  host?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

/**
 * The audit actor string of a principal.
 *
 * @example
 *   actorOf({ id: 'ab12', role: 'admin' }) // 'admin:ab12'
 */
export function actorOf(p: Principal | undefined): string {
  return p ? `${p.role}:${p.id}` : 'system';
}

/**
 * May this role use a route of this access level?
 *
 * @example
 *   allows('operate', 'viewer') // false
 */
export function allows(access: Access, role: Role): boolean {
  return access === 'public' || ALLOWED[access].includes(role);
}

interface CacheEntry {
  record: TokenRecord;
  checkedAt: number;
}

/** Authenticates presented bearer tokens against the store. */
export class TokenAuthenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly refreshing = new Set<string>();

  /**
   * @example
   *   const auth = new TokenAuthenticator(store, Date.now);
   *   const who = await auth.authenticate('Bearer vnp_ab12_…');
   */
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly recheckMs = 5000,
  ) {}

  /** Resolve an `Authorization` header to a principal; throws VNP_ERR_UNAUTHENTICATED. */
  async authenticate(header: string | undefined): Promise<Principal> {
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw unauthenticated('missing bearer token (Authorization: Bearer TOKEN)');
    const token = m[1]!;
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    const record = hit ? await this.refresh(key, hit) : await this.verify(key, token);
    if (!record || record.revokedAt) throw unauthenticated('unknown or revoked token');
    return { id: record.id, role: record.role, ...(record.host ? { host: record.host } : {}) };
  }

  /** Drop cached verifications of a token (after revocation). */
  forget(id: string): void {
    for (const [k, e] of this.cache) if (e.record.id === id) this.cache.delete(k);
  }

  /**
   * Stale-while-revalidate: a cached verification older than `recheckMs` is still
   * served while one background read (per token) checks the store for a revocation by
   * another manager; the next request sees the result. Thousands of agents acking at
   * once therefore never wait on the store, and never trigger a wave of reads.
   */
  private async refresh(key: string, hit: CacheEntry): Promise<TokenRecord | undefined> {
    if (this.now() - hit.checkedAt >= this.recheckMs && !this.refreshing.has(key)) {
      this.refreshing.add(key);
      hit.checkedAt = this.now();
      void this.store
        .getToken(hit.record.id)
        .then((record) => {
          if (!record || record.revokedAt) this.cache.delete(key);
          else this.cache.set(key, { record, checkedAt: this.now() });
        })
        .catch(() => undefined) // the store is unreachable: keep the last verdict
        .finally(() => this.refreshing.delete(key));
    }
    return hit.record;
  }

  private async verify(key: string, token: string): Promise<TokenRecord | undefined> {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const record = await this.store.getToken(parsed.id);
    if (!record || record.revokedAt) return undefined;
    if (!(await verifySecret(parsed.secret, record.hash))) return undefined;
    // Bounded: a flood of distinct valid tokens cannot grow memory without limit. The
    // oldest verification goes first (Map order), not the whole cache at once.
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { record, checkedAt: this.now() });
    return record;
  }
}

/** Verified tokens kept (one per PEP and person: 100k PEPs fit). */
const CACHE_LIMIT = 100_000;

function unauthenticated(message: string): VnpError {
  return new VnpError('VNP_ERR_UNAUTHENTICATED', message, { field: 'authorization' });
}

/**
 * Install the authentication hook on the root instance.
 *
 * @example
 *   installAuth(app, new TokenAuthenticator(store, Date.now));
 */
export function installAuth(app: FastifyInstance, auth: TokenAuthenticator): void {
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const access = accessOf(request);
    if (access === undefined || access === 'public') return;
    const principal = await auth.authenticate(request.headers.authorization);
    request.principal = principal;
    if (!allows(access, principal.role)) {
      throw new VnpError(
        'VNP_ERR_FORBIDDEN',
        `role ${principal.role} may not ${request.method} ${request.routeOptions.url ?? request.url}`,
        { role: principal.role, required: access },
      );
    }
  });
}

/** The route's declared access; undefined for the not-found handler (no route). */
function accessOf(request: FastifyRequest): Access | undefined {
  const url = request.routeOptions.url;
  if (url === undefined) return undefined;
  const declared = request.routeOptions.config?.access;
  if (declared) return declared;
  return url.startsWith('/v1') ? 'admin' : 'public';
}
