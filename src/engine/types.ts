/**
 * Public types of the policy engine (pure: no I/O, time passed in).
 * The implementation lives beside this file; `src/engine/index.ts` exports it.
 */
import type { Document, Kind, Protocol, Tags } from '../model/types.js';
import type { Direction, IpcacheEntry } from '../model/host-state.js';

/** One change of a batch: create-or-replace a document, or delete by kind and name. */
export type Change = { op: 'put'; doc: Document } | { op: 'delete'; kind: Kind; name: string };

/** What a batch changed, for PEPs and watchers. Empty arrays when nothing of that sort changed. */
export interface EngineDelta {
  /** Address → identity entries added or changed. */
  ipcacheUpsert: IpcacheEntry[];
  /** Addresses no longer held by any record. */
  ipcacheRemove: string[];
  /** Identities newly allocated (with their identity-relevant tags). */
  identitiesAdded: { id: number; tags: Tags }[];
  /** Identities whose last user left (released after the grace period). */
  identitiesReleased: number[];
  /** (identity, direction) sides whose resolved policy changed. */
  sides: { identity: number; direction: Direction }[];
  /** Identities whose default verdicts (partition membership) changed. */
  defaults: number[];
  /** Records (names) whose attachment, addresses or identity changed. */
  records: string[];
  /** Hosts whose instances were created, changed or deleted. */
  hosts: string[];
  /** The steer-class table (`engine.steering()`) changed. */
  steering: boolean;
}

// The wire forms of check results live in the model (clients use them too).
export type {
  CheckRequest,
  CheckResult,
  EndpointInfo,
  ResolvedPolicy,
  ResolvedRule,
  RuleRef,
  SideResult,
  RuleWarning,
} from '../model/check.js';

/** A disjoint port range of one protocol with the flow verdict for it. */
export interface FlowSegment {
  proto: Protocol;
  lo: number;
  hi: number;
  verdict: 'allow' | 'deny';
}
