/**
 * A small model as documents for the engine-driven datapath test: four records
 * on two hosts, a partition with intra deny, tier policies with ports, a cidr
 * deny that overrides a selector allow, and an unpartitioned outsider.
 */
import type { Document } from '../../../src/model/types.js';

/** Records: name → [host, ip, tags]. */
export const RECORDS: Record<
  string,
  { host: string; ip: string; tags: Record<string, string | number | boolean> }
> = {
  web: { host: 'h1', ip: '10.30.0.11', tags: { app: 'shop', tier: 'web' } },
  ops: { host: 'h1', ip: '10.30.0.14', tags: { team: 'ops' } },
  app: { host: 'h2', ip: '10.30.0.12', tags: { app: 'shop', tier: 'app' } },
  db: { host: 'h2', ip: '10.30.0.13', tags: { app: 'shop', tier: 'db' } },
};

export const PORTS = [8080, 5432, 22];

/**
 * The documents of the model; `instanceNs` names each instance's namespace.
 *
 * @example engine.load(modelDocs((n) => `vnpt-x-i-${n}`), 0)
 */
export function modelDocs(
  instanceNs: (name: string) => string,
  tagOverrides: Record<string, Record<string, string | number | boolean>> = {},
): Document[] {
  const docs: Document[] = [{ kind: 'Subnet', name: 'net', cidr: '10.30.0.0/24', vni: 30 }];
  for (const [name, r] of Object.entries(RECORDS)) {
    docs.push({ kind: 'Instance', name: `vm-${name}`, host: r.host, netns: instanceNs(name) });
    docs.push({
      kind: 'Interface',
      name,
      subnet: 'net',
      ips: [r.ip],
      instance: `vm-${name}`,
      tags: tagOverrides[name] ?? r.tags,
    });
  }
  docs.push(
    { kind: 'Partition', name: 'shop', selector: 'app == "shop"', intra: 'deny' },
    {
      kind: 'Policy',
      name: 'web',
      priority: 100,
      appliesTo: 'tier == "web"',
      mode: 'enforce',
      routes: [],
      ingress: [],
      egress: [
        { action: 'allow', to: { selector: 'tier == "app"' }, ports: ['tcp/8080', 'icmp'] },
        { action: 'allow', to: { selector: 'tier == "db"' }, ports: ['tcp/5432'] },
      ],
    },
    {
      kind: 'Policy',
      name: 'app',
      priority: 100,
      appliesTo: 'tier == "app"',
      mode: 'enforce',
      routes: [],
      ingress: [
        { action: 'log', from: { selector: 'tier == "web"' }, ports: ['tcp/8080', 'icmp'] },
      ],
      egress: [{ action: 'allow', to: { selector: 'tier == "db"' }, ports: ['tcp/5432'] }],
    },
    {
      kind: 'Policy',
      name: 'db',
      priority: 100,
      appliesTo: 'tier == "db"',
      mode: 'enforce',
      routes: [],
      ingress: [{ action: 'allow', from: { partition: 'shop' }, ports: ['tcp/5432'] }],
      egress: [],
    },
    {
      // Beats the web policy's allow to db: the db's address is off limits for web.
      kind: 'Policy',
      name: 'no-web-to-db',
      priority: 200,
      appliesTo: 'tier == "web"',
      mode: 'enforce',
      routes: [],
      ingress: [],
      egress: [{ action: 'deny', to: { cidr: '10.30.0.13/32' } }],
    },
  );
  return docs;
}
