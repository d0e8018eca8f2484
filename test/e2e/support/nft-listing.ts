/**
 * Comparable nftables listings for privileged renderer tests: `nft -j list` output
 * without handles and metainfo, set elements sorted, objects sorted — equal tables
 * give equal values whatever order the kernel lists them in.
 */
import type { NftJson } from '../../../src/agent/nft/types.js';

/**
 * Normalises a listing (or a rendered document) for comparison.
 *
 * @example expect(normalizeListing(await nft.list())).toEqual(normalizeListing(renderRuleset(s)))
 */
export function normalizeListing(doc: NftJson | undefined): string[] {
  if (!doc) return [];
  return doc.nftables
    .filter((c) => !('metainfo' in c))
    .map((c) => {
      const [kind, body] = Object.entries(c)[0] as [string, Record<string, unknown>];
      const { handle: _h, ...rest } = body;
      if (Array.isArray(rest.elem))
        rest.elem = (rest.elem as unknown[]).map((e) => JSON.stringify(e)).sort();
      return JSON.stringify({ [kind]: rest });
    })
    .sort();
}
