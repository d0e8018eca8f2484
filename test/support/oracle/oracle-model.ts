/**
 * The plain model the §2 oracle reads: every resource kind as an array,
 * exactly as documents describe them. No indexes, no caches — scanning is the point
 * (see reference-evaluator.ts).
 */
import type {
  Document,
  Instance,
  Interface,
  Partition,
  Policy,
  Settings,
  Subnet,
} from '../../../src/model/types.js';
import { DEFAULT_SETTINGS } from '../../../src/model/types.js';
import type { Change } from '../../../src/engine/index.js';

/** Everything §2 depends on, as plain arrays. */
export interface OracleModel {
  subnets: Subnet[];
  instances: Instance[];
  interfaces: Interface[];
  partitions: Partition[];
  policies: Policy[];
  settings: Settings;
}

/**
 * An empty model with the default settings.
 *
 * @example
 *   const m = emptyOracleModel(); // m.settings.defaults.crossPartition === 'deny'
 */
export function emptyOracleModel(): OracleModel {
  return {
    subnets: [],
    instances: [],
    interfaces: [],
    partitions: [],
    policies: [],
    settings: structuredClone(DEFAULT_SETTINGS),
  };
}

/**
 * Builds a model from documents (`kind` beside the fields). Later documents of the
 * same kind and name replace earlier ones; kinds §2 does not read (Reaction) are ignored.
 *
 * @example
 *   const m = oracleModelFromDocuments([{ kind: 'Subnet', name: 'a', cidr: '10.0.0.0/24' }]);
 */
export function oracleModelFromDocuments(docs: readonly Document[]): OracleModel {
  return applyOracleChanges(
    emptyOracleModel(),
    docs.map((doc) => ({ op: 'put', doc })),
  );
}

/**
 * The model after a batch of changes (the input is not modified).
 *
 * @example
 *   const m2 = applyOracleChanges(m, [{ op: 'delete', kind: 'Policy', name: 'p1' }]);
 */
export function applyOracleChanges(model: OracleModel, changes: readonly Change[]): OracleModel {
  const next: OracleModel = structuredClone(model);
  for (const change of changes) applyOne(next, change);
  return next;
}

/**
 * The model as documents, in an order a loader can take (subnets before records).
 *
 * @example
 *   engine.load(oracleModelToDocuments(m), 0);
 */
export function oracleModelToDocuments(model: OracleModel): Document[] {
  return [
    { kind: 'Settings', ...structuredClone(model.settings) },
    ...model.subnets.map((r) => ({ kind: 'Subnet' as const, ...structuredClone(r) })),
    ...model.instances.map((r) => ({ kind: 'Instance' as const, ...structuredClone(r) })),
    ...model.interfaces.map((r) => ({ kind: 'Interface' as const, ...structuredClone(r) })),
    ...model.partitions.map((r) => ({ kind: 'Partition' as const, ...structuredClone(r) })),
    ...model.policies.map((r) => ({ kind: 'Policy' as const, ...structuredClone(r) })),
  ];
}

function applyOne(model: OracleModel, change: Change): void {
  if (change.op === 'put') {
    const { kind, ...fields } = change.doc;
    switch (kind) {
      case 'Settings':
        model.settings = fields as Settings;
        return;
      case 'Subnet':
        model.subnets = upsert(model.subnets, fields as Subnet);
        return;
      case 'Instance':
        model.instances = upsert(model.instances, fields as Instance);
        return;
      case 'Interface':
        model.interfaces = upsert(model.interfaces, fields as Interface);
        return;
      case 'Partition':
        model.partitions = upsert(model.partitions, fields as Partition);
        return;
      case 'Policy':
        model.policies = upsert(model.policies, fields as Policy);
        return;
      case 'Reaction':
        return;
    }
  }
  if (change.op !== 'delete') return;
  switch (change.kind) {
    case 'Settings':
      // Deleting the settings restores the defaults of design.md §1.
      model.settings = structuredClone(DEFAULT_SETTINGS);
      return;
    case 'Subnet':
      model.subnets = model.subnets.filter((r) => r.name !== change.name);
      return;
    case 'Instance':
      model.instances = model.instances.filter((r) => r.name !== change.name);
      return;
    case 'Interface':
      model.interfaces = model.interfaces.filter((r) => r.name !== change.name);
      return;
    case 'Partition':
      model.partitions = model.partitions.filter((r) => r.name !== change.name);
      return;
    case 'Policy':
      model.policies = model.policies.filter((r) => r.name !== change.name);
      return;
    case 'Reaction':
      return;
  }
}

/** Replace in place (keeping the position) or append. */
function upsert<T extends { name: string }>(list: T[], item: T): T[] {
  const at = list.findIndex((r) => r.name === item.name);
  if (at < 0) return [...list, item];
  const copy = [...list];
  copy[at] = item;
  return copy;
}
