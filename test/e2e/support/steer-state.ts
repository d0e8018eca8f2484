/**
 * A host state with steering for tests: a source with route entries on h1, via records
 * local (fwl), remote (fw), unreachable (fw-loose, no underlay), and a class nobody
 * uses. Shared by the pure and the privileged steering render tests.
 */
import type { HostState, SteeringEntries, SideState } from '../../../src/model/host-state.js';
import { hostStateOf } from './host-states.js';

const recs = [
  { name: 'src', identity: 256, ips: ['10.0.0.1', 'fd00::1'], host: 'h1' },
  { name: 'fwl', identity: 258, ips: ['10.0.0.11'], host: 'h1' },
  { name: 'dst', identity: 257, ips: ['10.0.0.3'], host: 'h3' },
  { name: 'fw', identity: 258, ips: ['10.0.0.10', 'fd00::10'], host: 'h2' },
  { name: 'fw-loose', identity: 258, ips: ['10.0.0.12'], host: 'h4' },
];

/** SteeringRoute entries of the source (identity 256): classes 2 (fw), 3 (inert), 4 (fwl). */
export const routes: SteeringEntries = {
  cidr: [
    {
      range: '192.0.2.0/24',
      proto: 'udp',
      ports: [53, 53],
      steer: 3,
      policy: 'p',
      route: 'routes[1]',
    },
  ],
  peers: [
    { peer: 257, proto: 'tcp', ports: [8080, 8080], steer: 2, policy: 'p', route: 'routes[0]' },
    { peer: 257, proto: 'icmp', ports: [0, 65535], steer: 2, policy: 'p', route: 'routes[0]' },
  ],
  any: [{ proto: 'tcp', ports: [9000, 9999], steer: 4, policy: 'q', route: 'routes[0]' }],
};

/** The steering fixture as `host` sees it; `withRoutes` undefined: the source routes nothing. */
export function steerState(
  withRoutes: SteeringEntries | undefined,
  host = 'h1',
  revision = 1,
): HostState {
  const sides: SideState[] = [
    {
      identity: 256,
      direction: 'egress',
      cidr: [],
      peers: [],
      any: [],
      ...(withRoutes ? { routes: withRoutes } : {}),
    },
  ];
  // h4 has no known underlay: fw-loose is unreachable, its class inert.
  const s = hostStateOf(
    host,
    revision,
    recs,
    sides,
    recs.map((r) => ({ identity: r.identity, other: 'allow' as const, peers: [] })),
    { h1: '192.0.2.201', h2: '192.0.2.202', h3: '192.0.2.203' },
  );
  return {
    ...s,
    remotes: s.remotes.map((r) => (r.host === 'h4' ? { ...r, underlay: undefined } : r)),
    steering: [
      { class: 2, via: 'fw' },
      { class: 3, via: 'fw-loose' },
      { class: 4, via: 'fwl' },
      { class: 5, via: 'unused' },
    ],
  } as HostState;
}
