/**
 * What the manager knows of each policy enforcement point: its underlay address (so
 * other hosts' VXLAN FDB entries can reach it), its open watch streams, the last
 * revision sent and the last revision it acknowledged as applied.
 *
 * Invariant: `appliedRevision <= sentRevision` for a host once it acknowledges what
 * it was sent; `lag` is measured against the manager's revision.
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

export class PepRegistry {
  private readonly peps = new Map<string, Pep>();
  private readonly underlayListeners = new Set<() => void>();
  private readonly now: () => number;

  constructor(now: () => number) {
    this.now = now;
  }

  /** A PEP spoke (any request): remember when, and its underlay if given. */
  touch(host: string, underlay?: string): void {
    const p = this.get(host);
    p.lastContact = this.now();
    if (underlay !== undefined && underlay !== '' && p.underlay !== underlay) {
      p.underlay = underlay;
      for (const l of this.underlayListeners) l();
    }
  }

  /** A watch stream opened; returns the function that closes it. */
  connect(host: string, underlay?: string): () => void {
    this.touch(host, underlay);
    const p = this.get(host);
    p.streams++;
    return () => {
      p.streams--;
      p.lastContact = this.now();
    };
  }

  sent(host: string, revision: number): void {
    const p = this.get(host);
    p.sentRevision = Math.max(p.sentRevision, revision);
  }

  ack(host: string, revision: number): void {
    const p = this.get(host);
    p.appliedRevision = Math.max(p.appliedRevision, revision);
    p.lastContact = this.now();
  }

  underlayOf(host: string): string | undefined {
    return this.peps.get(host)?.underlay;
  }

  /** Called when any host's underlay address changes (every host's remotes change). */
  onUnderlayChange(listener: () => void): () => void {
    this.underlayListeners.add(listener);
    return () => this.underlayListeners.delete(listener);
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
