/**
 * Applying documents to the kernel: `nft -j -f -` runs one document as one atomic
 * transaction (all or nothing), `nft -j list table inet vnp` reads the table back.
 */
import type { Exec } from '../exec.js';
import { mustRun } from '../exec.js';
import { TABLE_FAMILY, TABLE_NAME, type NftJson } from './types.js';

/** Where nft documents go: the kernel, or a fake in tests. */
export interface NftBackend {
  /** Applies one transaction; throws (and changes nothing) when the kernel refuses it. */
  apply(doc: NftJson): Promise<void>;
  /** The current `inet vnp` table, or undefined when there is none. */
  list(): Promise<NftJson | undefined>;
  /** Removes the table (the agent's whole policy). */
  flush(): Promise<void>;
}

/**
 * The real backend: the `nft` binary, through an Exec (possibly inside a netns).
 *
 * @example const nft = new KernelNft(makeExec()); await nft.apply(renderRuleset(state));
 */
export class KernelNft implements NftBackend {
  constructor(private readonly exec: Exec) {}

  async apply(doc: NftJson): Promise<void> {
    if (doc.nftables.length === 0) return;
    await mustRun(this.exec, ['nft', '-j', '-f', '-'], JSON.stringify(doc));
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
