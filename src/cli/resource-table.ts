/**
 * The human table of each kind for `vnp get`: the columns an operator scans for;
 * everything else is in `-o yaml`.
 */
import type { Kind } from '../model/types.js';
import { cell, formatTable, formatTags, truncate } from './output.js';

type Row = Record<string, unknown>;
type Column = [header: string, value: (r: Row) => string];

const count = (v: unknown): string => (Array.isArray(v) ? String(v.length) : '0');

const COLUMNS: Record<Kind, Column[]> = {
  Subnet: [
    ['NAME', (r) => cell(r.name)],
    ['CIDR', (r) => cell(r.cidr)],
    ['VNI', (r) => cell(r.vni)],
    ['REVISION', (r) => cell(r.revision)],
  ],
  Instance: [
    ['NAME', (r) => cell(r.name)],
    ['HOST', (r) => cell(r.host)],
    ['NETNS', (r) => cell(r.netns)],
    ['REVISION', (r) => cell(r.revision)],
  ],
  Interface: [
    ['NAME', (r) => cell(r.name)],
    ['SUBNET', (r) => cell(r.subnet)],
    ['IPS', (r) => cell(r.ips)],
    ['INSTANCE', (r) => cell(r.instance)],
    ['TAGS', (r) => truncate(formatTags(r.tags as Record<string, unknown> | undefined), 80)],
    ['REVISION', (r) => cell(r.revision)],
  ],
  Partition: [
    ['NAME', (r) => cell(r.name)],
    ['INTRA', (r) => cell(r.intra ?? 'allow')],
    ['SELECTOR', (r) => truncate(cell(r.selector), 70)],
    ['REVISION', (r) => cell(r.revision)],
  ],
  Policy: [
    ['NAME', (r) => cell(r.name)],
    ['PRIORITY', (r) => cell(r.priority)],
    ['MODE', (r) => cell(r.mode ?? 'enforce')],
    ['APPLIES-TO', (r) => truncate(cell(r.appliesTo), 50)],
    ['INGRESS', (r) => count(r.ingress)],
    ['EGRESS', (r) => count(r.egress)],
    ['ROUTES', (r) => count(r.routes)],
    ['REVISION', (r) => cell(r.revision)],
  ],
  Reaction: [
    ['NAME', (r) => cell(r.name)],
    ['ON', (r) => cell(r.on)],
    ['MATCH', (r) => truncate(cell(r.match), 40)],
    ['ADD-TAGS', (r) => truncate(formatTags(r.addTags as Record<string, unknown> | undefined), 40)],
    ['REMOVE-TAGS', (r) => cell(r.removeTags)],
    ['TTL', (r) => cell(r.ttl)],
    ['REVISION', (r) => cell(r.revision)],
  ],
  Settings: [
    ['NAME', (r) => cell(r.name)],
    ['UNPARTITIONED', (r) => cell((r.defaults as Row | undefined)?.unpartitioned)],
    ['CROSS-PARTITION', (r) => cell((r.defaults as Row | undefined)?.crossPartition)],
    ['REVISION', (r) => cell(r.revision)],
  ],
};

/** `-o wide`: more columns per kind, then when each resource was created and changed. */
const WIDE: Record<Kind, Column[]> = {
  Subnet: [],
  Instance: [],
  Interface: [
    ['MAC', (r) => cell(r.mac)],
    ['SECURITY-GROUPS', (r) => cell(r.securityGroups)],
  ],
  Partition: [['DESCRIPTION', (r) => truncate(cell(r.description), 60)]],
  Policy: [['DESCRIPTION', (r) => truncate(cell(r.description), 60)]],
  Reaction: [],
  Settings: [],
};
const TIMES: Column[] = [
  ['CREATED', (r) => cell(r.createdAt)],
  ['UPDATED', (r) => cell(r.updatedAt)],
];

export interface TableOptions {
  /** More columns (`-o wide`). */
  wide?: boolean;
  /** No header line (`--no-headers`). */
  noHeaders?: boolean;
  /** Before each name, e.g. `interface/` when several kinds are listed. */
  prefix?: string;
}

/**
 * Resources of one kind as an aligned table.
 *
 * @example
 *   resourceTable('Subnet', [{ name: 'front', cidr: '10.0.1.0/24', revision: 3 }])
 *   // 'NAME   CIDR         VNI  REVISION\nfront  10.0.1.0/24       3\n'
 */
export function resourceTable(
  kind: Kind,
  items: readonly object[],
  opts: TableOptions = {},
): string {
  const base = COLUMNS[kind];
  const cols = opts.wide ? [...base, ...WIDE[kind], ...TIMES] : base;
  const prefix = opts.prefix ?? '';
  const text = formatTable(
    cols.map(([h]) => h),
    items.map((item) =>
      cols.map(([h, f], i) => (i === 0 && h === 'NAME' ? prefix : '') + f(item as Row)),
    ),
  );
  return opts.noHeaders ? text.slice(text.indexOf('\n') + 1) : text;
}
