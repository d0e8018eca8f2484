/**
 * The long-lived NDJSON answers (`GET /v1/watch`, `GET /v1/hosts/{host}/watch`): the
 * headers go out at once, and a revoked token ends the answer with a short grace.
 */
import type { ServerResponse } from 'node:http';

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
