/**
 * Collects what one batch changed, de-duplicated, and builds the EngineDelta.
 * An address removed and re-added in the same batch ends up as an upsert only.
 */
import type { Direction } from '../../model/host-state.js';
import { formatIp, type Ip } from '../../model/net.js';
import type { Tags } from '../../model/types.js';
import type { EngineDelta } from '../types.js';

export class DeltaBuilder {
  /**
   * A quiet builder (a full load, whose delta nobody reads) skips the per-record
   * bookkeeping: at 100k records it is most of the garbage a load makes.
   */
  constructor(private readonly quiet = false) {}

  private readonly upserts = new Map<string, { ip: string; identity: number }>();
  private readonly removes = new Map<string, string>();
  readonly identitiesAdded = new Map<number, Tags>();
  readonly identitiesReleased: number[] = [];
  private readonly sides = new Map<number, { identity: number; direction: Direction }>();
  readonly defaults = new Set<number>();
  readonly records = new Set<string>();
  readonly hosts = new Set<string>();
  /** Partitions whose membership changed (their members' default rows change). */
  readonly dirtyPartitions = new Set<string>();
  /** Some identity entered or left the set of partitioned identities. */
  partitionedChanged = false;
  /** The steer classes changed (set even when quiet: one flag, no bookkeeping). */
  steering = false;

  ipUpsert(ip: Ip, identity: number): void {
    if (this.quiet) return;
    const text = formatIp(ip);
    this.removes.delete(text);
    this.upserts.set(text, { ip: text, identity });
  }

  ipRemove(_key: string, ip: Ip): void {
    if (this.quiet) return;
    const text = formatIp(ip);
    if (this.upserts.has(text)) this.upserts.delete(text);
    this.removes.set(text, text);
  }

  side(identity: number, direction: Direction): void {
    if (this.quiet) return;
    this.sides.set(identity * 2 + (direction === 'egress' ? 0 : 1), { identity, direction });
  }

  record(name: string): void {
    if (!this.quiet) this.records.add(name);
  }

  build(): EngineDelta {
    const released = new Set(this.identitiesReleased);
    return {
      ipcacheUpsert: [...this.upserts.values()],
      ipcacheRemove: [...this.removes.values()].filter((ip) => !this.upserts.has(ip)),
      identitiesAdded: [...this.identitiesAdded]
        .filter(([id]) => !released.has(id))
        .map(([id, tags]) => ({ id, tags })),
      identitiesReleased: [...released],
      sides: [...this.sides.values()].filter((side) => !released.has(side.identity)),
      defaults: [...this.defaults].filter((id) => !released.has(id)),
      records: [...this.records],
      hosts: [...this.hosts],
      steering: this.steering,
    };
  }
}
