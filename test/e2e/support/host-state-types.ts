/** Re-exports of the wire types the test helpers use. */
export type {
  DefaultState,
  HostState,
  LocalRecord,
  PeerEntry,
  RemoteRecord,
  SideState,
} from '../../../src/model/host-state.js';
export type { Protocol } from '../../../src/model/types.js';
