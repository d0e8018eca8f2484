/**
 * KIND arguments of `vnp get` / `vnp delete`: singular, plural and short aliases,
 * case-insensitive (`iface`, `interfaces`, `Interface` all name Interface).
 */
import { VnpError } from '../model/errors.js';
import { KINDS, type Kind } from '../model/types.js';

const ALIASES: Record<Kind, readonly string[]> = {
  Subnet: ['subnet', 'subnets', 'sn', 'net', 'nets'],
  Instance: ['instance', 'instances', 'inst', 'insts', 'vm', 'vms'],
  Interface: ['interface', 'interfaces', 'iface', 'ifaces', 'if', 'record', 'records', 'rec'],
  Partition: ['partition', 'partitions', 'part', 'parts', 'vnp', 'vnps'],
  Policy: ['policy', 'policies', 'pol', 'pols', 'netpol'],
  Reaction: ['reaction', 'reactions', 'react', 'rx'],
  Settings: ['setting', 'settings', 'cfg', 'config'],
};

const BY_ALIAS: ReadonlyMap<string, Kind> = new Map(
  KINDS.flatMap((kind) => ALIASES[kind].map((alias) => [alias, kind] as const)),
);

/**
 * Resolve a KIND argument.
 *
 * @example
 *   parseKind('iface')    // → 'Interface'
 *   parseKind('Policies') // → 'Policy'
 *   parseKind('widgets')  // throws VNP_ERR_VALIDATION naming the accepted kinds
 */
export function parseKind(arg: string): Kind {
  const kind = BY_ALIAS.get(arg.trim().toLowerCase());
  if (kind !== undefined) return kind;
  throw new VnpError(
    'VNP_ERR_VALIDATION',
    `unknown kind "${arg}" (expected one of: ${kindHelp()})`,
    {
      field: 'kind',
      expected: KINDS.join(', '),
    },
  );
}

/** The aliases of one kind (for help texts). */
export function kindAliases(kind: Kind): readonly string[] {
  return ALIASES[kind];
}

/** A one-line list of kinds (plural) with their short aliases. */
export function kindHelp(): string {
  return KINDS.map((k) => `${ALIASES[k][1]} (${ALIASES[k][2]})`).join(', ');
}
