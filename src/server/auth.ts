/**
 * Bearer-token authentication and role checks for `/v1`. Each route declares its
 * access level in `config.access`; a `/v1` route that forgets to is admin-only
 * (fail closed). Verified tokens are cached by a hash of the presented token so
 * scrypt runs once per token, not once per request; revocation is re-read from
 * the store at most every `recheckMs` (other managers may revoke).
 *
 * Long-lived connections (watch streams, WebSocket channels) are held by the token
 * that opened them ({@link holdWhileAuthorized}): revoking the token closes them — at
 * once on the manager that revokes it, within `recheckMs` on the others (a background
 * sweep while any is held). A token is never checked again on a connection it opened,
 * so without this a revoked agent would keep receiving its host's state.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VnpError } from '../model/errors.js';
import type { Store, TokenRecord } from '../store/index.js';
import { parseToken, verifySecret } from './token-secret.js';
import type { TokenUses } from './token-uses.js';

export type Role = TokenRecord['role'];
export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer', 'agent'];

/**
 * Access levels: `read` = viewer and up, `operate` = operator and up (tags,
 * attach/detach), `admin` = admin only, `agent` = endpoints an agent may call
 * (and every human role), `pep` = agent tokens only (acknowledgements: what only the
 * enforcement point itself can know), `public` = no token.
 */
export type Access = 'public' | 'read' | 'operate' | 'admin' | 'agent' | 'pep';

const ALLOWED: Record<Exclude<Access, 'public'>, readonly Role[]> = {
  read: ['viewer', 'operator', 'admin'],
  operate: ['operator', 'admin'],
  admin: ['admin'],
  agent: ['viewer', 'operator', 'admin', 'agent'],
  pep: ['agent'],
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

/** Closes one held connection; told why. */
export type CloseHeld = (reason: string) => void;

/** The reason a held connection is closed with when its token is revoked. */
export const TOKEN_REVOKED = 'token revoked';

/**
 * Limits failed authentication before the costly scrypt check: `check` throws
 * VNP_ERR_RATE_LIMITED while the client address or the token id has failed too often;
 * `failed` counts one failure. One gate per request (it knows the client address).
 */
export interface FailureGate {
  check(id: string | undefined): Promise<void>;
  failed(id: string | undefined): Promise<void>;
}

interface CacheEntry {
  record: TokenRecord;
  checkedAt: number;
}

/** Authenticates presented bearer tokens against the store. */
export class TokenAuthenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly refreshing = new Set<string>();
  /** Open long-lived connections by the id of the token that authenticated them. */
  private readonly held = new Map<string, Set<CloseHeld>>();
  /**
   * Ids this manager knows revoked (a handful: revocations are rare). A request
   * authenticated just before its token's revocation may open its stream just after
   * it: the hold closes such a stream at once.
   */
  private readonly known = new Set<string>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping = false;

  /**
   * @example
   *   const auth = new TokenAuthenticator(store, Date.now);
   *   const who = await auth.authenticate('Bearer vnp_ab12_…');
   */
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly recheckMs = 5000,
    /** Where successful authentications are noted (last use); none in unit tests. */
    private readonly uses?: TokenUses,
  ) {}

  /**
   * Resolve an `Authorization` header to a principal; throws VNP_ERR_UNAUTHENTICATED
   * (or VNP_ERR_RATE_LIMITED from the gate, before any scrypt check).
   */
  async authenticate(header: string | undefined, gate?: FailureGate): Promise<Principal> {
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw unauthenticated('missing bearer token (Authorization: Bearer TOKEN)');
    const token = m[1]!;
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    let record: TokenRecord | undefined;
    if (hit) record = await this.refresh(key, hit);
    else {
      const id = parseToken(token)?.id;
      await gate?.check(id);
      record = await this.verify(key, token);
      if (!record) await gate?.failed(id);
    }
    if (!record || record.revokedAt) throw unauthenticated('unknown or revoked token');
    if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= this.now())
      throw unauthenticated(`token ${record.id} expired at ${record.expiresAt}`);
    this.uses?.note(record.id);
    return { id: record.id, role: record.role, ...(record.host ? { host: record.host } : {}) };
  }

  /** Drop cached verifications of a token (after revocation). */
  forget(id: string): void {
    for (const [k, e] of this.cache) if (e.record.id === id) this.cache.delete(k);
  }

  /**
   * A token was revoked on this manager: forget its verifications and close every
   * connection it holds now.
   *
   * @example
   *   await revokeToken(manager, id, actor); auth.revoked(id);
   */
  revoked(id: string): void {
    this.forget(id);
    this.closeRevoked(id);
  }

  /**
   * Hold a long-lived connection under the token that authenticated it: `close` is
   * called once, with a reason, when the token is revoked. Returns the release, to
   * call when the connection ends for any other reason.
   *
   * @example
   *   const release = auth.hold(principal.id, (reason) => ws.close(4401, reason));
   *   ws.once('close', release);
   */
  hold(id: string, close: CloseHeld): () => void {
    if (this.known.has(id)) {
      // After the caller has set the connection up (close may end what it starts).
      setImmediate(() => close(TOKEN_REVOKED));
      return () => undefined;
    }
    let set = this.held.get(id);
    if (!set) this.held.set(id, (set = new Set()));
    // One closer per hold, even if the caller passes the same function twice.
    const entry: CloseHeld = (reason) => close(reason);
    set.add(entry);
    this.startSweep();
    return () => {
      const held = this.held.get(id);
      if (!held?.delete(entry)) return;
      if (held.size === 0) this.held.delete(id);
      if (this.held.size === 0) this.stopSweep();
    };
  }

  /** The token is revoked: remember it, close what it holds. */
  private closeRevoked(id: string): void {
    this.known.add(id);
    const set = this.held.get(id);
    if (!set) return;
    this.held.delete(id);
    if (this.held.size === 0) this.stopSweep();
    for (const close of set) {
      try {
        close(TOKEN_REVOKED);
      } catch {
        // One connection failing to close must not keep the others open.
      }
    }
  }

  /**
   * Only a shared database can see revocations by other managers: an embedded store
   * (PGlite) belongs to this one process, whose revocations close at once.
   */
  private startSweep(): void {
    if (this.sweepTimer || !this.store.shared) return;
    this.sweepTimer = setInterval(() => void this.sweep(), this.recheckMs);
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /**
   * One store read per period for every held token together (not one per token):
   * closes the connections of tokens revoked or deleted elsewhere. Only tokens held
   * before the read are judged — a token created during the read is absent from it.
   */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const judged = [...this.held.keys()];
      const live = await this.store.liveTokenIds(judged);
      for (const id of judged) {
        if (!live.has(id)) this.revoked(id);
      }
    } catch {
      // The store is unreachable: keep the last verdict (as the request path does).
    } finally {
      this.sweeping = false;
    }
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
          if (!record || record.revokedAt) {
            this.cache.delete(key);
            this.closeRevoked(hit.record.id);
          } else this.cache.set(key, { record, checkedAt: this.now() });
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

const kAuth = Symbol('vnp.auth');
type AuthedRequest = FastifyRequest & { [kAuth]?: TokenAuthenticator };

/**
 * Tie a long-lived connection to the token that authenticated `request` (see
 * {@link TokenAuthenticator.hold}); a no-op for a request without a token. Returns the
 * release, to call when the connection ends.
 *
 * @example
 *   const release = holdWhileAuthorized(request, () => stream.end());
 *   stream.once('close', release);
 */
export function holdWhileAuthorized(request: FastifyRequest, close: CloseHeld): () => void {
  const auth = (request as AuthedRequest)[kAuth];
  const id = request.principal?.id;
  return auth && id !== undefined ? auth.hold(id, close) : () => undefined;
}

function unauthenticated(message: string): VnpError {
  return new VnpError('VNP_ERR_UNAUTHENTICATED', message, { field: 'authorization' });
}

/**
 * Install the authentication hook on the root instance.
 *
 * @example
 *   installAuth(app, new TokenAuthenticator(store, Date.now));
 */
export function installAuth(
  app: FastifyInstance,
  auth: TokenAuthenticator,
  gateFor?: (request: FastifyRequest, reply: FastifyReply) => FailureGate,
  /** Further proof a principal must bring (agent mTLS), checked before its role. */
  checkPrincipal?: (request: FastifyRequest, principal: Principal) => void,
): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const access = accessOf(request);
    if (access === undefined || access === 'public') return;
    const gate = gateFor?.(request, reply);
    const principal = await auth.authenticate(request.headers.authorization, gate);
    request.principal = principal;
    (request as AuthedRequest)[kAuth] = auth;
    checkPrincipal?.(request, principal);
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
export function accessOf(request: FastifyRequest): Access | undefined {
  const url = request.routeOptions.url;
  if (url === undefined) return undefined;
  const declared = request.routeOptions.config?.access;
  if (declared) return declared;
  return url.startsWith('/v1') ? 'admin' : 'public';
}
