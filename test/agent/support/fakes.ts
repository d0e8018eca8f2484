/**
 * Kernel-free fixtures for agent tests: an empty host state, an nft backend that
 * records transactions (and refuses them on demand), and an Agent wired to it.
 */
import { Agent } from '../../../src/agent/agent.js';
import type { NftBackend } from '../../../src/agent/nft/apply.js';
import type { NftJson } from '../../../src/agent/nft/types.js';
import type { HostState, LocalRecord } from '../../../src/model/host-state.js';

/**
 * A state of host h1 at `revision` with nothing in it but `extra`.
 *
 * @example hostState(3, { ipcache: [{ ip: '10.0.0.1', identity: 300 }] })
 */
export function hostState(revision: number, extra: Partial<HostState> = {}): HostState {
  return {
    host: 'h1',
    revision,
    locals: [],
    remotes: [],
    ipcache: [],
    sides: [],
    defaults: [],
    ...extra,
  };
}

/** Local record `a` of h1: identity 256 at 10.0.0.1 in 10.0.0.0/24. */
export const LOCAL_A: LocalRecord = {
  name: 'a',
  identity: 256,
  ips: ['10.0.0.1'],
  mac: '02:00:00:00:00:01',
  subnet: 's',
  cidr: '10.0.0.0/24',
  instance: 'i',
};

/** Records every transaction; refuses them while `failing`. */
export class RecordingNft implements NftBackend {
  docs: NftJson[] = [];
  failing = false;
  async apply(doc: NftJson): Promise<void> {
    if (this.failing) throw new Error('nft: refused');
    this.docs.push(doc);
  }
  async list(): Promise<undefined> {
    return undefined;
  }
  async flush(): Promise<void> {}
}

/**
 * An Agent of host h1 on a RecordingNft, with no links and no conntrack sweep.
 *
 * @example const { agent, nft } = fakeAgent(); await agent.applyState(hostState(1));
 */
export function fakeAgent(nft = new RecordingNft()): { agent: Agent; nft: RecordingNft } {
  const agent = new Agent({
    host: 'h1',
    underlayIp: '192.0.2.1',
    nft,
    links: false,
    killDeniedFlows: false,
  });
  return { agent, nft };
}
