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
  const sel = (text: string, field: string) => {
    try {
      parseSelectorCached(text);
    } catch (e) {
      if (e instanceof VnpError)
        throw new VnpError(e.code, `${doc.kind} "${doc.name}": ${field}: ${e.message}`, {
          ...e.details,
          field,
        });
      throw e;
    }
  };
  const peer = (p: Peer | undefined, field: string) => {
    if (!p) return;
    if (p.selector !== undefined) sel(p.selector, `${field}.selector`);
    for (const [i, c] of [p.cidr, ...(p.except ?? [])].entries()) {
      if (c !== undefined && !parseCidr(c)) {
        const f = i === 0 ? `${field}.cidr` : `${field}.except[${i - 1}]`;
        throw new VnpError(
          'VNP_ERR_VALIDATION',
          `${doc.kind} "${doc.name}": ${f}: expected a CIDR, got ${JSON.stringify(c)}`,
          { field: f, expected: 'a CIDR' },
        );
      }
    }
  };
  if (doc.kind === 'Partition') sel(doc.selector, 'selector');
  if (doc.kind !== 'Policy') return;
  sel(doc.appliesTo, 'appliesTo');
  for (const dir of ['ingress', 'egress'] as const) {
    (doc[dir] ?? []).forEach((r, i) => {
      peer(dir === 'ingress' ? r.from : r.to, `${dir}[${i}].${dir === 'ingress' ? 'from' : 'to'}`);
      (r.ports ?? []).forEach((p, j) => parsePortSpec(p, `${dir}[${i}].ports[${j}]`));
    });
  }
  (doc.routes ?? []).forEach((r, i) => {
    peer(r.to, `routes[${i}].to`);
    (r.ports ?? []).forEach((p, j) => parsePortSpec(p, `routes[${i}].ports[${j}]`));
  });
}
