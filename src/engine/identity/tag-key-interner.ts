/**
 * Canonical identity keys (`canonicalTagsJson` of a record's relevant tags) without
 * building the text per record: a trie over (tag key, tag value) in key order whose
 * leaves hold the key text, built once per distinct tag set. A load derives the key of
 * 100k records; concatenating and then hashing a fresh string for each was most of the
 * identity derivation time. The returned text is the same string object for equal tag
 * sets, so map lookups and comparisons on it are cheap.
 *
 * The trie only grows; past a bound it starts over (keys stay correct, they are just
 * rebuilt), so records that churn through unique tag values cannot leak memory.
 *
 * @example
 *   const keys = new TagKeyInterner();
 *   keys.keyOf({ env: 'prod', app: 'web' }, ['app', 'env']); // '{"app":"web","env":"prod"}'
 */
import { canonicalTagsJson } from '../../model/tags.js';
import type { TagValue, Tags } from '../../model/types.js';

interface Node {
  /** Tag key → value → next node; scalar values are map keys as they are (made on first use). */
  scalar: Map<string, Map<string | number | boolean, Node>> | undefined;
  /** Tag key → canonical JSON of an object/array value → next node (made on first use). */
  json: Map<string, Map<string, Node>> | undefined;
  /** The canonical text of the tag set whose path ends here (built on first use). */
  text: string | undefined;
}

const newNode = (): Node => ({ scalar: undefined, json: undefined, text: undefined });

/**
 * Nodes kept before the trie starts over: well above a 100k-record load's ~40k (one per
 * distinct app, one per identity), and at most a few tens of MiB when every record
 * has its own relevant values.
 */
const MAX_NODES = 250_000;

export class TagKeyInterner {
  private root = newNode();
  private nodes = 0;

  constructor(private readonly maxNodes = MAX_NODES) {}

  /**
   * The canonical JSON of `tags` restricted to `keys`, which must be the tag's own keys
   * to keep, sorted in code-unit order.
   */
  keyOf(tags: Tags, keys: readonly string[]): string {
    if (this.nodes > this.maxNodes) {
      this.root = newNode();
      this.nodes = 0;
    }
    let node = this.root;
    for (let i = 0; i < keys.length; i++) node = this.step(node, keys[i]!, tags[keys[i]!]!);
    return (node.text ??= textOf(tags, keys));
  }

  private step(node: Node, key: string, value: TagValue): Node {
    let byValue: Map<unknown, Node> | undefined;
    let v: unknown = value;
    if (typeof value === 'object') {
      v = canonicalTagsJson(value as Tags);
      node.json ??= new Map();
      byValue = node.json.get(key) as Map<unknown, Node> | undefined;
      if (byValue === undefined) node.json.set(key, (byValue = new Map()) as never);
    } else {
      node.scalar ??= new Map();
      byValue = node.scalar.get(key) as Map<unknown, Node> | undefined;
      if (byValue === undefined) node.scalar.set(key, (byValue = new Map()) as never);
    }
    let next = byValue.get(v);
    if (next === undefined) {
      byValue.set(v, (next = newNode()));
      this.nodes++;
    }
    return next;
  }
}

/** `canonicalTagsJson` of the picked tags (once per distinct tag set: not a hot path). */
function textOf(tags: Tags, keys: readonly string[]): string {
  return canonicalTagsJson(Object.fromEntries(keys.map((k) => [k, tags[k]!])));
}
