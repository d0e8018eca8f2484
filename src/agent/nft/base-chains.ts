/**
 * The base chains of the `inet vnp` table (docs/adr/0005-datapath.md): one forward
 * base chain, so a packet pays one hook, and the prerouting and transit chains of
 * steering when the host needs them. They never depend on policy entries: a delta
 * changes them only when steering starts or stops being used on the host.
 *
 *   forward (forward, prio 0): packets of accepted connections leave at once (mark from the
 *               ct mark). New ones from local records jump to `fwd-egress`: peer =
 *               ipcache[daddr] | world, held in meta mark while `eg-<S>` decides (allowed
 *               returns). Then the mark becomes the source identity for packets from local
 *               records (it leaves in the VXLAN-GBP header); for packets to local records the
 *               source identity is the mark (GBP on receipt) | ipcache[saddr] | world, and
 *               `in-<S>` decides (S: the local identity's slot, local-slots.ts).
 */
import { IDENTITY_WORLD } from '../../model/host-state.js';
import {
  ACCEPT,
  addr,
  ctMark,
  ctState,
  CT_MARK_TAG,
  CT_STEER_MASK,
  CT_TAG_MASK,
  DROP,
  iif,
  lookup,
  mark,
  match,
  notOwnSource,
  oif,
  setMark,
  vmap,
} from './expressions.js';
import type { ChainDecl } from './table.js';

/**
 * What of steering a host needs in its base chains: `sources` when some local record's
 * new connections may be steered, `vias` when a via record is local. A host without
 * either pays nothing for steering (adding it later replaces the table atomically).
 */
export interface SteerUse {
  sources: boolean;
  vias: boolean;
}

export function baseChains(use: SteerUse): ChainDecl[] {
  const hook = (prio: number) => ({
    type: 'filter' as const,
    hook: 'forward' as const,
    prio,
    policy: 'accept' as const,
  });
  const steered = [
    match({ '&': [ctMark, CT_TAG_MASK] }, CT_MARK_TAG),
    match({ '&': [ctMark, CT_STEER_MASK] }, 0, '!='),
  ];
  const only = <T>(cond: boolean, items: T[]): T[] => (cond ? items : []);
  const steerChains: ChainDecl[] = [
    {
      // Before the routing decision: a new connection from a local record that a route
      // matches gets its steer class as ct mark and mark (ip rule fwmark k → table
      // 7300+k → the via record); its later original-direction packets get it back from
      // the ct mark. Replies and transit traffic are never steered.
      name: 'pre-steer',
      hook: { type: 'filter', hook: 'prerouting', prio: -150, policy: 'accept' },
      rules: [
        [match(iif, '@locals', '!='), ACCEPT],
        // Most packets: established and not steered.
        [
          match(ctState, ['established', 'related'], 'in'),
          match({ '&': [ctMark, CT_STEER_MASK] }, 0),
          ACCEPT,
        ],
        [match({ ct: { key: 'direction' } }, 'reply'), ACCEPT],
        [...notOwnSource(4), ACCEPT],
        [...notOwnSource(6), ACCEPT],
        [match(ctState, ['established', 'related'], 'in'), ...steered, setMark(ctMark), ACCEPT],
        [match(ctState, 'new', '!='), ACCEPT],
        [vmap(iif, 'steer-dispatch')],
        // Back from a steer chain without steering: the peer identity held in the mark
        // must not reach the routing decision.
        [setMark(0)],
      ],
    },
    {
      // Transit: a packet leaving a local via record (middlebox) with a source that is
      // not its own was steered there and decided at the source's host. The mark it
      // leaves with is the source's identity, so the destination's ingress sees the
      // source, not the middlebox; a local destination decides its ingress as usual.
      name: 'transit',
      rules: [
        [setMark(IDENTITY_WORLD)],
        [setMark(lookup(addr(4, 'saddr'), 'ipcache4'))],
        [setMark(lookup(addr(6, 'saddr'), 'ipcache6'))],
        [match(oif, '@locals', '!='), ACCEPT],
        [match(ctState, ['established', 'related'], 'in'), ACCEPT],
        [vmap(oif, 'ingress-dispatch')],
        // Allowed by the destination's ingress side (it returns): decided.
        [ACCEPT],
      ],
    },
    {
      // Packets leaving a local via record (one set test in `forward` for the others):
      // transit when the source is not the record's own, else back to `forward`.
      name: 'from-via',
      rules: [
        [...notOwnSource(4), { goto: { target: 'transit' } }],
        [...notOwnSource(6), { goto: { target: 'transit' } }],
      ],
    },
  ];
  return [
    ...steerChains.filter((c) => (c.name === 'pre-steer' ? use.sources : use.vias)),
    {
      // The one forward base chain: every forwarded packet pays one hook and, when it
      // belongs to an accepted connection, two rules (docs/adr/0005-datapath.md).
      name: 'forward',
      hook: hook(0),
      rules: [
        // Transit out of a local via record, new or established: `transit` decides.
        ...only(use.vias, [[match(iif, '@via-ifs'), { jump: { target: 'from-via' } }]]),
        // Packets of accepted connections: the local end's identity comes back from the
        // ct mark (one expression, no map lookup), so every packet still leaves with its
        // GBP Group Policy ID; connections vnp did not mark are left alone.
        [
          match(ctState, ['established', 'related'], 'in'),
          match({ '&': [ctMark, CT_TAG_MASK] }, CT_MARK_TAG),
          setMark({ '&': [ctMark, 0xffff] }),
          ACCEPT,
        ],
        [match(ctState, ['established', 'related'], 'in'), ACCEPT],
        // New connections from local records: their egress side; allowed returns here.
        [match(iif, '@locals'), { jump: { target: 'fwd-egress' } }],
        // Source identity of local records: it leaves in the GBP header.
        [setMark(lookup(iif, 'ifid'))],
        // A steered connection's packets leave with its steer class instead.
        ...only(use.sources, [
          [match(iif, '@locals'), ...steered, setMark({ '&': [ctMark, 0xffff] })],
        ]),
        // Steered packets entering a local via record: nothing to decide here (the
        // source's egress was decided at its host, the destination's ingress will be).
        ...only(use.vias, [[match({ concat: [mark, oif] }, '@steer-via'), ACCEPT]]),
        // Remember the local end's identity for the connection's later packets (see the
        // first rules): the sender's when it is local, else the local receiver's, whose
        // replies then leave with its identity. A steered connection keeps its ct mark.
        [
          match(iif, '@locals'),
          ...only(use.sources, [match({ '&': [ctMark, CT_STEER_MASK] }, 0)]),
          { mangle: { key: ctMark, value: lookup(iif, 'ifct') } },
        ],
        [
          match(iif, '@locals', '!='),
          match(oif, '@locals'),
          { mangle: { key: ctMark, value: lookup(oif, 'ifct') } },
        ],
        [match(oif, '@locals', '!='), ACCEPT],
        [match(ctState, 'invalid', 'in'), DROP],
        // Only marks from our VXLAN devices (GBP) or local records are identities.
        [match(iif, '@trusted', '!='), setMark(0)],
        [setMark({ '&': [mark, 0xffff] })],
        [match(mark, 0), setMark(lookup(addr(4, 'saddr'), 'ipcache4'))],
        [match(mark, 0), setMark(lookup(addr(6, 'saddr'), 'ipcache6'))],
        [match(mark, 0), setMark(IDENTITY_WORLD)],
        // The local destination's ingress side; allowed returns, and the policy accepts.
        [vmap(oif, 'ingress-dispatch')],
      ],
    },
    {
      // The egress side of a new connection from a local record (jumped from `forward`).
      name: 'fwd-egress',
      rules: [
        [match(ctState, 'invalid', 'in'), DROP],
        // Anti-spoofing: a record sends only from its own addresses.
        [
          match({ meta: { key: 'nfproto' } }, 'ipv4'),
          match({ concat: [iif, addr(4, 'saddr')] }, '@spoof4', '!='),
          DROP,
        ],
        [
          match({ meta: { key: 'nfproto' } }, 'ipv6'),
          match({ concat: [iif, addr(6, 'saddr')] }, '@spoof6', '!='),
          DROP,
        ],
        // The peer identity (destination), held in the mark while eg-<S> decides.
        [setMark(IDENTITY_WORLD)],
        [setMark(lookup(addr(4, 'daddr'), 'ipcache4'))],
        [setMark(lookup(addr(6, 'daddr'), 'ipcache6'))],
        [vmap(iif, 'egress-dispatch')],
      ],
    },
  ];
}
