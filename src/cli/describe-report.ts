/**
 * What `vnp describe KIND NAME` shows, gathered from the manager with reads only: the
 * resource, and what it means in the model — for a record its identity, partitions,
 * the rules that apply to it in the order they decide (the seed's
 * get_policy_for_traffic) and its recent events; for a selector-bearing kind the records
 * it matches; for every kind its recent history (the audit log).
 */
import type { VnpClient } from '../client/client.js';
import type {
  ApiResource,
  AuditEntry,
  IdentityInfo,
  JsonObject,
  ResolvedPolicy,
} from '../client/api-types.js';
import type { Kind } from '../model/types.js';

/** How many history entries and events a description shows. */
export const RECENT = 10;

export interface DescribeReport {
  kind: Kind;
  resource: ApiResource;
  /** Interface: its identity. */
  identity?: IdentityInfo;
  /** Interface: the merged rule set of its tags, in precedence order. */
  policy?: ResolvedPolicy;
  /** Interface: events about it, newest first. */
  events?: JsonObject[];
  /** Partition, Policy: records the selector matches; Subnet, Instance: records in it. */
  records?: string[];
  history: AuditEntry[];
}

/**
 * Gather a description (reads only; VNP_ERR_NOT_FOUND when the resource is absent).
 *
 * @example const r = await describe(client, 'Interface', 'web-1'); r.identity?.id // 301
 */
export async function describe(
  client: VnpClient,
  kind: Kind,
  name: string,
): Promise<DescribeReport> {
  const resource = await client.get(kind, name);
  const history = await client.audit({
    kind,
    limit: RECENT,
    ...(kind === 'Settings' ? {} : { name }),
  });
  const report: DescribeReport = { kind, resource, history };
  const doc = resource as unknown as Record<string, unknown>;
  if (kind === 'Interface') {
    const [identity] = await client.identities({ record: name });
    const policy = await client.policyForTags((doc.tags ?? {}) as Record<string, never>);
    const events = await client.request<{ items: JsonObject[] }>('GET', '/v1/events', {
      query: { limit: 1000 },
    });
    return {
      ...report,
      ...(identity ? { identity } : {}),
      policy,
      events: events.items.filter((e) => e.record === name || e.target === name).slice(0, RECENT),
    };
  }
  const selector =
    kind === 'Partition' ? doc.selector : kind === 'Policy' ? doc.appliesTo : undefined;
  if (typeof selector === 'string') {
    const records = await client.list('Interface', { selector });
    return { ...report, records: records.map((r) => r.name) };
  }
  if (kind === 'Subnet' || kind === 'Instance') {
    const field = kind === 'Subnet' ? 'subnet' : 'instance';
    const all = (await client.list('Interface')) as unknown as Record<string, unknown>[];
    return { ...report, records: all.filter((r) => r[field] === name).map((r) => String(r.name)) };
  }
  return report;
}
