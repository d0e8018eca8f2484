/**
 * The transport of a host watch (docs/protocol.md), apart from what the messages
 * mean: one connection to one manager that hands up lines of JSON, detects silence,
 * and says once why it ended. A WebSocket channel on the watch URL carries messages
 * down and acknowledgements and flow batches up; a manager that answers the upgrade
 * with a plain NDJSON stream (one that predates the channel) is read as NDJSON, and so
 * is every manager with `transport: 'ndjson'` (the uplink is then HTTP, see
 * ./http-uplink.ts).
 *
 * Costs per message: no timer, no promise — one watchdog timer per connection,
 * re-armed only when it fires, so 10,000 watches fit in one process.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { WebSocket } from 'ws';
import type { ClientCert, ClientTls } from '../../client/http-fetch.js';
import { FEATURES_HEADER, SIDE_PATCHES_FEATURE } from '../../model/host-delta.js';

/** Where and how to watch. */
export interface WatchTarget {
  /** The watch URL (http: or https:, with its query). */
  url: URL;
  token: string;
  transport: 'websocket' | 'ndjson';
  /** The only CA trusted for an https manager (replaces the system list). */
  ca?: string;
  /** The client certificate presented to an https manager (agent mTLS). */
  clientCert?: ClientCert;
  /** No data for this long: the connection is dead. */
  silenceMs: number;
}

/** The upward half of a WebSocket channel. */
export interface ChannelUplink {
  /** Sends one text frame; false when the channel is no longer open. */
  send(text: string): boolean;
}

/** What a connection tells its owner; `ended` is called exactly once, last. */
export interface WatchEvents {
  /** The stream is flowing; `channel` is set on a WebSocket channel (else the uplink is HTTP). */
  opened(channel: ChannelUplink | undefined): void;
  /** Complete lines, in order (never empty). */
  received(lines: string[]): void;
  ended(reason: Error): void;
}

/** A watch in progress. */
export interface WatchConnection {
  /** Stop reading (backpressure reaches the manager) until `resume`. */
  pause(): void;
  resume(): void;
  /** End the connection; `ended` gets `reason` (nothing happens if it already ended). */
  close(reason: Error): void;
}

/** The manager answered the watch with an HTTP error status. */
export class WatchRefused extends Error {
  constructor(readonly status: number | undefined) {
    super(`watch: HTTP ${status}`);
  }
}

/** Open a watch; every outcome, including a failure to connect, arrives at `events`. */
export function openWatch(target: WatchTarget, events: WatchEvents): WatchConnection {
  return new Watch(target, events);
}

class Watch implements WatchConnection {
  private ended = false;
  private lastSeen = Date.now();
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private abort: () => void = () => undefined;
  private reader: { pause(): void; resume(): void } | undefined;

  constructor(
    private readonly target: WatchTarget,
    private readonly events: WatchEvents,
  ) {
    this.alive(); // a connection attempt that hangs counts as silence
    if (target.transport === 'ndjson') this.requestNdjson();
    else this.openChannel();
  }

  pause(): void {
    this.reader?.pause();
  }

  resume(): void {
    this.reader?.resume();
  }

  close(reason: Error): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.watchdog);
    this.abort();
    this.events.ended(reason);
  }

  /** Data arrived (or a connection is being attempted): the silence clock restarts. */
  private alive(): void {
    this.lastSeen = Date.now();
    this.watchdog ??= setTimeout(this.checkSilence, this.target.silenceMs);
  }

  private readonly checkSilence = (): void => {
    const silent = Date.now() - this.lastSeen;
    const limit = this.target.silenceMs;
    if (silent >= limit)
      this.close(new Error(`no data for ${limit} ms (the manager sends heartbeats): reconnecting`));
    else this.watchdog = setTimeout(this.checkSilence, limit - silent);
  };

  private get headers(): Record<string, string> {
    // This agent folds side patches (src/model/side-patch.ts); a manager that does not
    // know the header ignores it and sends whole sides.
    return {
      authorization: `Bearer ${this.target.token}`,
      [FEATURES_HEADER]: SIDE_PATCHES_FEATURE,
    };
  }

  private get tls(): ClientTls {
    return {
      ...(this.target.ca === undefined ? {} : { ca: this.target.ca }),
      ...this.target.clientCert,
    };
  }

  private requestNdjson(): void {
    const url = this.target.url;
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      url,
      { ...this.tls, headers: { ...this.headers, accept: 'application/x-ndjson' } },
      (res) => this.readNdjson(res),
    );
    this.abort = () => req.destroy();
    req.on('error', (err) => this.close(err));
    req.end();
  }

  private openChannel(): void {
    const url = new URL(this.target.url);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, { ...this.tls, headers: this.headers, perMessageDeflate: false });
    this.abort = () => ws.terminate();
    ws.on('unexpected-response', (req, res) => {
      // A manager without the channel streams NDJSON on the same URL.
      this.abort = () => req.destroy();
      this.readNdjson(res);
    });
    ws.on('open', () => {
      this.reader = ws;
      this.events.opened({
        send: (text) => ws.readyState === WebSocket.OPEN && (ws.send(text), true),
      });
    });
    ws.on('message', (data: Buffer, isBinary) => {
      this.alive();
      if (isBinary) return this.close(new Error('watch: unexpected binary frame'));
      this.events.received([data.toString()]);
    });
    ws.on('close', (code) => this.close(new Error(`watch channel closed (${code})`)));
    ws.on('error', (err) => this.close(err));
  }

  private readNdjson(res: IncomingMessage): void {
    if (res.statusCode !== 200) {
      res.resume();
      return this.close(new WatchRefused(res.statusCode));
    }
    this.reader = res;
    this.events.opened(undefined);
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.alive();
      buffer += chunk;
      const lines: string[] = [];
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) lines.push(line);
      }
      if (lines.length > 0) this.events.received(lines);
    });
    res.on('end', () => this.close(new Error('watch stream ended')));
    res.on('error', (err) => this.close(err));
  }
}
