/**
 * Reads never see what is not durable, writes do not wait for the group in flight
 * (docs/adr/0055-writes-queue-behind-the-group-in-flight.md).
 *
 * While a group commit is in flight the model already holds its writes (staging
 * applies them so each write of the group sees the ones before it): a request that
 * reads the model waits until the group settles (committed or discarded) before its
 * handler runs. A route declared `config.write` reaches the model only through
 * `Manager.write` plans and answers from what they return, which is committed by
 * then: its write is queued at once and forms the next group with the writes that
 * arrive while this one commits, instead of waiting for it to land first.
 */
import type { FastifyInstance } from 'fastify';
import type { Manager } from './manager.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The handler reads the model only inside `Manager.write` plans (queued for the
     * next group), so it need not wait for the group in flight.
     */
    write?: true;
  }
}

/**
 * Install the wait (a preHandler: after authentication, right before the handler).
 *
 * @example installCommitWait(app, manager);
 */
export function installCommitWait(app: FastifyInstance, manager: Manager): void {
  app.addHook('preHandler', async (request) => {
    if (request.routeOptions.config?.write === true) return;
    await manager.committed();
  });
}
