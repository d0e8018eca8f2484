/**
 * A synthetic model of N policies for the OVS flow-layout figures (ADR 0020) and the
 * datapath benchmark's OVS rows: 200 records on two hosts, tags from 50 apps and 20
 * tiers; policy k applies to one tier and allows one app on two ports out and another
 * app on a port range in, at one of ten priorities, with a cidr deny every tenth.
 * Compiled by the real Engine, so the host state has what policies really produce
 * (peers × ports entries, precedence-resolved and disjoint).
 */
import { Engine } from '../src/engine/index.js';
import type { HostState } from '../src/model/host-state.js';
import type { Document } from '../src/model/types.js';

export const MODEL_HOST = 'h1';

/** The documents of the model with `policies` policies. */
export function ovsModelDocs(policies: number, records = 200): Document[] {
  const docs: Document[] = [{ kind: 'Subnet', name: 'net', cidr: '10.64.0.0/16', vni: 1 }];
  for (let i = 0; i < records; i++) {
    const host = i % 2 === 0 ? 'h1' : 'h2';
    docs.push({ kind: 'Instance', name: `vm-${i}`, host });
    docs.push({
      kind: 'Interface',
      name: `r${i}`,
      subnet: 'net',
      ips: [`10.64.${i >> 8}.${(i & 255) + 1}`],
      instance: `vm-${i}`,
      tags: { app: `a${i % 50}`, tier: `t${i % 20}` },
    });
  }
  for (let k = 0; k < policies; k++) {
    const egress: Extract<Document, { kind: 'Policy' }>['egress'] = [
      {
        action: 'allow',
        to: { selector: `app == "a${k % 50}"` },
        ports: [`tcp/${8000 + (k % 1000)}`, `udp/${9000 + (k % 500)}`],
      },
    ];
    if (k % 10 === 0)
      egress.push({
        action: 'deny',
        to: { cidr: `10.64.0.${(k % 200) + 1}/32` },
        ports: ['tcp/22'],
      });
    docs.push({
      kind: 'Policy',
      name: `p${k}`,
      priority: k % 10,
      appliesTo: `tier == "t${k % 20}"`,
      mode: 'enforce',
      routes: [],
      egress,
      ingress: [
        {
          action: 'allow',
          from: { selector: `app == "a${(k + 7) % 50}"` },
          ports: [`tcp/${10000 + (k % 5000)}-${10000 + (k % 5000) + (k % 37)}`],
        },
      ],
    });
  }
  return docs;
}

/** Host h1's state of the model with `policies` policies. */
export function ovsModelState(policies: number): HostState {
  const engine = new Engine();
  engine.load(ovsModelDocs(policies), 0);
  return engine.hostState(MODEL_HOST, 1);
}
