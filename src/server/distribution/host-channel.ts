/**
 * The WebSocket form of the agent protocol (docs/protocol.md, "WebSocket channel"):
 * `GET /v1/hosts/{host}/watch` with `Upgrade: websocket` carries the same messages
 * down (one text frame each) and the PEP's acknowledgements up
 * (`{"type":"ack","revision":R}` frames) on one authenticated connection — instead of
 * one authenticated HTTP request per acknowledgement.
 *
 * Invariants:
 * - the upgrade request goes through the app's ordinary routing (authentication, host
 *   binding, query validation, errors as JSON answers): only a route that accepts it
 *   completes the handshake; any other answer ends the connection;
 * - a channel is a {@link HostSink} like an NDJSON response: same backpressure
 *   (the socket's own buffer), hence the same coalescing and dead-reader rules;
 * - an upward frame that is neither an acknowledgement nor a flow batch
 *   (`{"type":"flows","records":[…]}`, docs/flows.md) closes the channel (1008).
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WebSocket, WebSocketServer } from 'ws';
import type { HostSink } from './host-stream.js';

const kUpgrade = Symbol('vnp.upgrade');
type UpgradeRequest = IncomingMessage & { [kUpgrade]?: { socket: Duplex; head: Buffer } };

/** Largest upward frame: acknowledgements are tiny, a flow batch is at most ~1,000 records. */
const MAX_UP_FRAME = 2 * 1024 * 1024;

/**
 * Route HTTP upgrade requests through the app (so they are authenticated and
 * validated like any request); a route completes the upgrade with {@link acceptChannel}.
 *
 * @example installUpgradeRouting(app);
 */
export function installUpgradeRouting(app: FastifyInstance): void {
  app.server.on('upgrade', (req: UpgradeRequest, socket: Duplex, head: Buffer) => {
    req[kUpgrade] = { socket, head };
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Parameters<ServerResponse['assignSocket']>[0]);
    // Answered without an upgrade (an error, another route): the HTTP parser no longer
    // owns this socket, so the answer ends the connection.
    res.once('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    app.routing(req, res);
  });
}

/** Whether this request asks for a WebSocket (and came through the upgrade routing). */
export function wantsChannel(request: FastifyRequest): boolean {
  return (request.raw as UpgradeRequest)[kUpgrade] !== undefined;
}

/** An open channel: the sink for the stream and the acknowledgements coming up. */
export interface HostChannel {
  sink: HostSink;
  /** Called with every acknowledged revision. */
  onAck(cb: (revision: number) => void): void;
  /** Called with every flow batch frame (parsed JSON, unchecked). */
  onFlows(cb: (batch: unknown) => void): void;
  /**
   * Close with a code and reason (e.g. {@link CLOSE_TOKEN_REVOKED}): nothing more is
   * sent or taken; a peer that does not answer the closing handshake within
   * {@link CLOSE_GRACE_MS} is cut off.
   */
  close(code: number, reason: string): void;
}

/**
 * WebSocket close code of a channel whose token was revoked: 401 in the range RFC 6455
 * leaves to applications (4000–4999).
 */
export const CLOSE_TOKEN_REVOKED = 4401;
/** How long a closed channel waits for the peer's closing frame. */
export const CLOSE_GRACE_MS = 1000;

/** One server per app would do; the server holds no state of its own in noServer mode. */
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: MAX_UP_FRAME,
  clientTracking: false,
});

/**
 * Complete the WebSocket handshake of an upgrade request (the route decided to accept
 * it) and hand over the channel; the Fastify reply is hijacked.
 *
 * @example
 *   if (wantsChannel(request)) acceptChannel(request, reply.raw, (ch) => serveHostStream({ feed, host, sink: ch.sink }));
 */
export function acceptChannel(
  request: FastifyRequest,
  res: ServerResponse,
  ready: (channel: HostChannel) => void,
): void {
  const up = (request.raw as UpgradeRequest)[kUpgrade]!;
  res.removeAllListeners('finish');
  res.detachSocket(up.socket as Parameters<ServerResponse['detachSocket']>[0]);
  wss.handleUpgrade(request.raw, up.socket, up.head, (ws) => ready(channelOf(ws, up.socket)));
}

function channelOf(ws: WebSocket, socket: Duplex): HostChannel {
  const acks = new Set<(revision: number) => void>();
  const flows = new Set<(batch: unknown) => void>();
  ws.on('message', (data, isBinary) => {
    // Frames that arrive while closing (e.g. after a revocation) are not acted upon.
    if (ws.readyState !== WebSocket.OPEN) return;
    const frame = isBinary ? undefined : upFrame(data.toString());
    if (frame?.type === 'ack') for (const cb of acks) cb(frame.revision);
    else if (frame?.type === 'flows') for (const cb of flows) cb(frame.batch);
    else ws.close(1008, 'expected {"type":"ack","revision":N} or {"type":"flows",…}');
  });
  ws.on('error', () => ws.terminate());
  const sink: HostSink = {
    send(text) {
      ws.send(text);
      return !socket.writableNeedDrain;
    },
    onceDrain: (cb) => void socket.once('drain', cb),
    onClose: (cb) => void ws.once('close', cb),
    get destroyed() {
      return ws.readyState !== WebSocket.OPEN;
    },
    destroy: () => ws.terminate(),
  };
  const close = (code: number, reason: string): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.close(code, reason);
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  };
  return {
    sink,
    onAck: (cb) => void acks.add(cb),
    onFlows: (cb) => void flows.add(cb),
    close,
  };
}

type UpFrame = { type: 'ack'; revision: number } | { type: 'flows'; batch: unknown };

/** An upward frame, or undefined when it is neither an ack nor a flow batch. */
function upFrame(text: string): UpFrame | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (msg && typeof msg === 'object' && (msg as { type?: unknown }).type === 'flows') {
    const { type: _type, ...batch } = msg as Record<string, unknown>;
    return { type: 'flows', batch };
  }
  const revision = ackOf(msg);
  return revision === undefined ? undefined : { type: 'ack', revision };
}

/** The revision of an ack frame, or undefined when the frame is anything else. */
export function ackRevision(text: string): number | undefined {
  try {
    return ackOf(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function ackOf(msg: unknown): number | undefined {
  const m = msg as { type?: unknown; revision?: unknown };
  if (!m || typeof m !== 'object' || m.type !== 'ack') return undefined;
  return Number.isSafeInteger(m.revision) && (m.revision as number) >= 0
    ? (m.revision as number)
    : undefined;
}
