/**
 * Recording a manager's identity allocations in the database, which decides identity
 * numbers (docs/adr/0007-distribution.md). One instance per Manager; claims run one
 * after another, in revision order.
 */
import type { Engine } from '../engine/index.js';
import type { IdentityClaim, IdentityRow, Store } from '../store/index.js';
import type { ManagerLog } from './manager-types.js';

/** What the sync reads from and asks of its manager. */
export interface IdentitySyncHost {
  store: Store;
  log: ManagerLog;
  engine(): Engine;
  /** The store revision the engine reflects. */
  revision(): number;
  closed(): boolean;
  /** Rebuild the model seeded from the database (under the write lock) and tell its listeners. */
  resync(): Promise<void>;
}

/**
 * The manager's identity claims (see {@link IdentitySync.sync}).
 *
 * @example
 *   const identities = new IdentitySync(host);
 *   identities.sync(); // after each applied revision
 */
export class IdentitySync {
  /**
   * The fingerprint the identity table will hold once this manager's queued claims
   * landed, if it matches this manager's allocations (undefined: unknown — the next
   * claim carries every row).
   */
  private tableFingerprint: string | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** The revision a resync last ran at (never loop on one revision). */
  private resyncAt = -1;

  constructor(private readonly host: IdentitySyncHost) {}

  /** Resolves once the claims queued so far were recorded or checked. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** A new engine: its first claim carries every row. */
  forget(): void {
    this.tableFingerprint = undefined;
  }

  /**
   * Record this revision's allocations first-writer-wins — only the rows this revision
   * changed, unless the table may not hold this manager's previous allocations; if
   * another manager recorded this revision with different numbers (fingerprints
   * differ), or the table holds none of ours, rebuild the model seeded from the
   * database. O(changed identities) per revision.
   */
  sync(): void {
    const { store, log } = this.host;
    const engine = this.host.engine();
    const revision = this.host.revision();
    const { upsert, remove, before, after } = engine.takeIdentityChanges();
    const changed = upsert.length > 0 || remove.length > 0;
    // A store no other manager writes to: only changes need recording (for restarts).
    // In a shared database every revision is claimed, so a manager that diverged is caught.
    if (!changed && !store.shared) return;
    const claim: IdentityClaim = { revision, base: before, fingerprint: after, upsert, remove };
    if (this.tableFingerprint !== before) claim.all = engine.identityAllocations();
    this.tableFingerprint = after;
    this.chain = this.chain
      .then(async () => {
        if (this.host.closed()) return;
        const table = await store.claimIdentities(claim);
        if (table.claimed) return;
        // The table is ahead: checked at a later revision.
        if (table.revision > revision) return;
        if (table.revision === revision && table.fingerprint === after) return;
        this.tableFingerprint = undefined;
        if (this.resyncAt === revision) return;
        this.resyncAt = revision;
        log.warn(
          { revision, table: table.revision },
          'identity numbers differ from the database; reloading seeded from it',
        );
        await this.host.resync();
      })
      .catch((err: unknown) => {
        // Unknown whether it landed: the next claim carries every row.
        this.tableFingerprint = undefined;
        log.warn({ err }, 'recording identity allocations failed');
      });
  }

  /** The persisted allocations to seed a load with (none when the table is empty or unreadable). */
  async seed(): Promise<IdentityRow[] | undefined> {
    try {
      const t = await this.host.store.loadIdentities();
      return t.revision > 0 ? t.identities : undefined;
    } catch (err) {
      this.host.log.warn({ err }, 'reading identity allocations failed; numbering by load order');
      return undefined;
    }
  }
}
