/**
 * A string → set-of-names index whose keys mostly hold one name (records by instance:
 * one interface per instance is the common case). A lone name is held inline; a set
 * is made only for the second one. At 100k instances that is 100k fewer Set objects
 * for a load to allocate and the garbage collector to copy.
 *
 * @example
 *   const byInstance = new NameIndex();
 *   byInstance.add('vm-1', 'eth0');
 *   [...byInstance.get('vm-1')]; // ['eth0']
 */
const NONE: readonly string[] = Object.freeze([]);

export class NameIndex {
  private readonly map = new Map<string, string | Set<string>>();

  add(key: string, name: string): void {
    const cur = this.map.get(key);
    if (cur === undefined) this.map.set(key, name);
    else if (typeof cur === 'string') {
      if (cur !== name) this.map.set(key, new Set([cur, name]));
    } else cur.add(name);
  }

  delete(key: string, name: string): void {
    const cur = this.map.get(key);
    if (cur === undefined) return;
    if (typeof cur === 'string') {
      if (cur === name) this.map.delete(key);
      return;
    }
    cur.delete(name);
    if (cur.size === 0) this.map.delete(key);
  }

  /** An independent copy (for Engine.fork): the sets are copied, the names shared. */
  clone(): NameIndex {
    const c = new NameIndex();
    for (const [key, cur] of this.map) c.map.set(key, typeof cur === 'string' ? cur : new Set(cur));
    return c;
  }

  /** The names under `key`, in insertion order (empty when none). */
  get(key: string): Iterable<string> {
    const cur = this.map.get(key);
    if (cur === undefined) return NONE;
    return typeof cur === 'string' ? [cur] : cur;
  }
}
