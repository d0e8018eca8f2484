/**
 * The Manager's vocabulary (src/server/manager.ts): what a write says and decides, what
 * listeners hear, and the small helpers the write path and the change-log follower share.
 */
import type { Change, EngineDelta } from '../engine/index.js';
import { VnpError } from '../model/errors.js';
import type { ChangeEntry, ChangeRecord, EventCommit, Store } from '../store/index.js';

/** Who writes and why, as recorded in the audit log. */
export interface WriteContext {
  actor: string;
  action: string;
}

/** What a write plan decided, computed under the lock from the current model. */
export interface Plan<T> {
  changes: Change[];
  /** Returned to the caller beside the committed record. */
  result: T;
  /** False: nothing to commit (dry run, nothing changed). Default true. */
  commit?: boolean;
}

/**
 * What an event write decided under the lock (see Manager.writeEvent): the event
 * row, its expiries and the resource changes it causes (possibly none).
 */
export interface EventPlan extends Omit<EventCommit, 'change'> {
  changes: Change[];
  /** Who the change is audited as, e.g. `reaction:quarantine`. */
  actor: string;
  /** The audit action, given the id the store assigns the event. */
  action: (eventId: number) => string;
}

/** Minimal logger the manager reports to (Fastify's pino logger fits). */
export interface ManagerLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ManagerOptions {
  store: Store;
  now?: () => number;
  log?: ManagerLog;
  /** Identity reuse grace period handed to the engine. */
  identityGraceMs?: number;
}

export const silentLog: ManagerLog = { info() {}, warn() {}, error() {} };

/** Convert a change-log entry back to the engine change it records. */
export function toEngineChange(e: ChangeEntry): Change {
  if (e.op === 'delete') return { op: 'delete', kind: e.kind, name: e.name };
  if (!e.after)
    throw new VnpError('VNP_ERR_INTERNAL', `change log entry ${e.kind}/${e.name} has no document`);
  return { op: 'put', doc: e.after };
}

/**
 * Told of every applied change record with the engine's delta for it (undefined when
 * the model was reloaded and anything may have changed).
 */
export type RecordListener = (record: ChangeRecord, delta: EngineDelta | undefined) => void;

export const EMPTY_DELTA: EngineDelta = {
  ipcacheUpsert: [],
  ipcacheRemove: [],
  identitiesAdded: [],
  identitiesReleased: [],
  sides: [],
  defaults: [],
  records: [],
  hosts: [],
  steering: false,
};

/** The store committed but could not confirm durability (see SqlStore.makeDurable). */
export function unflushed(err: unknown): boolean {
  return (
    err instanceof VnpError &&
    err.code === 'VNP_ERR_UNAVAILABLE' &&
    err.details?.revision !== undefined
  );
}

export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

/** A promise with its resolve function outside it. */
export function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
