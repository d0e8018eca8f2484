/**
 * Fixtures the store conformance files share: fixed times, documents and a commit
 * request builder.
 */
import { VnpError } from '../model/errors.js';
import type { Document } from '../model/types.js';
import type { CommitRequest, Store } from './types.js';

/** A new empty store, and where it lives (to reopen it). */
export type Fresh = () => Promise<{ store: Store; location: string }>;
/** Reopens the store at a location. */
export type Open = (location: string) => Promise<Store>;

export const T0 = '2026-01-01T00:00:00.000Z';
export const T1 = '2026-01-01T00:00:01.000Z';
export const T2 = '2026-01-01T00:00:02.000Z';

export const subnet = (name: string, cidr = '10.0.0.0/24'): Document => ({
  kind: 'Subnet',
  name,
  cidr,
});
export const iface = (name: string, tags: Record<string, unknown> = {}): Document =>
  ({ kind: 'Interface', name, subnet: 'net', ips: ['10.0.0.5'], tags }) as Document;

/** A commit request at `baseRevision` (actor `tester`, action `apply`, at T0, empty). */
export function req(baseRevision: number, over: Partial<CommitRequest> = {}): CommitRequest {
  return { baseRevision, actor: 'tester', action: 'apply', at: T0, puts: [], deletes: [], ...over };
}

/** The VnpError `p` rejects with (anything else fails the test). */
export async function rejection(p: Promise<unknown>): Promise<VnpError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof VnpError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
