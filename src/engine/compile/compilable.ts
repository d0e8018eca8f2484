/**
 * A last line of defence before a document is compiled: every selector parses, every
 * port spec and CIDR is well formed. Shape validation (src/model/validate.ts) normally
 * catches all of this first; the engine re-checks so that a batch can never fail
 * half-way through `apply` and leave state half-changed.
 */
import { VnpError } from '../../model/errors.js';
import { parseCidr } from '../../model/net.js';
import { parsePortSpec } from '../../model/ports.js';
import type { Document, Peer } from '../../model/types.js';
import { parseSelectorCached } from '../../selector/index.js';

/**
 * Throws the first uncompilable part of a policy or partition. Field texts are built
 * only when something is wrong, and no closure is made per rule: a load checks 10k
 * policies (and tsx wraps every closure it creates in a naming helper).
 */
export function checkCompilable(doc: Document): void {
  if (doc.kind === 'Partition') checkSelector(doc, doc.selector, 'selector');
  if (doc.kind !== 'Policy') return;
  checkSelector(doc, doc.appliesTo, 'appliesTo');
  for (const dir of DIRECTIONS) {
    const key = dir === 'ingress' ? 'from' : 'to';
    const rules = doc[dir] ?? [];
    for (let i = 0; i < rules.length; i++) {
      checkPeer(doc, rules[i]![key], dir, i, key);
      checkPorts(rules[i]!.ports, dir, i);
    }
  }
  const routes = doc.routes ?? [];
  for (let i = 0; i < routes.length; i++) {
    checkPeer(doc, routes[i]!.to, 'routes', i, 'to');
    checkPorts(routes[i]!.ports, 'routes', i);
  }
}

const DIRECTIONS = ['ingress', 'egress'] as const;

function checkSelector(doc: Document, text: string, field: string): void {
  try {
    parseSelectorCached(text);
  } catch (e) {
    rethrow(doc, e, field);
  }
}

/** A selector's parse error, re-thrown naming the document and the field. */
function rethrow(doc: Document, e: unknown, field: string): never {
  if (e instanceof VnpError)
    throw new VnpError(e.code, `${doc.kind} "${doc.name}": ${field}: ${e.message}`, {
      ...e.details,
      field,
    });
  throw e;
}

function checkPeer(doc: Document, p: Peer | undefined, list: string, i: number, key: string): void {
  if (!p) return;
  if (p.selector !== undefined) {
    try {
      parseSelectorCached(p.selector);
    } catch (e) {
      rethrow(doc, e, `${list}[${i}].${key}.selector`);
    }
  }
  if (p.cidr === undefined && p.except === undefined) return;
  const field = `${list}[${i}].${key}`;
  for (const [k, c] of [p.cidr, ...(p.except ?? [])].entries()) {
    if (c !== undefined && !parseCidr(c)) {
      const f = k === 0 ? `${field}.cidr` : `${field}.except[${k - 1}]`;
      throw new VnpError(
        'VNP_ERR_VALIDATION',
        `${doc.kind} "${doc.name}": ${f}: expected a CIDR, got ${JSON.stringify(c)}`,
        { field: f, expected: 'a CIDR' },
      );
    }
  }
}

/** Port specs already seen to parse (a load re-reads the same few dozen thousands of times). */
const goodPorts = new Set<string>();

function checkPorts(ports: readonly string[] | undefined, list: string, i: number): void {
  if (!ports) return;
  for (let j = 0; j < ports.length; j++) {
    const p = ports[j]!;
    if (goodPorts.has(p)) continue;
    parsePortSpec(p, `${list}[${i}].ports[${j}]`);
    if (goodPorts.size >= 10_000) goodPorts.clear();
    goodPorts.add(p);
  }
}
