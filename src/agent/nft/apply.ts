/**
 * Applying documents to the kernel: `nft -j -f -` runs one document as one atomic
 * transaction (all or nothing), `nft -j list table inet vnp` reads the table back.
 * Small documents (deltas) go to one long-lived `nft -j -i` instead (session.ts).
 */
import { VnpError } from '../../model/errors.js';
import type { Exec } from '../exec.js';
import { mustRun } from '../exec.js';
import { NftSession, SESSION_MAX_BYTES } from './session.js';
import { TABLE_FAMILY, TABLE_NAME, type NftJson } from './types.js';

/** Where nft documents go: the kernel, or a fake in tests. */
export interface NftBackend {
  /** Applies one transaction; throws (and changes nothing) when the kernel refuses it. */
  apply(doc: NftJson): Promise<void>;
  /** The current `inet vnp` table, or undefined when there is none. */
  list(): Promise<NftJson | undefined>;
  /** Removes the table (the agent's whole policy). */
  flush(): Promise<void>;
  /** Ends any process the backend keeps. */
  close?(): void;
}

/**
 * The real backend: the `nft` binary, through an Exec (possibly inside a netns).
 *
 * @example const nft = new KernelNft(makeExec()); await nft.apply(renderRuleset(state));
 */
export class KernelNft implements NftBackend {
  /** Only where the Exec says where it runs (a wrapped or fake Exec runs everything). */
  private readonly session: NftSession | undefined;

  constructor(private readonly exec: Exec) {
    this.session = exec.prefix ? new NftSession([...exec.prefix]) : undefined;
  }

  /**
   * A refused document throws and changed nothing; so does a session whose process
   * died before it answered (the document may have been committed: the caller replaces
   * the table whole, never runs the document again).
   */
  async apply(doc: NftJson): Promise<void> {
    if (doc.nftables.length === 0) return;
    const json = JSON.stringify(doc);
    const session = this.session;
    if (!session || session.broken || json.length > SESSION_MAX_BYTES) {
      await mustRun(this.exec, ['nft', '-j', '-f', '-'], json);
      return;
    }
    const r = await session.run(json);
    if (!r.ok)
      throw new VnpError(
        'VNP_ERR_INTERNAL',
        `nft -j -i refused a document: ${r.output.slice(0, 2000)}`,
        {
          field: 'exec',
          command: 'nft -j -i',
        },
      );
  }

  close(): void {
    this.session?.close();
  }

  async list(): Promise<NftJson | undefined> {
    const r = await this.exec(['nft', '-j', 'list', 'table', TABLE_FAMILY, TABLE_NAME]);
    if (r.code !== 0) return undefined;
    return JSON.parse(r.stdout) as NftJson;
  }

  async flush(): Promise<void> {
    const t = { family: TABLE_FAMILY, name: TABLE_NAME };
    await this.apply({ nftables: [{ add: { table: t } }, { delete: { table: t } }] });
  }
}
