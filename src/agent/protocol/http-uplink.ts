/**
 * The upward half of the protocol over HTTP, for a watch without a WebSocket channel
 * (docs/protocol.md): `POST …/ack` and `POST …/flows` to the manager the watch came
 * from. Acknowledgements are best effort and ordered: at most one is in flight and a
 * newer one replaces a queued one (the next revision, or a reconnect, acknowledges
 * again).
 */
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ClientTls } from '../../client/http-fetch.js';

/** Posts a host's acks and flow batches to a manager. */
export class HttpUplink {
  private pumping = false;
  private queued: { base: string; revision: number } | undefined;

  constructor(
    private readonly host: string,
    private readonly token: string,
    private readonly agent: HttpAgent,
    /** The only CA trusted for an https manager (default: the system CAs), a client certificate. */
    private readonly tls: ClientTls,
    /**
     * Whether `revision` needs no ack at `base` any more (already acknowledged there);
     * told of every ack the manager accepted.
     */
    private readonly ledger: {
      covered(base: string, revision: number): boolean;
      acked(revision: number): void;
    },
  ) {}

  /** Acknowledge `revision` to `base` (queued behind the ack in flight, if any). */
  ack(base: string, revision: number): void {
    this.queued = { base, revision };
    if (!this.pumping) void this.pump();
  }

  /** Stop sending queued acks (the follower stopped). */
  stop(): void {
    this.queued = undefined;
  }

  /** `POST …/hosts/HOST/LEAF` with a JSON body; rejects unless the answer is 200. */
  post(base: string, leaf: 'ack' | 'flows', body: unknown): Promise<void> {
    const url = new URL(`${trimSlashes(base)}/v1/hosts/${encodeURIComponent(this.host)}/${leaf}`);
    const data = JSON.stringify(body);
    const https = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        url,
        {
          method: 'POST',
          agent: https ? undefined : this.agent,
          // Pinning: with `ca` set, node trusts that CA only; `cert`/`key`: agent mTLS.
          ...this.tls,
          headers: {
            authorization: `Bearer ${this.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(data),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200
              ? resolve()
              : reject(new Error(`${url.pathname}: HTTP ${res.statusCode}`)),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    while (this.queued) {
      const { base, revision } = this.queued;
      this.queued = undefined;
      if (this.ledger.covered(base, revision)) continue;
      try {
        await this.post(base, 'ack', { revision });
        this.ledger.acked(revision);
      } catch {
        /* best effort: the next revision acknowledges again, and so does a reconnect */
      }
    }
    this.pumping = false;
  }
}

/** A base URL without trailing slashes. */
export function trimSlashes(base: string): string {
  return base.replace(/\/+$/, '');
}
