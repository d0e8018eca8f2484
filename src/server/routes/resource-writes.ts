/**
 * Writing one named resource, shared by the routes that do (CRUD, settings, interface
 * operations): a put or delete planned under the manager's lock, no-op writes that
 * commit nothing, and the answers built from the committed record.
 */
import type { Engine } from '../../engine/index.js';
import { VnpError } from '../../model/errors.js';
import type { Document, HeldDocument, Kind } from '../../model/types.js';
import type { ChangeRecord, StoredDocument } from '../../store/index.js';
import type { Manager } from '../manager.js';

/**
 * The stored document a committed record wrote for kind/name.
 *
 * @example
 *   storedOf(record, 'Subnet', 'net1') // { kind: 'Subnet', name: 'net1', revision: 7, … }
 */
export function storedOf(
  record: ChangeRecord | undefined,
  kind: Kind,
  name: string,
): StoredDocument | undefined {
  return record?.changes.find((c) => c.kind === kind && c.name === name)?.after;
}

/** A not-found error for kind/name. */
export function notFound(kind: Kind, name: string): VnpError {
  return new VnpError('VNP_ERR_NOT_FOUND', `no ${kind} named ${name}`, { kind, name });
}

/** The current document of kind/name or a 404. */
export function mustGet(engine: Engine, kind: Kind, name: string): HeldDocument {
  const doc = engine.get(kind, name);
  if (!doc) throw notFound(kind, name);
  return doc;
}

/** What writeOne did: committed a record, or found the write changes nothing. */
export interface WriteOneResult {
  record?: ChangeRecord;
  created: boolean;
  /** The put equals the current document: nothing committed, no revision. */
  unchanged?: HeldDocument;
}

/**
 * Write one put or delete of kind/name, planned under the manager's lock. A put
 * equal to the current document commits nothing (no revision, no audit entry):
 * `tag` of a value a record has, `untag` of an absent key, a PUT of the same body.
 */
export async function writeOne(
  manager: Manager,
  actor: string,
  action: string,
  kind: Kind,
  name: string,
  build: (current: HeldDocument | undefined, engine: Engine) => Document | null,
): Promise<WriteOneResult> {
  const { record, result } = await manager.write(
    { actor, action: `${action} ${kind}/${name}` },
    (engine) => {
      const current = engine.get(kind, name);
      const doc = build(current, engine);
      const changes =
        doc === null ? [{ op: 'delete' as const, kind, name }] : [{ op: 'put' as const, doc }];
      const unchanged = current !== undefined && engine.diff(changes)[0]?.op === 'unchanged';
      return {
        changes,
        result: { created: current === undefined, unchanged: unchanged ? current : undefined },
        commit: !unchanged,
      };
    },
  );
  return {
    ...(record ? { record } : {}),
    created: result.created,
    ...(result.unchanged ? { unchanged: result.unchanged } : {}),
  };
}

/**
 * The answer of a one-resource write: the stored document, or the current one
 * with `unchanged: true` when the write was a no-op.
 *
 * @example
 *   writtenDoc(await writeOne(…), 'Interface', 'web-1') // { name: 'web-1', revision: 7, … }
 */
export function writtenDoc(
  w: WriteOneResult,
  kind: Kind,
  name: string,
): StoredDocument | (HeldDocument & { unchanged: true }) | undefined {
  if (w.unchanged) return { ...w.unchanged, unchanged: true };
  return storedOf(w.record, kind, name);
}
