/**
 * The long-lived NDJSON answers (`GET /v1/watch`, `GET /v1/flows/watch`,
 * `GET /v1/hosts/{host}/watch`): the headers go out at once, and a revoked token ends
 * the answer with a short grace.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { holdWhileAuthorized } from './auth.js';

/** How long an ended stream waits for its reader to take the end before it is cut off. */
export const END_GRACE_MS = 1000;

/**
 * Start an NDJSON answer on a hijacked reply. The headers are flushed now: a client
 * waiting for them on a quiet model (or a resuming agent) would otherwise wait forever.
 *
 * @example reply.hijack(); const stream = startNdjson(reply.raw);
 */
export function startNdjson(stream: ServerResponse): ServerResponse {
  stream.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  stream.flushHeaders();
  return stream;
}

/**
 * End the answer (NDJSON has no error message: the reconnect learns why); a reader
 * that does not take the end within {@link END_GRACE_MS} is cut off.
 *
 * @example holdWhileAuthorized(request, () => endWithGrace(stream));
 */
export function endWithGrace(stream: ServerResponse): void {
  stream.end();
  setTimeout(() => {
    if (!stream.writableFinished) stream.destroy();
  }, END_GRACE_MS).unref();
}

/** Blank keep-alive lines on a quiet watch (NDJSON readers skip them). */
const KEEPALIVE_MS = 25_000;

/**
 * Serve a watch (`GET /v1/watch`, `GET /v1/flows/watch`): hijack the reply, start the
 * NDJSON answer, subscribe, and hold it until the client goes, the server ends the
 * streams in `open` (on close), or the token stops being valid (revoked: the reconnect
 * gets 401). A blank line now and then keeps proxies from closing a quiet stream and
 * notices a vanished client (the write fails). `subscribe` returns its unsubscribe.
 *
 * @example serveWatch(request, reply, streams, (stream) => hub.onFlows((f) => stream.write(…)));
 */
export function serveWatch(
  request: FastifyRequest,
  reply: FastifyReply,
  open: Set<ServerResponse>,
  subscribe: (stream: ServerResponse) => () => void,
): void {
  reply.hijack();
  const stream = startNdjson(reply.raw);
  open.add(stream);
  const off = subscribe(stream);
  const keepAlive = setInterval(() => {
    if (!stream.writableEnded) stream.write('\n');
  }, KEEPALIVE_MS);
  keepAlive.unref();
  const release = holdWhileAuthorized(request, () => {
    off();
    endWithGrace(stream);
  });
  stream.on('close', () => {
    clearInterval(keepAlive);
    off();
    open.delete(stream);
    release();
  });
}
