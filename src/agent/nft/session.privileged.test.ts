/**
 * The long-lived `nft -j -i` against the real kernel: a document's promise settles
 * only after the kernel committed it (or refused it), a refusal is attributed to its
 * document and the process goes on, and a process that dies is replaced. Needs root
 * and `ip netns`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePrivileged } from '../../../test/e2e/support/describe-privileged.js';
import { sh } from '../../../test/e2e/support/topology.js';
import { makeExec } from '../exec.js';
import { KernelNft } from './apply.js';
import type { NftJson } from './types.js';

const table = { family: 'inet', table: 'vnp' };
const map = { ...table, name: 'm', type: 'mark', map: 'verdict' };
const elem = (op: 'add' | 'delete', mark: number): NftJson => ({
  nftables: [
    {
      [op]: {
        element: { ...table, name: 'm', elem: op === 'add' ? [[mark, { accept: null }]] : [mark] },
      },
    },
  ],
});

describePrivileged('nft session on the real kernel', {}, () => {
  const ns = `vnpt-${randomBytes(3).toString('hex')}-nfs`;
  const exec = makeExec(ns);
  const nft = new KernelNft(exec);
  /** The marks in map m, as a one-shot nft lists them. */
  const marks = async (): Promise<number[]> => {
    const r = await exec(['nft', '-j', 'list', 'map', 'inet', 'vnp', 'm']);
    const doc = JSON.parse(r.stdout) as { nftables: { map?: { elem?: [number, unknown][] } }[] };
    return (doc.nftables.find((c) => c.map)?.map?.elem ?? []).map(([k]) => k).sort();
  };

  beforeAll(async () => {
    sh(['ip', 'netns', 'add', ns]);
    await nft.apply({
      nftables: [{ add: { table: { family: 'inet', name: 'vnp' } } }, { add: { map } }],
    });
  });
  afterAll(() => {
    nft.close();
    sh(['ip', 'netns', 'del', ns]);
  });

  it('settles each document after the kernel holds it', async () => {
    for (let k = 1; k <= 10; k++) {
      await nft.apply(elem('add', k));
      expect(await marks()).toContain(k);
      await nft.apply(elem('delete', k));
      expect(await marks()).not.toContain(k);
    }
  });

  it('throws for a refused document, with nft’s error, and runs the next one', async () => {
    await nft.apply(elem('add', 7));
    // Deleting 8 (absent) refuses the whole transaction: 7 stays.
    const both: NftJson = {
      nftables: [...elem('delete', 7).nftables, ...elem('delete', 8).nftables],
    };
    await expect(nft.apply(both)).rejects.toThrow(/No such file or directory/);
    expect(await marks()).toEqual([7]);
    await nft.apply(elem('delete', 7));
    expect(await marks()).toEqual([]);
  });

  it('replaces a process that died', async () => {
    await nft.apply(elem('add', 3));
    // Only this suite's namespace: its processes are the session's.
    const pids = sh(['ip', 'netns', 'pids', ns]).split('\n').filter(Boolean);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    // A document sent before the exit was seen fails as the session's (never run twice).
    await nft.apply(elem('delete', 3)).catch((e: Error) => {
      expect(e.message).toMatch(/nft session/);
      return nft.apply(elem('delete', 3));
    });
    expect(await marks()).toEqual([]);
  });
});
