/**
 * Terse builders for hand-written models (verdict tables, docs examples): two
 * subnets, `net4` 10.0.0.0/16 and `net6` fd00::/64; a record's subnet follows its
 * first address's family.
 */
import type { Interface, Partition, Policy, Rule, Settings, Tags } from '../../src/model/types.js';
import { DEFAULT_SETTINGS } from '../../src/model/types.js';
import type { OracleModel } from './oracle/oracle-model.js';

/**
 * An interface record; the first address is primary.
 *
 * @example rec('web', ['10.0.0.1', '10.0.0.11'], { app: 'web' })
 */
export function rec(name: string, ips: string | string[], tags: Tags = {}): Interface {
  const list = typeof ips === 'string' ? [ips] : ips;
  return { name, subnet: (list[0] ?? '').includes(':') ? 'net6' : 'net4', ips: list, tags };
}

/**
 * A partition.
 *
 * @example part('pci', 'pci == true', 'deny')
 */
export function part(name: string, selector: string, intra: 'allow' | 'deny' = 'allow'): Partition {
  return { name, selector, intra };
}

/**
 * A policy.
 *
 * @example pol('web-out', 100, 'app == "web"', { egress: [{ action: 'allow', to: { selector: 'app == "db"' } }] })
 */
export function pol(
  name: string,
  priority: number,
  appliesTo: string,
  rules: { ingress?: Rule[]; egress?: Rule[]; mode?: 'enforce' | 'audit' },
): Policy {
  return {
    name,
    priority,
    appliesTo,
    ingress: rules.ingress ?? [],
    egress: rules.egress ?? [],
    routes: [],
    mode: rules.mode ?? 'enforce',
  };
}

/**
 * Settings with the given defaults (the design defaults otherwise).
 *
 * @example settings({ unpartitioned: 'deny' })
 */
export function settings(defaults: Partial<Settings['defaults']> = {}): Settings {
  return { name: 'default', defaults: { ...DEFAULT_SETTINGS.defaults, ...defaults } };
}

/**
 * A whole model on the two standard subnets.
 *
 * @example model({ records: [rec('a', '10.0.0.1')], policies: [] })
 */
export function model(parts: {
  records: Interface[];
  partitions?: Partition[];
  policies?: Policy[];
  settings?: Settings;
}): OracleModel {
  return {
    subnets: [
      { name: 'net4', cidr: '10.0.0.0/16' },
      { name: 'net6', cidr: 'fd00::/64' },
    ],
    instances: [],
    interfaces: parts.records,
    partitions: parts.partitions ?? [],
    policies: parts.policies ?? [],
    settings: parts.settings ?? settings(),
  };
}
