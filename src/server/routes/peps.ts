/**
 * `GET /v1/peps`: enforcement points and how far behind they are. The agent
 * protocol lands in a later issue; until then the list is empty but has its
 * final shape `{items: [{host, connected, appliedRevision, lag, lastContact}]}`.
 */
import type { FastifyPluginAsync } from 'fastify';

/** One PEP as reported. */
export interface PepStatus {
  host: string;
  connected: boolean;
  appliedRevision: number;
  /** Manager revision minus appliedRevision. */
  lag: number;
  /** ISO time of the last message from the PEP. */
  lastContact: string;
}

/**
 * PEP status routes.
 *
 * @example
 *   await app.register(pepRoutes);
 */
export const pepRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/v1/peps',
    {
      config: { access: 'agent' },
      schema: { tags: ['peps'], summary: 'Enforcement points and their lag' },
    },
    async (): Promise<{ items: PepStatus[] }> => ({ items: [] }),
  );
};
