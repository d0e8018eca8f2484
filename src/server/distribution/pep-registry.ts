/**
 * What the manager knows of each policy enforcement point: its underlay address (so
 * other hosts' VXLAN FDB entries can reach it), its open watch streams, the last
 * revision sent and the last revision it acknowledged as applied — and who waits
 * for acknowledgements (`?wait=` on writes).
 *
 * Invariants: `appliedRevision` never decreases; `lag` is measured against the
 * manager's revision (every stream receives every revision, empty ones included, so
 * a PEP that is current has lag 0). A waiter only waits for PEPs connected to this
 * manager; one that disconnects stops being waited for.
 */
import type { PepStatus } from '../routes/peps.js';

interface Pep {
  host: string;
  underlay?: string;
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

  /** A PEP spoke (any request): remember when, and its underlay if given. */
  touch(host: string, underlay?: string): void {
    const p = this.get(host);
    p.lastContact = this.now();
    if (underlay !== undefined && underlay !== '' && p.underlay !== underlay) {
      p.underlay = underlay;
      for (const l of this.underlayListeners) l(host, true);
    }
  }

  /**
   * An underlay address learnt from elsewhere (another manager, through the database):
   * no contact is recorded.
   */
  learnUnderlay(host: string, underlay: string): void {
    const p = this.peps.get(host);
    if (p?.underlay === underlay) return;
    if (p && p.streams > 0) return; // connected here: its own report is authoritative
    this.get(host).underlay = underlay;
    for (const l of this.underlayListeners) l(host, false);
  }

  /** A watch stream opened; returns the function that closes it. */
  connect(host: string, underlay?: string): () => void {
    this.touch(host, underlay);
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

  /** The PEP applied `revision` (acknowledgements never go backwards). */
  ack(host: string, revision: number): void {
    const p = this.get(host);
    const before = p.appliedRevision;
    p.appliedRevision = Math.max(p.appliedRevision, revision);
    p.lastContact = this.now();
    if (p.appliedRevision > before) {
      for (const l of this.ackListeners) l(host, before, p.appliedRevision);
      // O(1) per ACK and waiter: 10,000 ACKs for one `?wait=` must not rescan 10,000 hosts each.
      for (const w of this.waiters)
        if (p.appliedRevision >= w.revision && w.pending.delete(host) && w.pending.size === 0)
          w.finish();
    }
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
      }));
  }

  private get(host: string): Pep {
    let p = this.peps.get(host);
    if (!p) {
      p = { host, streams: 0, sentRevision: 0, appliedRevision: 0, lastContact: this.now() };
      this.peps.set(host, p);
    }
    return p;
  }
}
