/**
 * How imported objects are named and tagged in vnp (docs/kubernetes.md, ADR 0010).
 * Kubernetes label keys never contain `:`, so every key vnp adds has one: pod
 * labels keep their own keys, namespace labels become `ns:<key>`, and the
 * importer's own facts live under `k8s:` and `port:`. Nothing an import writes
 * can collide with a label.
 */
import { VnpError } from '../model/errors.js';
import { printPath, quoteString } from '../selector/index.js';

/** The reserved tag that records which import (source) owns a record. */
export const SOURCE_TAG = 'k8s:source';
/** `<namespace>/<pod>`: which Pod a record stands for. */
export const POD_TAG = 'k8s:pod';
/** Namespace labels on pod records: `ns:<label key>`. */
export const NS_TAG_PREFIX = 'ns:';
/** Named container ports on pod records: `port:<tcp|udp|sctp>:<name>` → number. */
export const PORT_TAG_PREFIX = 'port:';

/** Isolation (deny what no rule allows) sits one below the allows (union of allows). */
export const ISOLATION_PRIORITY = 1000;
export const ALLOW_PRIORITY = 1001;

export const DEFAULT_SOURCE = 'k8s';
export const DEFAULT_SUBNET = 'pods';
const SOURCE_RE = /^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$/;

/**
 * Check a source name: it prefixes every name the import creates.
 *
 * @example checkSource('prod-cluster') // ok; checkSource('A.b') throws naming source
 */
export function checkSource(source: string): void {
  if (!SOURCE_RE.test(source)) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `source: expected 1-24 of a-z 0-9 - (alphanumeric at both ends), got ${JSON.stringify(source)}`,
      { field: 'source', expected: 'a source name' },
    );
  }
}

/** The description prefix that marks a policy as owned by an import source. */
export function ownerMark(source: string): string {
  return `k8s import (source ${source}): `;
}

/** FNV-1a, 32 bits, as 8 hex digits: short, stable suffixes for names cut to length. */
function hash8(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * A vnp name (≤ 63 characters) for `<source>.<namespace>.<name>` plus a suffix;
 * longer ones keep their start and the suffix, with a hash of the whole between.
 *
 * @example vnpName('k8s', 'x', 'deny-all', '_isolation') // 'k8s.x.deny-all_isolation'
 */
export function vnpName(source: string, namespace: string, name: string, suffix = ''): string {
  const full = `${source}.${namespace}.${name}${suffix}`;
  if (full.length <= 63) return full;
  const head = `${source}.${namespace}.${name}`.slice(0, 63 - 9 - suffix.length);
  return `${head}-${hash8(full)}${suffix}`;
}

/** `key == "value"` for a tag key of any spelling. */
export function tagEquals(key: string, value: string | number): string {
  return `${printPath([key])} == ${typeof value === 'string' ? quoteString(value) : value}`;
}

/** Conjunction of selector parts (none of which has a top-level `||`); `all()` when empty. */
export function and(...parts: (string | undefined)[]): string {
  const kept = parts.filter((p): p is string => p !== undefined && p !== 'all()');
  return kept.length === 0 ? 'all()' : kept.join(' && ');
}
