/**
 * A commit's rows, written inside the store's transaction: the revision bump checked
 * against the base, the resources, the change-log rows with their hash chain
 * (docs/adr/0024-audit-chain.md) and the notifications.
 *
 * A group commit (docs/adr/0014-group-commit.md) costs a few statements whatever its
 * size (docs/adr/0055-writes-queue-behind-the-group-in-flight.md): when its batches
 * only put, on distinct resources, one statement bumps the revision by the group's
 * size and upserts every batch's rows at its own revision; one statement inserts every
 * change-log row (the chain is computed here, each hash from the one before); one
 * notifies every revision. A group where a resource is written twice, or deleted, is
 * written batch by batch, each batch seeing the ones before it.
 */
import { VnpError } from '../../model/errors.js';
import type { ChangeEntry, ChangeRecord } from '../types.js';
import { GENESIS_HASH, entryHash } from '../audit-chain.js';
import type { PreparedCommit } from './commit-request.js';
import * as Q from './queries.js';
import { parseResourceRows, toRevision, toStored, type ResourceRow } from './rows.js';
import type { SqlClient } from './sql-client.js';

/** What one batch wrote: its revision and change entries (puts in request order, then deletes). */
export interface Written {
  revision: number;
  changes: ChangeEntry[];
}

const keyOf = (kind: string, name: string): string => `${kind}\u0000${name}`;

/** Rows of an aggregated resource query (one row, `j` a JSON array). */
async function resourceRows(
  tx: SqlClient,
  text: string,
  params: unknown[],
): Promise<ResourceRow[]> {
  const r = await tx.query<{ j: unknown }>(text, params);
  return parseResourceRows(r.rows[0]?.j);
}

/**
 * Bump the revision (checked against the base) and write the batch's rows.
 *
 * @example const { revision, changes } = await writeRows(tx, prepareCommit(req));
 */
export async function writeRows(tx: SqlClient, c: PreparedCommit): Promise<Written> {
  const upserted = c.puts.length > 0 ? await bumpAndUpsert(tx, [c]) : undefined;
  const revision = upserted?.[0]?.revision ?? (await bumpRevision(tx, c.baseRevision));
  // Array literals, not push(...x): a 100k-entry batch would overflow call arguments.
  const changes: ChangeEntry[] = [
    ...(upserted?.[0]?.changes ?? []),
    ...(c.deletes.length > 0 ? await remove(tx, c) : []),
  ];
  return { revision, changes };
}

/**
 * Write a group's batches (consecutive bases, in order): in one statement when they
 * only put, on distinct resources; else batch by batch.
 *
 * @example const written = await writeGroupRows(tx, reqs.map(prepareCommit));
 */
export async function writeGroupRows(tx: SqlClient, cs: PreparedCommit[]): Promise<Written[]> {
  if (cs.length > 1 && onePass(cs)) return bumpAndUpsert(tx, cs);
  const out: Written[] = [];
  for (const c of cs) out.push(await writeRows(tx, c));
  return out;
}

/** Batches on consecutive bases that only put, each resource at most once in the group. */
function onePass(cs: PreparedCommit[]): boolean {
  const seen = new Set<string>();
  const base = cs[0]!.baseRevision;
  for (const [i, c] of cs.entries()) {
    if (c.deletes.length > 0 || c.baseRevision !== base + i) return false;
    for (const d of c.puts) {
      const key = keyOf(d.kind, d.name);
      if (seen.has(key)) return false;
      seen.add(key);
    }
  }
  return true;
}

/** The check-and-bump alone (a batch without puts). */
async function bumpRevision(tx: SqlClient, base: number): Promise<number> {
  const bumped = await tx.query<{ rev: unknown }>(Q.BUMP_REVISION, [base]);
  const row = bumped.rows[0];
  if (row) return toRevision(row.rev);
  throw await conflict(tx, base);
}

/** The store moved past `base`: the error, reporting the actual revision. */
async function conflict(tx: SqlClient, base: number): Promise<VnpError> {
  const current = await tx.query<{ rev: unknown }>(Q.CURRENT_REVISION);
  const actual = toRevision(current.rows[0]?.rev);
  return new VnpError(
    'VNP_ERR_CONFLICT',
    `store moved: expected revision ${base}, store is at ${actual}`,
    { field: 'baseRevision', expected: String(base), actual },
  );
}

/**
 * Bump the revision by the number of batches and upsert every batch's puts at its own
 * revision (base + 1, base + 2, …) in one statement; the change entries per batch, in
 * request order. The resources must be distinct across the batches.
 */
async function bumpAndUpsert(tx: SqlClient, cs: PreparedCommit[]): Promise<Written[]> {
  const base = cs[0]!.baseRevision;
  const rows = JSON.stringify(
    cs.flatMap((c, i) =>
      c.puts.map((d) => ({ kind: d.kind, name: d.name, doc: d, rev: base + i + 1, at: c.at })),
    ),
  );
  const r = await tx.query<{ rev: unknown; before: unknown; after: unknown }>(Q.BUMP_AND_UPSERT, [
    rows,
    base,
    cs.length,
  ]);
  const row = r.rows[0];
  if (!row || row.rev === null || row.rev === undefined) throw await conflict(tx, base);
  const byKey = (j: unknown) =>
    new Map(parseResourceRows(j).map((x) => [keyOf(x.kind, x.name), toStored(x)]));
  const beforeByKey = byKey(row.before);
  const afterByKey = byKey(row.after);
  return cs.map((c, i) => ({
    revision: base + i + 1,
    changes: c.puts.map((d) => {
      const key = keyOf(d.kind, d.name);
      const prior = beforeByKey.get(key);
      const next = afterByKey.get(key);
      return {
        op: 'put' as const,
        kind: d.kind,
        name: d.name,
        ...(prior ? { before: prior } : {}),
        ...(next ? { after: next } : {}),
      };
    }),
  }));
}

/** Delete the deletes; a missing row throws (rolling back the whole batch). */
async function remove(tx: SqlClient, c: PreparedCommit): Promise<ChangeEntry[]> {
  const keys = JSON.stringify(c.deletes);
  const gone = await resourceRows(tx, Q.DELETE_RESOURCES, [keys]);
  const goneByKey = new Map(gone.map((r) => [keyOf(r.kind, r.name), toStored(r)]));
  return c.deletes.map((d, i) => {
    const prior = goneByKey.get(keyOf(d.kind, d.name));
    if (!prior) {
      throw new VnpError('VNP_ERR_NOT_FOUND', `${d.kind} ${d.name} does not exist`, {
        field: `deletes[${i}]`,
        kind: d.kind,
        name: d.name,
      });
    }
    return { op: 'delete' as const, kind: d.kind, name: d.name, before: prior };
  });
}

/**
 * The last change-log entry a store wrote, seen committed: the next entry's link
 * without reading it back (an entry never changes once committed).
 */
export interface ChainTip {
  revision: number;
  hash: string;
}

/**
 * The change-log rows of written batches (consecutive revisions), chained from the
 * entry before the first (`tip` when it is that entry, else read), in one statement;
 * then, on `channel`, one notification per revision (in one statement). Returns the
 * change records and the new tip (to keep only once the transaction committed).
 *
 * @example const { records, tip } = await logChanges(tx, prepared, written, 'vnp_changes', tip);
 */
export async function logChanges(
  tx: SqlClient,
  cs: PreparedCommit[],
  written: Written[],
  channel: string | undefined,
  tip?: ChainTip,
): Promise<{ records: ChangeRecord[]; tip?: ChainTip }> {
  if (written.length === 0) return { records: [] };
  const first = written[0]!.revision;
  // The chain link: the entry before (committed: its writer held the revision row until
  // it committed); none (the first entry, or one older than the chain): genesis.
  let prevHash =
    tip?.revision === first - 1
      ? tip.hash
      : ((await tx.query<{ hash: string | null }>(Q.PREVIOUS_HASH, [first - 1])).rows[0]?.hash ??
        GENESIS_HASH);
  const records: ChangeRecord[] = [];
  const rows = written.map(({ revision, changes }, i) => {
    const c = cs[i]!;
    const record: ChangeRecord = { revision, at: c.at, actor: c.actor, action: c.action, changes };
    records.push(record);
    const hash = entryHash(prevHash, record);
    const row = {
      revision,
      at: c.at,
      actor: c.actor,
      action: c.action,
      changes,
      prev_hash: prevHash,
      hash,
    };
    prevHash = hash;
    return row;
  });
  if (rows.length === 1) {
    const r = rows[0]!;
    await tx.query(Q.INSERT_CHANGE, [
      r.revision,
      r.at,
      r.actor,
      r.action,
      JSON.stringify(r.changes),
      r.prev_hash,
      r.hash,
    ]);
  } else await tx.query(Q.INSERT_CHANGES, [JSON.stringify(rows)]);
  const last = written[written.length - 1]!.revision;
  if (channel !== undefined) await tx.query(Q.NOTIFY_CHANGES, [channel, first, last]);
  return { records, tip: { revision: last, hash: prevHash } };
}
