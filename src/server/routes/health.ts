/**
 * Public probes: `/healthz` (the process serves HTTP) and `/readyz` (the store
 * answers and the model is loaded).
 */
import type { FastifyPluginAsync } from 'fastify';
import { VnpError } from '../../model/errors.js';
import type { ManagerPluginOptions } from './plugin-options.js';

const STORE_PROBE_MS = 2000;

/**
 * Health routes.
 *
 * @example
 *   await app.register(healthRoutes, { manager });
 */
export const healthRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (app, { manager }) => {
  app.get('/healthz', { config: { access: 'public' }, schema: { hide: true } }, async () => ({
    status: 'ok',
  }));

  app.get('/readyz', { config: { access: 'public' }, schema: { hide: true } }, async () => {
    if (!manager.loaded)
      throw new VnpError('VNP_ERR_UNAVAILABLE', 'the model is still loading', { loaded: false });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('store probe timed out')), STORE_PROBE_MS);
    });
    try {
      const storeRevision = await Promise.race([manager.store.revision(), timeout]);
      return {
        status: 'ready',
        backend: manager.store.backend,
        revision: manager.revision,
        storeRevision,
      };
    } catch (err) {
      throw new VnpError(
        'VNP_ERR_UNAVAILABLE',
        `the store is unreachable: ${(err as Error).message}`,
        {
          backend: manager.store.backend,
        },
      );
    } finally {
      clearTimeout(timer);
    }
  });
};
