/**
 * Recording a manager's identity allocations in the database, which decides identity
 * numbers (docs/adr/0007-distribution.md). One instance per Manager; claims run one
 * after another, in revision order.
 */
import type { Engine } from '../engine/index.js';
import type {
  GroupIdentityClaim,
  IdentityClaim,
  IdentityClaimResult,
  IdentityTable,
  Store,
} from '../store/index.js';
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
    const claim = this.nextClaim();
    if (!claim) return;
    const revision = this.host.revision();
    this.chain = this.chain
      .then(async () => {
        if (this.host.closed()) return;
        await this.settle(
          { ...claim, revision },
          await this.host.store.claimIdentities({ ...claim, revision }),
        );
      })
      .catch((err: unknown) => this.claimFailed(err));
  }

  /**
   * The claim of a group about to commit (the engine holds its writes), for the store
   * to record in the group's transaction at its last revision (`Store.commitGroup`):
   * one transaction and durable step fewer per write that allocates identities.
   * Undefined when there is nothing to claim. Call {@link groupFailed} if the group
   * does not commit.
   */
  groupClaim(): GroupIdentityClaim | undefined {
    const claim = this.nextClaim();
    if (!claim) return undefined;
    return {
      claim,
      done: (result, revision) => {
        // After the group: in order with the claims queued before it.
        this.chain = this.chain
          .then(() => this.settle({ ...claim, revision }, result))
          .catch((err: unknown) => this.claimFailed(err));
      },
    };
  }

  /** A group with a claim did not commit (or may not have): the next claim carries every row. */
  groupFailed(): void {
    this.tableFingerprint = undefined;
  }

  /** This revision's changes as a claim (without its revision), or undefined: nothing to record. */
  private nextClaim(): Omit<IdentityClaim, 'revision'> | undefined {
    const engine = this.host.engine();
    const { upsert, remove, before, after } = engine.takeIdentityChanges();
    const changed = upsert.length > 0 || remove.length > 0;
    // A store no other manager writes to: only changes need recording (for restarts).
    // In a shared database every revision is claimed, so a manager that diverged is caught.
    if (!changed && !this.host.store.shared) return undefined;
    const claim: Omit<IdentityClaim, 'revision'> = {
      base: before,
      fingerprint: after,
      upsert,
      remove,
    };
    if (this.tableFingerprint !== before) claim.all = engine.identityAllocations();
    this.tableFingerprint = after;
    return claim;
  }

  /**
   * Where the table stands after a claim: if another manager recorded this revision
   * with different numbers, or the table holds none of ours, rebuild the model seeded
   * from the database.
   */
  private async settle(claim: IdentityClaim, table: IdentityClaimResult): Promise<void> {
    const { revision, fingerprint: after } = claim;
    if (this.host.closed() || table.claimed) return;
    // The table is ahead: checked at a later revision.
    if (table.revision > revision) return;
    if (table.revision === revision && table.fingerprint === after) return;
    this.tableFingerprint = undefined;
    if (this.resyncAt === revision) return;
    this.resyncAt = revision;
    this.host.log.warn(
      { revision, table: table.revision },
      'identity numbers differ from the database; reloading seeded from it',
    );
    await this.host.resync();
  }

  private claimFailed(err: unknown): void {
    // Unknown whether it landed: the next claim carries every row.
    this.tableFingerprint = undefined;
    this.host.log.warn({ err }, 'recording identity allocations failed');
  }

  /**
   * A new engine loaded at `revision`, seeded from `table`: when the table already
   * records this revision with the engine's allocations (a restart after a clean stop),
   * there is nothing to claim — the claim would be refused and its answer would
   * match. Without it the first claim carried every row in a transaction at every
   * start (a tenth of a restart's CPU with 9 records). Otherwise its first claim
   * carries every row, as after {@link forget} (docs/adr/0065-restart-without-redundant-work.md).
   */
  loaded(table: IdentityTable | undefined, revision: number): void {
    this.forget();
    const engine = this.host.engine();
    if (table?.revision !== revision || table.fingerprint !== engine.identityFingerprint()) return;
    engine.takeIdentityChanges();
    this.tableFingerprint = table.fingerprint;
  }

  /** The persisted allocations to seed a load with (none when the table is empty or unreadable). */
  async seed(): Promise<IdentityTable | undefined> {
    try {
      const table = await this.host.store.loadIdentities();
      return table.revision > 0 ? table : undefined;
    } catch (err) {
      this.host.log.warn({ err }, 'reading identity allocations failed; numbering by load order');
      return undefined;
    }
  }
}
