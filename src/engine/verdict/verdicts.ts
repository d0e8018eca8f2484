/**
 * The verdict facet: `check` (a verdict with both sides explained, design.md §2) and
 * `verdict` (the fast path: the verdict only, from the same tables through the pair
 * cache). Reads the shared state; never changes the documents.
 */
import { VnpError } from '../../model/errors.js';
import { IDENTITY_WORLD, type Direction } from '../../model/host-state.js';
import { formatIp, ipKey, parseIp, type Ip } from '../../model/net.js';
import { PROTOCOLS, type Protocol } from '../../model/types.js';
import { PROTO_INDEX } from '../compile/port-table.js';
import { explainSteering, type ViaStatus } from '../compile/steering-resolution.js';
import type { IdentityInfo } from '../identity/identity-registry.js';
import type { EngineState, RecordState } from '../state/engine-state.js';
import type { CheckRequest, CheckResult, EndpointInfo } from '../types.js';
import { explainSide, notEvaluated, sameRecordSide, type PeerEndpoint } from './explain.js';
import { pairDefaultReason } from './pair-default.js';
import { PairTables } from './pair-tables.js';
import type { Sides } from './sides.js';

/** A resolved flow endpoint. */
interface Endpoint extends PeerEndpoint {
  record?: RecordState;
  info?: IdentityInfo;
}

export class Verdicts {
  readonly pairs: PairTables;

  constructor(
    private readonly state: EngineState,
    private readonly sides: Sides,
  ) {
    this.pairs = new PairTables(state, sides);
  }

  /** Judges a flow and explains both sides (design.md §2). */
  check(req: CheckRequest): CheckResult {
    const { proto, port } = flowPorts(req);
    const source = this.endpoint(req.src, 'src');
    const target = this.endpoint(req.dst, 'dst');
    const src = endpointInfo(source);
    const dst = endpointInfo(target);
    if (source.record && source.record === target.record) {
      const egress = sameRecordSide();
      const reason = 'a record talking to itself is allowed';
      return { verdict: 'allow', reason, src, dst, egress, ingress: sameRecordSide() };
    }
    const pairDefault = this.sides.pairDefaultOf(source.info, target.info);
    const byDefault = { verdict: pairDefault.verdict, reason: pairDefaultReason(pairDefault) };
    const { sides } = this;
    const egress = source.record
      ? explainSide(
          sides.side(source.identity, 'egress'),
          target,
          proto,
          port,
          byDefault,
          sides.memberTest,
        )
      : notEvaluated('the source is an address outside every record');
    const ingress = target.record
      ? explainSide(
          sides.side(target.identity, 'ingress'),
          source,
          proto,
          port,
          byDefault,
          sides.memberTest,
        )
      : notEvaluated('the destination is an address outside every record');
    const verdict = egress.verdict === 'allow' && ingress.verdict === 'allow' ? 'allow' : 'deny';
    const route =
      verdict === 'allow' && source.record
        ? explainSteering(
            sides.steeringSide(source.identity),
            target,
            proto,
            port,
            sides.memberTest,
            this.state.classes,
            (via) => this.viaStatus(via, source.record!, target),
          )
        : undefined;
    const reason = flowReason(verdict, egress, ingress);
    return { verdict, reason, src, dst, egress, ingress, ...(route ? { route } : {}) };
  }

  /**
   * The fast path: the verdict only, no explanation. Same tables as `check`.
   *
   * @example engine.verdict('web-1', 'db-1', 'tcp', 5432) // true when allowed
   */
  verdict(src: string, dst: string, protocol: Protocol, port: number): boolean {
    const source = this.state.records.get(src);
    const target = this.state.records.get(dst);
    if (source === undefined || target === undefined) {
      return this.check({ src, dst, protocol, port }).verdict === 'allow';
    }
    if (source === target) return true;
    const proto = PROTO_INDEX[protocol];
    const portOrZero = proto === 3 ? 0 : port;
    // A pair table leaves CIDR rules out: exact unless a CIDR peer covers an address here.
    const pair = this.pairs.exact(source, target);
    if (pair) return pair.lookup(proto, portOrZero) === 1;
    return (
      this.sideAllows(
        source.identity,
        'egress',
        target.identity,
        target.ips[0]!,
        proto,
        portOrZero,
      ) &&
      this.sideAllows(
        target.identity,
        'ingress',
        source.identity,
        source.ips[0]!,
        proto,
        portOrZero,
      )
    );
  }

  private sideAllows(
    local: number,
    dir: Direction,
    peer: number,
    peerIp: Ip,
    proto: number,
    port: number,
  ): boolean {
    const side = this.sides.side(local, dir);
    const pos = side.decide(peer, peerIp.family, peerIp.value, proto, port);
    if (pos >= 0) return side.rules[pos]!.action !== 'deny';
    return this.sides.cachedDefault(local, peer) === 'allow';
  }

  /** Whether a via record can carry steered traffic of a flow between `src` and `dst`. */
  private viaStatus(via: string, src: RecordState, dst: Endpoint): ViaStatus {
    if (via === src.name) return { ok: false, reason: 'the via record is the source' };
    if (via === dst.record?.name) return { ok: false, reason: 'the via record is the destination' };
    const rec = this.state.records.get(via);
    if (!rec) return { ok: false, reason: `no interface record "${via}"` };
    if (!rec.ips.some((ip) => ip.family === dst.ip.family))
      return { ok: false, reason: `"${via}" has no IPv${dst.ip.family} address` };
    const inst = rec.doc.instance;
    if (inst === undefined) return { ok: false, reason: `"${via}" is not attached to an instance` };
    if (this.state.instanceHost(inst) === undefined)
      return { ok: false, reason: `instance "${inst}" of "${via}" does not exist` };
    return { ok: true };
  }

  /** A record name, else an address (a record's, or outside every record: world). */
  private endpoint(text: string, field: 'src' | 'dst'): Endpoint {
    const { records, ids, documents } = this.state;
    const rec = records.get(text);
    if (rec)
      return { record: rec, info: ids.get(rec.identity), identity: rec.identity, ip: rec.ips[0]! };
    const ip = parseIp(text);
    if (!ip) {
      throw new VnpError(
        'VNP_ERR_UNKNOWN_ENDPOINT',
        `${field}: "${text}" is neither an interface record nor an IP address`,
        { field, expected: 'a record name or an IP address' },
      );
    }
    const owner = documents.addrOwner.get(ipKey(ip));
    const record = owner === undefined ? undefined : records.get(owner);
    if (record)
      return { record: record, info: ids.get(record.identity), identity: record.identity, ip };
    return { identity: IDENTITY_WORLD, ip };
  }
}

function endpointInfo(endpoint: Endpoint): EndpointInfo {
  return {
    ...(endpoint.record ? { record: endpoint.record.name } : {}),
    ...(endpoint.ip ? { address: formatIp(endpoint.ip) } : {}),
    identity: endpoint.identity,
    partitions: endpoint.info?.partitions ?? [],
  };
}

function flowPorts(req: CheckRequest): { proto: number; port: number } {
  const protocol = req.protocol ?? 'tcp';
  if (!PROTOCOLS.includes(protocol)) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `protocol: expected one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(protocol)}`,
      { field: 'protocol', expected: PROTOCOLS.join('|') },
    );
  }
  if (protocol === 'icmp') return { proto: PROTO_INDEX.icmp, port: 0 };
  const port = req.port;
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `port: expected an integer 1..65535 for ${protocol}${port === undefined ? '' : `, got ${JSON.stringify(port)}`}`,
      { field: 'port', expected: 'an integer 1..65535' },
    );
  }
  return { proto: PROTO_INDEX[protocol], port };
}

function flowReason(
  verdict: 'allow' | 'deny',
  egress: CheckResult['egress'],
  ingress: CheckResult['ingress'],
): string {
  const why = (side: string, result: CheckResult['egress']) =>
    result.rule
      ? `${side} ${result.verdict === 'deny' ? 'denied' : result.logged ? 'logged' : 'allowed'} by policy "${result.rule.policy}" ${result.rule.rule}`
      : `${side} ${result.verdict === 'deny' ? 'denied' : 'allowed'} by default`;
  if (verdict === 'allow') return `allowed: ${why('egress', egress)}; ${why('ingress', ingress)}`;
  const denying = [
    egress.verdict === 'deny' ? why('egress', egress) : '',
    ingress.verdict === 'deny' ? why('ingress', ingress) : '',
  ].filter(Boolean);
  return `denied: ${denying.join('; ')}`;
}
