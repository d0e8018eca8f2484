/**
 * `vnp describe` for people: `Field:  value` lines as kubectl's, then sections
 * (identity, rules in the order they decide, records, events, history). Pure.
 */
import type { ResolvedRule } from '../client/api-types.js';
import type { DescribeReport } from './describe-report.js';
import { cell, formatTable, formatTags, truncate } from './output.js';

const META = new Set(['kind', 'name', 'revision', 'createdAt', 'updatedAt']);

function fields(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${(k + ':').padEnd(width)}${v}\n`).join('');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : `  ${l}`))
    .join('\n');
}

/** The title of a field: `securityGroups` → `Security Groups`. */
function title(key: string): string {
  const spaced = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function value(key: string, v: unknown): string {
  if (key === 'tags' || key === 'addTags')
    return formatTags(v as Record<string, unknown>) || '<none>';
  if (Array.isArray(v) && v.some((x) => typeof x === 'object')) return `${v.length} (see -o yaml)`;
  return cell(v) || '<none>';
}

function peer(r: ResolvedRule): string {
  if (r.peer === 'any') return 'any';
  const p = r.peer;
  return (
    p.selector ??
    (p.partition
      ? `partition ${p.partition}`
      : `${p.cidr ?? ''}${p.except?.length ? ` except ${p.except.join(',')}` : ''}`)
  );
}

function rules(list: readonly ResolvedRule[]): string {
  if (list.length === 0) return '<none: the pair defaults decide>\n';
  return formatTable(
    ['PRIORITY', 'POLICY', 'RULE', 'ACTION', 'PEER', 'PORTS', 'NOTE'],
    list.map((r) => [
      String(r.priority),
      r.policy,
      r.rule,
      r.action,
      truncate(peer(r), 40),
      r.ports === 'all' ? 'all' : r.ports.join(','),
      [r.mode === 'audit' ? 'audit' : '', r.shadowed ? 'shadowed: never decides' : '']
        .filter(Boolean)
        .join('; '),
    ]),
  );
}

/**
 * Render a description.
 *
 * @example formatDescribe(report) // 'Name:        web-1\nKind:        Interface\n…'
 */
export function formatDescribe(r: DescribeReport): string {
  const doc = r.resource as unknown as Record<string, unknown>;
  const head: [string, string][] = [
    ['Name', String(doc.name ?? 'default')],
    ['Kind', r.kind],
    ['Revision', cell(doc.revision)],
    ['Created', cell(doc.createdAt)],
    ['Updated', cell(doc.updatedAt)],
  ];
  for (const [k, v] of Object.entries(doc)) if (!META.has(k)) head.push([title(k), value(k, v)]);
  let out = fields(head);
  if (r.identity) {
    out += `Identity:\n${indent(
      fields([
        ['ID', String(r.identity.id)],
        ['Tags', formatTags(r.identity.tags) || '<none>'],
        ['Partitions', r.identity.partitions.join(', ') || '<none>'],
        [
          'Records',
          `${r.identity.records.length} (${truncate(r.identity.records.join(', '), 60)})`,
        ],
        ['Hosts', r.identity.hosts.join(', ') || '<none>'],
      ]),
    )}`;
  }
  if (r.policy) {
    out += `Policies: ${r.policy.policies.join(', ') || '<none>'}\n`;
    out += `Egress rules (in the order they decide):\n${indent(rules(r.policy.egress))}`;
    out += `Ingress rules (in the order they decide):\n${indent(rules(r.policy.ingress))}`;
  }
  if (r.records) {
    const label =
      r.kind === 'Partition' ? 'Members' : r.kind === 'Policy' ? 'Applies to' : 'Records';
    out += `${label}: ${r.records.length === 0 ? '<none>' : `${r.records.length} (${truncate(r.records.join(', '), 100)})`}\n`;
  }
  if (r.events) {
    out += 'Events:\n';
    out +=
      r.events.length === 0
        ? '  <none>\n'
        : indent(
            formatTable(
              ['AT', 'TYPE', 'SEVERITY', 'ACTOR'],
              r.events.map((e) => [cell(e.at), cell(e.type), cell(e.severity), cell(e.actor)]),
            ),
          );
  }
  out += 'History:\n';
  out +=
    r.history.length === 0
      ? '  <none>\n'
      : indent(
          formatTable(
            ['REVISION', 'AT', 'ACTOR', 'ACTION'],
            r.history.map((e) => [String(e.revision), e.at, e.actor, truncate(e.action, 50)]),
          ),
        );
  return out;
}
