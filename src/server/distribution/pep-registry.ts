/**
 * What the manager knows of each policy enforcement point: its underlay address (so
 * other hosts' VXLAN FDB entries can reach it), its open watch streams, the last
 * revision sent and the last revision it acknowledged as applied — and who waits
 * for acknowledgements (`?wait=` on writes).
 *
 * Invariants: `appliedRevision` never decreases and never exceeds `sentRevision` (a
 * PEP cannot have applied what it was not sent: an acknowledgement above it is taken
 * up to it, one for a host never seen is ignored); `lag` is measured against the
 * manager's revision (every stream receives every revision, empty ones included, so
 * a PEP that is current has lag 0). A waiter only waits for PEPs connected to this
 * manager; one that disconnects stops being waited for. Entries are created only for
 * hosts an agent token spoke for (or whose underlay the database holds), and at most
 * {@link MAX_PEPS} are kept: beyond that the longest-silent disconnected one goes.
 */
import { formatIp, parseIp } from '../../model/net.js';

/** One PEP as reported. */
export interface PepStatus {
  host: string;
  connected: boolean;
  appliedRevision: number;
  /** Manager revision minus appliedRevision. */
  lag: number;
  /** ISO time of the last message from the PEP. */
  lastContact: string;
  /** Last revision streamed to it. */
  sentRevision?: number;
  /** Its underlay address, as it reported. */
  underlay?: string;
  /** Its kind (`nftables`, `ovs`), as it reported. */
  kind?: 'nftables' | 'ovs';
}

/** PEPs tracked at most (disconnected ones beyond this are forgotten, oldest contact first). */
/** The kinds of PEP an agent may report (`?kind=` on state and watch requests). */
export const PEP_KINDS = ['nftables', 'ovs'] as const;
export type PepKind = (typeof PEP_KINDS)[number];

export const MAX_PEPS = 100_000;

/**
 * The canonical text of a reported underlay address, or undefined when it is not
 * exactly one IPv4 or IPv6 address (it reaches other hosts' `bridge fdb` entries).
 *
 * @example underlayText('192.0.2.1') // '192.0.2.1'
 * @example underlayText('10.0.0.1 self\nlink set dev eth0 down') // undefined
 */
export function underlayText(text: string): string | undefined {
  const ip = parseIp(text);
  return ip === undefined ? undefined : formatIp(ip);
}

interface Pep {
  host: string;
  underlay?: string;
  /** The kind of PEP, as it reported (`nftables`, `ovs`). */
  kind?: PepKind;
  streams: number;
  sentRevision: number;
  appliedRevision: number;
  lastContact: number;
}

/** The result of {@link PepRegistry.waitFor}. */
export interface WaitResult {
  /** Milliseconds waited. */
  ms: number;
  /** Hosts that had to acknowledge. */
  hosts: string[];
  /** Hosts that did not in time (empty on success). */
  laggards: string[];
}

interface Waiter {
  revision: number;
  pending: Set<string>;
  /** Re-examine every pending host (a PEP disconnected). */
  check(): void;
  /** Resolve now (every pending host is done). */
  finish(): void;
}

export class PepRegistry {
  private readonly peps = new Map<string, Pep>();
  private readonly underlayListeners = new Set<(host: string, reported: boolean) => void>();
  private readonly ackListeners = new Set<(host: string, from: number, to: number) => void>();
  private readonly waiters = new Set<Waiter>();
  private readonly now: () => number;

  /** @example const peps = new PepRegistry(Date.now); */
  constructor(now: () => number) {
    this.now = now;
  }

  /** A PEP spoke (any request): remember when, and its underlay and kind if given. */
  touch(host: string, underlay?: string, kind?: PepKind): void {
    const p = this.get(host);
    p.lastContact = this.now();
    if (kind !== undefined) p.kind = kind;
    if (underlay !== undefined && underlay !== '' && p.underlay !== underlay) {
      p.underlay = underlay;
      for (const l of this.underlayListeners) l(host, true);
    }
  }

  /**
   * An underlay address learnt from elsewhere (another manager, through the database):
   * no contact is recorded.
   */
  learnUnderlay(host: string, stored: string): void {
    // Checked again: the database may hold what an older release did not check.
    const underlay = underlayText(stored);
    if (underlay === undefined) return;
    const p = this.peps.get(host);
    if (p?.underlay === underlay) return;
    if (p && p.streams > 0) return; // connected here: its own report is authoritative
    this.get(host).underlay = underlay;
    for (const l of this.underlayListeners) l(host, false);
  }

  /** A watch stream opened; returns the function that closes it. */
  connect(host: string, underlay?: string, kind?: PepKind): () => void {
    this.touch(host, underlay, kind);
    const p = this.get(host);
    p.streams++;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      p.streams--;
      p.lastContact = this.now();
      if (p.streams === 0) for (const w of [...this.waiters]) w.check();
    };
  }

  sent(host: string, revision: number): void {
    const p = this.get(host);
    p.sentRevision = Math.max(p.sentRevision, revision);
  }

  /** The last revision sent to a host (0 when none, or unknown). */
  sentOf(host: string): number {
    return this.peps.get(host)?.sentRevision ?? 0;
  }

  /**
   * The PEP applied `revision`: taken up to the revision it was sent (never beyond,
   * never backwards); ignored for a host never seen. Returns the applied revision.
   */
  ack(host: string, revision: number): number {
    const p = this.peps.get(host);
    if (!p) return 0;
    const before = p.appliedRevision;
    p.appliedRevision = Math.max(before, Math.min(revision, p.sentRevision));
    p.lastContact = this.now();
    if (p.appliedRevision > before) {
      for (const l of this.ackListeners) l(host, before, p.appliedRevision);
      // O(1) per ACK and waiter: 10,000 ACKs for one `?wait=` must not rescan 10,000 hosts each.
      for (const w of this.waiters)
        if (p.appliedRevision >= w.revision && w.pending.delete(host) && w.pending.size === 0)
          w.finish();
    }
    return p.appliedRevision;
  }

  underlayOf(host: string): string | undefined {
    return this.peps.get(host)?.underlay;
  }

  /**
   * Called with the host whose underlay address changed (every other host's remotes
   * change) and whether the PEP reported it to this manager (else: learnt).
   */
  onUnderlayChange(listener: (host: string, reported: boolean) => void): () => void {
    this.underlayListeners.add(listener);
    return () => this.underlayListeners.delete(listener);
  }

  /** Called when a PEP's applied revision advances from `from` to `to`. */
  onAck(listener: (host: string, from: number, to: number) => void): () => void {
    this.ackListeners.add(listener);
    return () => this.ackListeners.delete(listener);
  }

  /** Hosts with at least one open stream. */
  connected(): string[] {
    return [...this.peps.values()].filter((p) => p.streams > 0).map((p) => p.host);
  }

  /** Applied revision of a host (0 when unknown). */
  appliedOf(host: string): number {
    return this.peps.get(host)?.appliedRevision ?? 0;
  }

  /**
   * Resolve once every connected PEP among `hosts` ('all': every connected PEP) has
   * acknowledged `revision`, or after `timeoutMs` with the laggards listed.
   *
   * @example
   *   const r = await peps.waitFor(42, new Set(['h1', 'h2']), 5000);
   *   if (r.laggards.length) throw …;
   */
  waitFor(revision: number, hosts: Set<string> | 'all', timeoutMs: number): Promise<WaitResult> {
    const t0 = this.now();
    const all = this.connected().filter((h) => hosts === 'all' || hosts.has(h));
    const required = all.filter((h) => this.appliedOf(h) < revision);
    if (required.length === 0) return Promise.resolve({ ms: 0, hosts: all.sort(), laggards: [] });
    return new Promise((resolve) => {
      const pending = new Set(required);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve({ ms: this.now() - t0, hosts: all.sort(), laggards: [...pending].sort() });
      };
      const waiter: Waiter = {
        revision,
        pending,
        finish,
        check: () => {
          for (const h of [...pending]) {
            const p = this.peps.get(h);
            if (!p || p.streams === 0 || p.appliedRevision >= revision) pending.delete(h);
          }
          if (pending.size === 0) finish();
        },
      };
      const timer = setTimeout(finish, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  list(revision: number): PepStatus[] {
    return [...this.peps.values()]
      .sort((a, b) => (a.host < b.host ? -1 : 1))
      .map((p) => ({
        host: p.host,
        connected: p.streams > 0,
        appliedRevision: p.appliedRevision,
        sentRevision: p.sentRevision,
        lag: Math.max(0, revision - p.appliedRevision),
        lastContact: new Date(p.lastContact).toISOString(),
        ...(p.underlay !== undefined ? { underlay: p.underlay } : {}),
        ...(p.kind !== undefined ? { kind: p.kind } : {}),
      }));
  }

  private get(host: string): Pep {
    let p = this.peps.get(host);
    if (!p) {
      if (this.peps.size >= MAX_PEPS) this.forgetOldest();
      p = { host, streams: 0, sentRevision: 0, appliedRevision: 0, lastContact: this.now() };
      this.peps.set(host, p);
    }
    return p;
  }

  /** Drop the disconnected PEP silent for longest (O(n), only when the table is full). */
  private forgetOldest(): void {
    let oldest: Pep | undefined;
    for (const p of this.peps.values())
      if (p.streams === 0 && (!oldest || p.lastContact < oldest.lastContact)) oldest = p;
    if (oldest) this.peps.delete(oldest.host);
  }
}
