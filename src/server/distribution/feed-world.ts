/**
 * The part of the host feed every host shares (src/server/distribution/host-feed.ts):
 * the attached records and the ipcache as the streams last received them, and which
 * identities are local on which host. Each step reads the engine's listed records
 * into it and gets back what changed, in O(listed records).
 */
import type { HostViewDelta } from '../../engine/index.js';
import type { DeltaRecord } from '../../model/host-delta.js';
import type { IpcacheEntry } from '../../model/host-state.js';

/** What a step changed in the shared part. */
export interface WorldChange {
  ipcache?: { upsert: IpcacheEntry[]; remove: string[] };
  records?: { upsert: DeltaRecord[]; remove: string[] };
}

/** Per host: local identities gained and lost in one step. */
export type HostIdChanges = Map<string, { added: number[]; removed: number[] }>;

export class FeedWorld {
  private readonly records = new Map<string, { rec: DeltaRecord; json: string }>();
  private readonly ipcache = new Map<string, number>();
  /** Every record's addresses as last read (attached or not): its ipcache entries. */
  private readonly ipsOf = new Map<string, string[]>();
  private readonly hostLocal = new Map<string, Map<number, number>>();
  /** Per identity: the hosts it is local on (a step's changes fan out through it). */
  private readonly localHosts = new Map<number, Set<string>>();
  /** Net changes of hosts' local identity sets since the last step (true: gained). */
  private hostIdChanges = new Map<string, Map<number, boolean>>();
  /** Identities that stopped being local somewhere since the last {@link takeGone}. */
  private readonly maybeGone = new Set<number>();

  constructor(private readonly underlayOf: (host: string) => string | undefined) {}

  /** Forget everything (a reset). */
  clear(): void {
    this.records.clear();
    this.ipcache.clear();
    this.ipsOf.clear();
    this.hostLocal.clear();
    this.localHosts.clear();
    this.hostIdChanges.clear();
    this.maybeGone.clear();
  }

  /** Whether some host runs a record of identity `id`. */
  isLocal(id: number): boolean {
    return this.localHosts.has(id);
  }

  /** The hosts `id` is local on now (none: local nowhere). Read-only. */
  hostsOf(id: number): ReadonlySet<string> | undefined {
    return this.localHosts.get(id);
  }

  /** The identities local on `host` now. */
  localIds(host: string): Set<number> {
    return new Set(this.hostLocal.get(host)?.keys() ?? []);
  }

  /** Identities that may be local nowhere since the last call (callers check {@link isLocal}). */
  takeGone(): number[] {
    const out = [...this.maybeGone];
    this.maybeGone.clear();
    return out;
  }

  /** The records of `hosts` with their current underlay (they moved: every other host's copy changes). */
  recordsOf(hosts: ReadonlySet<string>): DeltaRecord[] {
    return [...this.records.values()]
      .filter((r) => hosts.has(r.rec.host))
      .map((r) => this.withUnderlay(r.rec));
  }

  /**
   * Take the view's records and ipcache entries and return what changed for the
   * streams: O(listed records). A full view lists every record: those the feed holds
   * that it does not list are gone.
   */
  read(view: HostViewDelta): WorldChange {
    const listed = new Map(view.records.map((r) => [r.name, r]));
    const names = new Set(listed.keys());
    if (view.full) {
      for (const n of this.ipsOf.keys()) names.add(n);
      for (const n of this.records.keys()) names.add(n);
    }
    const upsert: DeltaRecord[] = [];
    const removed: string[] = [];
    const ipOld = new Set<string>();
    const ipNew = new Map<string, number>();
    for (const name of [...names].sort()) {
      this.readRecord(name, listed.get(name)?.attached, upsert, removed);
      for (const ip of this.ipsOf.get(name) ?? []) ipOld.add(ip);
      const entries = listed.get(name)?.ipcache ?? [];
      for (const e of entries) ipNew.set(e.ip, e.identity);
      if (entries.length)
        this.ipsOf.set(
          name,
          entries.map((e) => e.ip),
        );
      else this.ipsOf.delete(name);
    }
    const ipcache = this.readIpcache(ipOld, ipNew);
    return {
      ...(ipcache ? { ipcache } : {}),
      ...(upsert.length || removed.length ? { records: { upsert, remove: removed } } : {}),
    };
  }

  /** The net local identity changes per host since the last call. */
  takeHostIds(): HostIdChanges {
    const out: HostIdChanges = new Map();
    for (const [h, m] of this.hostIdChanges) {
      const added: number[] = [];
      const removed: number[] = [];
      for (const [id, gained] of m) (gained ? added : removed).push(id);
      if (added.length || removed.length) out.set(h, { added, removed });
    }
    this.hostIdChanges = new Map();
    return out;
  }

  /** One record as listed (`rec` undefined: not attached, or gone). */
  private readRecord(
    name: string,
    rec: DeltaRecord | undefined,
    upsert: DeltaRecord[],
    removed: string[],
  ): void {
    const old = this.records.get(name);
    if (rec === undefined) {
      if (old) {
        removed.push(name);
        this.unindex(old.rec);
        this.records.delete(name);
      }
      return;
    }
    const json = JSON.stringify(rec);
    if (old?.json !== json) {
      upsert.push(this.withUnderlay(rec));
      if (old) this.unindex(old.rec);
      this.index(rec);
    }
    this.records.set(name, { rec, json });
  }

  /**
   * The ipcache changes from the listed records' old and new addresses. An address
   * another changed record took over stays: addresses are unique, so one held by a
   * record not listed cannot have been held by a listed one.
   */
  private readIpcache(ipOld: Set<string>, ipNew: Map<string, number>): WorldChange['ipcache'] {
    const upsert: IpcacheEntry[] = [];
    for (const [ip, identity] of ipNew) {
      ipOld.delete(ip);
      if (this.ipcache.get(ip) === identity) continue;
      upsert.push({ ip, identity });
      this.ipcache.set(ip, identity);
    }
    const remove = [...ipOld].filter((ip) => this.ipcache.delete(ip)).sort();
    if (!upsert.length && !remove.length) return undefined;
    return { upsert: upsert.sort((a, b) => (a.ip < b.ip ? -1 : 1)), remove };
  }

  private withUnderlay(r: DeltaRecord): DeltaRecord {
    const u = this.underlayOf(r.host);
    return u === undefined ? r : { ...r, underlay: u };
  }

  private index(r: DeltaRecord): void {
    let m = this.hostLocal.get(r.host);
    if (!m) this.hostLocal.set(r.host, (m = new Map()));
    const n = m.get(r.identity) ?? 0;
    m.set(r.identity, n + 1);
    if (n > 0) return;
    this.noteHostId(r.host, r.identity, true);
    let hosts = this.localHosts.get(r.identity);
    if (!hosts) this.localHosts.set(r.identity, (hosts = new Set()));
    hosts.add(r.host);
  }

  private unindex(r: DeltaRecord): void {
    const m = this.hostLocal.get(r.host);
    if (!m) return;
    const n = (m.get(r.identity) ?? 0) - 1;
    if (n > 0) {
      m.set(r.identity, n);
      return;
    }
    m.delete(r.identity);
    if (m.size === 0) this.hostLocal.delete(r.host);
    this.noteHostId(r.host, r.identity, false);
    const hosts = this.localHosts.get(r.identity);
    hosts?.delete(r.host);
    if (hosts?.size === 0) {
      this.localHosts.delete(r.identity);
      this.maybeGone.add(r.identity);
    }
  }

  /** A host gained or lost a local identity; a gain and a loss in one step cancel. */
  private noteHostId(host: string, id: number, gained: boolean): void {
    let m = this.hostIdChanges.get(host);
    if (!m) this.hostIdChanges.set(host, (m = new Map()));
    if (m.has(id) && m.get(id) !== gained) m.delete(id);
    else m.set(id, gained);
  }
}
