/**
 * A last line of defence before a document is compiled: every selector parses, every
 * port spec and CIDR is well formed. Shape validation (src/model/validate.ts) normally
 * catches all of this first; the engine re-checks so that a batch can never fail
 * half-way through `apply` and leave state half-changed.
 */
import { VnpError } from '../model/errors.js';
import { parseCidr } from '../model/net.js';
import { parsePortSpec } from '../model/ports.js';
import type { Document, Peer } from '../model/types.js';
import { parseSelectorCached } from '../selector/index.js';

export function checkCompilable(doc: Document): void {
  if (doc.kind !== 'Policy' && doc.kind !== 'Partition') return;
  // Field texts are built only when something is wrong: a load checks 10k policies.
  const sel = (text: string, field: () => string) => {
    try {
      parseSelectorCached(text);
    } catch (e) {
      if (e instanceof VnpError)
        throw new VnpError(e.code, `${doc.kind} "${doc.name}": ${field()}: ${e.message}`, {
          ...e.details,
          field: field(),
        });
      throw e;
    }
  };
  const peer = (p: Peer | undefined, list: string, i: number, key: string) => {
    if (!p) return;
    const field = () => `${list}[${i}].${key}`;
    if (p.selector !== undefined) sel(p.selector, () => `${field()}.selector`);
    if (p.cidr === undefined && p.except === undefined) return;
    for (const [k, c] of [p.cidr, ...(p.except ?? [])].entries()) {
      if (c !== undefined && !parseCidr(c)) {
        const f = k === 0 ? `${field()}.cidr` : `${field()}.except[${k - 1}]`;
        throw new VnpError(
          'VNP_ERR_VALIDATION',
          `${doc.kind} "${doc.name}": ${f}: expected a CIDR, got ${JSON.stringify(c)}`,
          { field: f, expected: 'a CIDR' },
        );
      }
    }
  };
  if (doc.kind === 'Partition') sel(doc.selector, () => 'selector');
  if (doc.kind !== 'Policy') return;
  sel(doc.appliesTo, () => 'appliesTo');
  for (const dir of ['ingress', 'egress'] as const) {
    const key = dir === 'ingress' ? 'from' : 'to';
    const rules = doc[dir] ?? [];
    for (let i = 0; i < rules.length; i++) {
      peer(rules[i]![key], dir, i, key);
      checkPorts(rules[i]!.ports, dir, i);
    }
  }
  (doc.routes ?? []).forEach((r, i) => {
    peer(r.to, 'routes', i, 'to');
    checkPorts(r.ports, 'routes', i);
  });
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
