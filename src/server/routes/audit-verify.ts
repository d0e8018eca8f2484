/**
 * `GET /v1/audit/verify` (admin): walk the audit log's hash chain from the first entry
 * (docs/adr/0024-audit-chain.md) and name the first broken entry. Pages of the log are
 * read in revision order; the event loop is yielded between pages.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { verifyChain, type ChainState } from '../../store/index.js';
import type { ManagerPluginOptions } from './plugin-options.js';

const PAGE = 1000;

const VerifyQuery = Type.Object(
  {
    expectHead: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{64}$',
        description: 'a head hash kept from an earlier verification: it must still be in the chain',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * The audit verification route.
 *
 * @example await app.register(auditVerifyRoutes, { manager });
 */
export const auditVerifyRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (
  app,
  { manager },
) => {
  app.get(
    '/v1/audit/verify',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['audit'],
        summary:
          'Verify the audit log’s hash chain; names the first entry that was altered, removed or inserted',
        querystring: VerifyQuery,
      },
    },
    async (request) => {
      const { expectHead } = request.query as { expectHead?: string };
      let state: ChainState = { checked: 0, unchained: 0 };
      let found = false;
      for (let after = 0; ;) {
        const page = await manager.store.auditChain(after, PAGE);
        if (page.length === 0) break;
        state = verifyChain(state, page);
        found ||= page.some((e) => e.hash === expectHead && e.revision <= (state.last ?? 0));
        if (state.broken) break;
        after = page[page.length - 1]!.revision;
        await new Promise((r) => setImmediate(r));
      }
      if (expectHead === undefined) return { ok: state.broken === undefined, ...state };
      return { ok: state.broken === undefined && found, ...state, expectedHeadFound: found };
    },
  );
};
