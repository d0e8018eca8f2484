/** What every page gets: the client, the live model and what the signed-in role may do. */
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { VnpClient } from '../client/client.js';
import type { LiveModel } from './live-model.js';

export type Role = 'admin' | 'operator' | 'viewer' | 'agent';

export interface Session {
  client: VnpClient;
  model: LiveModel;
  role: Role;
  tokenId: string;
}

/**
 * May this role take actions of this level? Mirrors the server's access levels
 * (docs/api.md roles): the UI hides what the server would refuse anyway.
 *
 * @example may('operator', 'operate') // true
 */
export function may(role: Role, level: 'operate' | 'admin'): boolean {
  return level === 'admin' ? role === 'admin' : role === 'admin' || role === 'operator';
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in app');
  return s;
}

/** Re-render on every model change; returns the model's version. */
export function useModelVersion(): number {
  const { model } = useSession();
  const [version, setVersion] = useState(model.version);
  useEffect(() => model.subscribe(() => setVersion(model.version)), [model]);
  return version;
}
