/**
 * `GET /v1/peps`: enforcement points and how far behind they are:
 * `{items: [{host, connected, appliedRevision, sentRevision, lag, lastContact, underlay, kind}]}`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { PepRegistry } from '../distribution/pep-registry.js';
import type { Manager } from '../manager.js';

/** One PEP as reported. */
export interface PepStatus {
  host: string;
  connected: boolean;
  appliedRevision: number;
  /** Manager revision minus appliedRevision. */
  lag: number;
  /** ISO time of the last message from the PEP. */
  lastContact: string;
  /** Last revision streamed to it. */
  sentRevision?: number;
  /** Its underlay address, as it reported. */
  underlay?: string;
  /** Its kind (`nftables`, `ovs`), as it reported. */
  kind?: 'nftables' | 'ovs';
}

/**
 * PEP status routes.
 *
 * @example
 *   await app.register(pepRoutes, { manager, peps });
 */
export const pepRoutes: FastifyPluginAsync<{ manager: Manager; peps: PepRegistry }> = async (
  app,
  { manager, peps },
) => {
  app.get(
    '/v1/peps',
    {
      config: { access: 'agent' },
      schema: { tags: ['peps'], summary: 'Enforcement points and their lag' },
    },
    async (): Promise<{ items: PepStatus[] }> => ({ items: peps.list(manager.revision) }),
  );
};
