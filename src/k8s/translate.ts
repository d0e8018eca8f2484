/**
 * Kubernetes NetworkPolicy → vnp documents, with upstream's semantics (the
 * mapping is docs/kubernetes.md; the decision ADR 0010):
 *
 * - every Pod is an Interface record in the pods subnet, tagged with its labels,
 *   its namespace's labels (`ns:<key>`), its named ports and its source;
 * - per NetworkPolicy, `<base>_isolation` (priority 1000) denies every peer in the
 *   directions the policy isolates, and `<base>` (priority 1001) holds one allow
 *   rule per (rule, peer). A side decides by its highest matching priority, so a
 *   pod selected by any isolating policy is denied unless some policy's rule
 *   allows (the union of allows), and a pod no policy selects takes vnp's default
 *   (`unpartitioned: allow`) — exactly upstream's per-pod, per-direction isolation.
 *   Egress is vnp's egress side at the source, ingress the ingress side at the
 *   destination; an ipBlock address outside every record has no side, as upstream.
 * - a named port resolves per destination pod: an ingress rule's in `<base>_port-N`
 *   policies whose appliesTo also requires the pod's `port:<proto>:<name>` tag to hold
 *   the number, an egress rule's by the same condition on the peer selector.
 */
import { VnpError } from '../model/errors.js';
import {
  cidrContains,
  cidrOf,
  formatCidr,
  parseCidr,
  parsePrefix,
  type Cidr,
} from '../model/net.js';
import { MAX_TAGS, TAG_KEY_RE } from '../model/tags.js';
import type { Document, Interface, Peer, Policy, Rule, Tags } from '../model/types.js';
import { printPath, quoteString } from '../selector/index.js';
import { labelSelector } from './label-selector.js';
import {
  ALLOW_PRIORITY,
  and,
  ISOLATION_PRIORITY,
  NS_TAG_PREFIX,
  ownerMark,
  POD_TAG,
  PORT_TAG_PREFIX,
  SOURCE_TAG,
  tagEquals,
  vnpName,
} from './naming.js';
import {
  NAMESPACE_NAME_LABEL,
  type IpBlock,
  type K8sNamespace,
  type K8sNetworkPolicy,
  type K8sObjects,
  type K8sPod,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
} from './objects.js';

export interface TranslateOptions {
  source: string;
  /** The subnet pods are recorded in (it must exist: the caller looks it up). */
  subnet: { name: string; cidr: string };
}

export interface Translation {
  /** Interfaces (one per pod) then Policies, sorted by name within each kind. */
  documents: Document[];
  warnings: string[];
}

interface Context {
  source: string;
  sourceSel: string;
  /** (tag key) → the distinct numbers pods give that named port. */
  portValues: Map<string, number[]>;
  pods: { pod: K8sPod; record: Interface }[];
  warnings: string[];
}

/**
 * Translate imported objects into vnp documents.
 *
 * @example
 *   translate(readObjects(manifests), { source: 'k8s', subnet: { name: 'pods', cidr: '10.0.0.0/16' } })
 */
export function translate(objects: K8sObjects, opts: TranslateOptions): Translation {
  const namespaces = new Map(objects.namespaces.map((n) => [n.name, n]));
  const subnet = parseCidr(opts.subnet.cidr)!;
  const warnings: string[] = [];
  const pods: Context['pods'] = [];
  for (const pod of objects.pods) {
    const ns = declared(namespaces, pod.namespace, pod.field, `Pod ${pod.namespace}/${pod.name}`);
    if (pod.hostNetwork) {
      warnings.push(
        `Pod ${pod.namespace}/${pod.name} uses the host network: NetworkPolicy does not apply to it; not imported`,
      );
      continue;
    }
    pods.push({ pod, record: podRecord(pod, ns, opts, subnet) });
  }
  const ctx: Context = {
    source: opts.source,
    sourceSel: tagEquals(SOURCE_TAG, opts.source),
    portValues: portValues(pods.map((p) => p.record)),
    pods,
    warnings,
  };
  const policies: Policy[] = [];
  for (const np of objects.policies) {
    declared(namespaces, np.namespace, np.field, `NetworkPolicy ${np.namespace}/${np.name}`);
    policies.push(...translatePolicy(np, ctx));
  }
  const byName = <T extends { name: string }>(a: T, b: T): number =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  const records = pods.map((p) => p.record).sort(byName);
  for (let i = 1; i < records.length; i++) {
    if (records[i]!.name === records[i - 1]!.name)
      throw new VnpError(
        'VNP_ERR_VALIDATION',
        `two pods map to the record name ${records[i]!.name}`,
        { field: 'objects' },
      );
  }
  return {
    documents: [
      ...records.map((r): Document => ({ kind: 'Interface', ...r })),
      ...policies.sort(byName).map((p): Document => ({ kind: 'Policy', ...p })),
    ],
    warnings,
  };
}

function declared(
  namespaces: Map<string, K8sNamespace>,
  name: string,
  field: string,
  what: string,
): K8sNamespace {
  const ns = namespaces.get(name);
  if (ns === undefined) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `${field}.metadata.namespace (${what}): no Namespace object declares "${name}"; include it in the import`,
      {
        field: `${field}.metadata.namespace`,
        expected: 'a namespace declared by a Namespace object',
      },
    );
  }
  return ns;
}

function podRecord(pod: K8sPod, ns: K8sNamespace, opts: TranslateOptions, subnet: Cidr): Interface {
  const what = `Pod ${pod.namespace}/${pod.name}`;
  for (const [i, a] of pod.ips.entries()) {
    if (!cidrContains(subnet, a.ip)) {
      throw new VnpError(
        'VNP_ERR_ADDRESS',
        `${pod.field}.status.podIPs[${i}] (${what}): address ${a.text} is not inside subnet ${opts.subnet.name} (${opts.subnet.cidr})`,
        {
          field: `${pod.field}.status.podIPs[${i}]`,
          pod: `${pod.namespace}/${pod.name}`,
          address: a.text,
        },
      );
    }
  }
  const tags: Tags = { ...pod.labels };
  for (const [k, v] of Object.entries(ns.labels)) tags[NS_TAG_PREFIX + k] = v;
  for (const p of pod.ports) {
    if (p.name === undefined) continue;
    const key = `${PORT_TAG_PREFIX}${p.protocol.toLowerCase()}:${p.name}`;
    if (tags[key] === undefined) tags[key] = p.containerPort;
  }
  tags[SOURCE_TAG] = opts.source;
  tags[POD_TAG] = `${pod.namespace}/${pod.name}`;
  const keys = Object.keys(tags);
  const long = keys.find((k) => !TAG_KEY_RE.test(k));
  if (long !== undefined || keys.length > MAX_TAGS) {
    const why =
      long !== undefined
        ? `the tag key ${JSON.stringify(long)} is longer than 127 characters`
        : `${keys.length} tags (labels, namespace labels, named ports) exceed ${MAX_TAGS}`;
    throw new VnpError('VNP_ERR_VALIDATION', `${pod.field}.metadata.labels (${what}): ${why}`, {
      field: `${pod.field}.metadata.labels`,
    });
  }
  return {
    name: vnpName(opts.source, pod.namespace, pod.name),
    subnet: opts.subnet.name,
    ips: pod.ips.map((a) => a.text),
    tags,
  };
}

function portValues(records: Interface[]): Map<string, number[]> {
  const out = new Map<string, Set<number>>();
  for (const r of records) {
    for (const [k, v] of Object.entries(r.tags)) {
      if (!k.startsWith(PORT_TAG_PREFIX) || typeof v !== 'number') continue;
      let ports = out.get(k);
      if (ports === undefined) out.set(k, (ports = new Set()));
      ports.add(v);
    }
  }
  return new Map([...out].map(([k, ports]) => [k, [...ports].sort((a, b) => a - b)]));
}

/** The tag key a named policy port resolves through. */
function portTag(p: PolicyPort): string {
  return `${PORT_TAG_PREFIX}${p.protocol.toLowerCase()}:${String(p.port)}`;
}

function portSpec(p: PolicyPort): string {
  const proto = p.protocol.toLowerCase();
  if (p.port === undefined) return proto;
  if (p.endPort !== undefined && p.endPort !== p.port) return `${proto}/${p.port}-${p.endPort}`;
  return `${proto}/${p.port}`;
}

/** What every policy of one NetworkPolicy shares. */
interface PolicyFrame {
  np: K8sNetworkPolicy;
  /** `NetworkPolicy <namespace>/<name>`, for messages. */
  what: string;
  appliesTo: string;
  base: { appliesTo: string; routes: []; mode: 'enforce' };
  describe: (part: string) => string;
}

/** Ingress rules on named ports, grouped by the (tag, number) their pods must have. */
type NamedPortGroups = Map<string, { tag: string; value: number; rules: Rule[] }>;

function translatePolicy(np: K8sNetworkPolicy, ctx: Context): Policy[] {
  const what = `NetworkPolicy ${np.namespace}/${np.name}`;
  const appliesTo = and(
    ctx.sourceSel,
    tagEquals(NS_TAG_PREFIX + NAMESPACE_NAME_LABEL, np.namespace),
    labelSelector(np.podSelector),
  );
  const frame: PolicyFrame = {
    np,
    what,
    appliesTo,
    base: { appliesTo, routes: [], mode: 'enforce' },
    describe: (part) => `${ownerMark(ctx.source)}${what}: ${part}`,
  };
  const out: Policy[] = [];
  if (np.ingressIsolated || np.egressIsolated) out.push(isolationPolicy(frame, ctx));
  const named: NamedPortGroups = new Map();
  const ingress = ingressRules(frame, ctx, named);
  const egress = egressRules(frame, ctx);
  if (ingress.length > 0 || egress.length > 0) {
    out.push({
      name: vnpName(ctx.source, np.namespace, np.name),
      priority: ALLOW_PRIORITY,
      ...frame.base,
      ingress,
      egress,
      description: frame.describe('allows'),
    });
  }
  out.push(...namedPortPolicies(frame, ctx, named));
  return out;
}

/** `<base>_isolation`: denies every peer in the directions the policy isolates. */
function isolationPolicy(frame: PolicyFrame, ctx: Context): Policy {
  const { np } = frame;
  const deny = (direction: string): Rule[] => [
    { action: 'deny', description: `isolated for ${direction}: deny what no rule allows` },
  ];
  const types = [np.ingressIsolated ? 'Ingress' : '', np.egressIsolated ? 'Egress' : ''];
  return {
    name: vnpName(ctx.source, np.namespace, np.name, '_isolation'),
    priority: ISOLATION_PRIORITY,
    ...frame.base,
    ingress: np.ingressIsolated ? deny('ingress') : [],
    egress: np.egressIsolated ? deny('egress') : [],
    description: frame.describe(`isolation (policyTypes ${types.filter(Boolean).join(', ')})`),
  };
}

/** The allow rule of one named port's value. */
function namedPortAllow(
  direction: 'from' | 'to',
  peer: Peer | undefined,
  port: PolicyPort,
  value: number,
  label: string,
): Rule {
  return allow(
    direction,
    peer,
    [`${port.protocol.toLowerCase()}/${value}`],
    `${label}, port ${String(port.port)}`,
  );
}

/**
 * The ingress allows on numeric ports (or all traffic); those on named ports go into
 * `named`, since they hold only where the destination pod gives the name that number.
 */
function ingressRules(frame: PolicyFrame, ctx: Context, named: NamedPortGroups): Rule[] {
  const { np, what } = frame;
  const ingress: Rule[] = [];
  np.ingress.forEach((rule, index) => {
    for (const { peer, label } of peersOf(rule, np, ctx, `ingress[${index}]`)) {
      const numeric = numericPorts(rule);
      if (numeric !== null) ingress.push(allow('from', peer, numeric, label));
      for (const port of rule.ports.filter((x) => typeof x.port === 'string')) {
        for (const value of valuesOf(port, ctx, what)) {
          const key = `${portTag(port)}=${value}`;
          let group = named.get(key);
          if (group === undefined)
            named.set(key, (group = { tag: portTag(port), value, rules: [] }));
          group.rules.push(namedPortAllow('from', peer, port, value, label));
        }
      }
    }
  });
  return ingress;
}

/** The egress allows; a named port narrows the peer to the pods giving it that number. */
function egressRules(frame: PolicyFrame, ctx: Context): Rule[] {
  const { np, what } = frame;
  const egress: Rule[] = [];
  np.egress.forEach((rule, index) => {
    for (const { peer, label, block } of peersOf(rule, np, ctx, `egress[${index}]`)) {
      const numeric = numericPorts(rule);
      if (numeric !== null) egress.push(allow('to', peer, numeric, label));
      for (const port of rule.ports.filter((x) => typeof x.port === 'string')) {
        for (const value of valuesOf(port, ctx, what)) {
          const to = namedPeer(peer, block, portTag(port), value, ctx);
          if (to !== undefined) egress.push(namedPortAllow('to', to, port, value, label));
        }
      }
    }
  });
  return egress;
}

/** `<base>_port-N`: the ingress allows of one named port where the pod gives it one number. */
function namedPortPolicies(frame: PolicyFrame, ctx: Context, named: NamedPortGroups): Policy[] {
  const { np } = frame;
  return [...named.values()].map((group, index) => ({
    name: vnpName(ctx.source, np.namespace, np.name, `_port-${index + 1}`),
    priority: ALLOW_PRIORITY,
    ...frame.base,
    appliesTo: and(frame.appliesTo, tagEquals(group.tag, group.value)),
    ingress: group.rules,
    egress: [],
    description: frame.describe(
      `ingress allows on named port ${group.tag.slice(PORT_TAG_PREFIX.length)} where it is ${group.value}`,
    ),
  }));
}

/** The rule's numeric port specs; [] → no numeric part; undefined → all traffic; null → named ports only. */
function numericPorts(rule: PolicyRule): string[] | undefined | null {
  if (rule.ports.length === 0) return undefined;
  const specs = rule.ports.filter((p) => typeof p.port !== 'string').map(portSpec);
  return specs.length === 0 ? null : [...new Set(specs)];
}

function allow(
  dir: 'from' | 'to',
  peer: Peer | undefined,
  ports: string[] | undefined,
  description: string,
): Rule {
  return {
    action: 'allow',
    ...(peer ? { [dir]: peer } : {}),
    ...(ports ? { ports } : {}),
    description,
  };
}

function valuesOf(p: PolicyPort, ctx: Context, what: string): number[] {
  const values = ctx.portValues.get(portTag(p)) ?? [];
  if (values.length === 0)
    ctx.warnings.push(
      `${what}: no imported pod has a ${p.protocol} port named "${String(p.port)}"; that port allows nothing`,
    );
  return values;
}

/** The peers of a rule; an empty or absent list is any peer (undefined). */
function peersOf(
  rule: PolicyRule,
  np: K8sNetworkPolicy,
  ctx: Context,
  where: string,
): { peer: Peer | undefined; label: string; block?: IpBlock }[] {
  if (rule.peers.length === 0) return [{ peer: undefined, label: `${where}: any peer` }];
  return rule.peers.map((p, i) => ({ ...translatePeer(p, np, ctx), label: `${where} peer ${i}` }));
}

function translatePeer(
  p: PolicyPeer,
  np: K8sNetworkPolicy,
  ctx: Context,
): { peer: Peer; block?: IpBlock } {
  if (p.ipBlock) {
    const canon = (text: string): string => {
      const x = parsePrefix(text)!;
      return formatCidr(cidrOf(x.ip, x.prefix));
    };
    const except = p.ipBlock.except.map(canon);
    return {
      peer: { cidr: canon(p.ipBlock.cidr), ...(except.length ? { except } : {}) },
      block: p.ipBlock,
    };
  }
  // A podSelector alone means the policy's own namespace; a namespaceSelector says which.
  const nsPart = p.namespaceSelector
    ? labelSelector(p.namespaceSelector, NS_TAG_PREFIX)
    : tagEquals(NS_TAG_PREFIX + NAMESPACE_NAME_LABEL, np.namespace);
  const podPart = p.podSelector ? labelSelector(p.podSelector) : undefined;
  return { peer: { selector: and(ctx.sourceSel, nsPart, podPart) } };
}

/**
 * An egress peer narrowed to the pods whose named port is `value`. Only pods have
 * named ports, so an ipBlock or any-peer narrows to the imported pods inside it.
 */
function namedPeer(
  peer: Peer | undefined,
  block: IpBlock | undefined,
  tag: string,
  value: number,
  ctx: Context,
): Peer | undefined {
  const has = tagEquals(tag, value);
  if (peer?.selector !== undefined) return { selector: and(peer.selector, has) };
  if (block === undefined) return { selector: and(ctx.sourceSel, has) };
  const outer = parseCidr(peer!.cidr!)!;
  const excepts = (peer!.except ?? []).map((e) => parseCidr(e)!);
  const inside = ctx.pods
    .filter(({ record }) => record.tags[tag] === value)
    .filter(({ pod }) =>
      pod.ips.some((a) => cidrContains(outer, a.ip) && !excepts.some((e) => cidrContains(e, a.ip))),
    )
    .map(({ pod }) => `${pod.namespace}/${pod.name}`);
  if (inside.length === 0) return undefined;
  const names = inside.map(quoteString).join(', ');
  return { selector: and(ctx.sourceSel, has, `${printPath([POD_TAG])} in {${names}}`) };
}
