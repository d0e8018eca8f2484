/**
 * Reading Kubernetes objects as `kubectl get -o yaml|json` prints them: v1
 * Namespace, v1 Pod and networking.k8s.io/v1 NetworkPolicy (and `kind: List`
 * holding them). Only the fields NetworkPolicy semantics read are kept; every
 * malformed one is a VNP_ERR_VALIDATION naming `objects[i].<path>` and the object.
 */
import { VnpError } from '../model/errors.js';
import { parseIp, parsePrefix } from '../model/net.js';
import { validateTestDocument } from '../validate/validate.js';

import type {
  ContainerPort,
  IpBlock,
  K8sNamespace,
  K8sNetworkPolicy,
  K8sObjects,
  K8sPod,
  K8sProtocol,
  LabelMap,
  LabelRequirement,
  LabelSelector,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
} from './object-types.js';

export type * from './object-types.js';

/** DNS-1123 label (namespace names); subdomain (pod and policy names). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)$/;
const PORT_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?=[a-z0-9]))*$/;
const PROTOCOLS: readonly K8sProtocol[] = ['TCP', 'UDP', 'SCTP'];

/** The automatic namespace label (Kubernetes ≥ 1.21 sets it on every namespace). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Names the object in errors: `objects[3] (NetworkPolicy x/deny-all)`. */
class Reader {
  constructor(
    readonly base: string,
    readonly what: string,
  ) {}

  fail(path: string, expected: string, got?: unknown): never {
    const field = path === '' ? this.base : `${this.base}.${path}`;
    const shown = got === undefined ? '' : `, got ${show(got)}`;
    throw new VnpError('VNP_ERR_VALIDATION', `${field}${this.what}: expected ${expected}${shown}`, {
      field,
      expected,
    });
  }

  obj(v: unknown, path: string, optional = false): Obj | undefined {
    if (v === undefined || v === null) {
      if (optional) return undefined;
      this.fail(path, 'a mapping');
    }
    if (!isObj(v)) this.fail(path, 'a mapping', v);
    return v;
  }

  list(v: unknown, path: string): unknown[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(path, 'a list', v);
    return v;
  }

  str(v: unknown, path: string, re: RegExp, expected: string): string {
    if (typeof v !== 'string' || !re.test(v)) this.fail(path, expected, v);
    return v;
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v);
  if (Array.isArray(v)) return 'a list';
  if (isObj(v)) return 'a mapping';
  return String(v);
}

/**
 * Flatten `kind: List` (and `{items}` without a kind) into its items, keeping
 * each item's position for errors (`objects[0].items[2]`).
 */
export function flattenObjects(raw: readonly unknown[]): { value: unknown; field: string }[] {
  const out: { value: unknown; field: string }[] = [];
  const walk = (v: unknown, field: string): void => {
    if (isObj(v) && (v.kind === 'List' || v.kind === undefined) && Array.isArray(v.items)) {
      v.items.forEach((item, i) => walk(item, `${field}.items[${i}]`));
    } else out.push({ value: v, field });
  };
  raw.forEach((v, i) => walk(v, `objects[${i}]`));
  return out;
}

/**
 * Read every object; unknown kinds and apiVersions are refused by name.
 *
 * @example
 *   readObjects([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }])
 *   // → { namespaces: [{ name: 'x', labels: { 'kubernetes.io/metadata.name': 'x' } }], pods: [], policies: [], tests: [] }
 */
export function readObjects(raw: readonly unknown[]): K8sObjects {
  const out: K8sObjects = { namespaces: [], pods: [], policies: [], tests: [] };
  for (const { value, field } of flattenObjects(raw)) {
    const r: Reader = new Reader(field, '');
    const o = r.obj(value, '')!;
    if (o.kind === 'Test' && o.apiVersion === undefined) {
      if (out.tests.some((testDocument) => testDocument.name === o.name))
        r.fail('name', 'a Test name used once', o.name);
      out.tests.push(validateTestDocument(o, field));
      continue;
    }
    const key = `${String(o.apiVersion)}/${String(o.kind)}`;
    if (key === 'v1/Namespace') out.namespaces.push(readNamespace(o, field));
    else if (key === 'v1/Pod') out.pods.push(readPod(o, field));
    else if (key === 'networking.k8s.io/v1/NetworkPolicy') out.policies.push(readPolicy(o, field));
    else if (['Namespace', 'Pod', 'NetworkPolicy'].includes(String(o.kind))) {
      const want = o.kind === 'NetworkPolicy' ? 'networking.k8s.io/v1' : 'v1';
      r.fail('apiVersion', `"${want}" for kind ${String(o.kind)}`, o.apiVersion ?? 'nothing');
    } else {
      r.fail(
        'kind',
        'Namespace, Pod or NetworkPolicy (v1, networking.k8s.io/v1), List, or a vnp Test',
        o.kind ?? 'nothing',
      );
    }
  }
  checkDuplicates(out);
  return out;
}

function metadata(
  o: Obj,
  r: Reader,
  namespaced: boolean,
): { name: string; namespace: string; labels: LabelMap } {
  const m = r.obj(o.metadata, 'metadata')!;
  const name = r.str(
    m.name,
    'metadata.name',
    namespaced ? DNS_SUBDOMAIN : DNS_LABEL,
    namespaced ? 'a DNS subdomain name' : 'a DNS label name',
  );
  let namespace = '';
  if (namespaced) {
    namespace =
      m.namespace === undefined
        ? 'default'
        : r.str(m.namespace, 'metadata.namespace', DNS_LABEL, 'a namespace name');
  }
  return { name, namespace, labels: readLabels(m.labels, r, 'metadata.labels') };
}

function readLabels(v: unknown, r: Reader, path: string): LabelMap {
  const m = r.obj(v, path, true);
  const out: LabelMap = {};
  if (m === undefined) return out;
  for (const [k, val] of Object.entries(m)) {
    checkLabelKey(k, r, `${path}["${k}"]`);
    out[k] = r.str(
      val,
      `${path}["${k}"]`,
      LABEL_VALUE,
      'a label value (63 characters: A-Z a-z 0-9 - _ ., alphanumeric at both ends)',
    );
  }
  return out;
}

/** A label key: `[prefix/]name`, prefix a DNS subdomain, name a label name. */
function checkLabelKey(k: string, r: Reader, path: string): void {
  const slash = k.indexOf('/');
  const prefix = slash < 0 ? undefined : k.slice(0, slash);
  const name = slash < 0 ? k : k.slice(slash + 1);
  if ((prefix !== undefined && !DNS_SUBDOMAIN.test(prefix)) || !LABEL_NAME.test(name)) {
    r.fail(path, 'a label key ([DNS-subdomain/]name, name ≤ 63 of A-Z a-z 0-9 - _ .)', k);
  }
}

function readNamespace(o: Obj, field: string): K8sNamespace {
  const r: Reader = new Reader(field, '');
  const m = metadata(o, r, false);
  // Kubernetes sets this label on every namespace and keeps it equal to the name.
  return { name: m.name, labels: { ...m.labels, [NAMESPACE_NAME_LABEL]: m.name }, field };
}

function readPod(o: Obj, field: string): K8sPod {
  const m = metadata(o, new Reader(field, ''), true);
  const r: Reader = new Reader(field, ` (Pod ${m.namespace}/${m.name})`);
  const spec = r.obj(o.spec, 'spec', true) ?? {};
  const status = r.obj(o.status, 'status', true) ?? {};
  const texts: { text: string; path: string }[] = [];
  if (status.podIP !== undefined)
    texts.push({ text: status.podIP as string, path: 'status.podIP' });
  (r.list(status.podIPs, 'status.podIPs') ?? []).forEach((p, i) => {
    const e = r.obj(p, `status.podIPs[${i}]`)!;
    texts.push({ text: e.ip as string, path: `status.podIPs[${i}].ip` });
  });
  const ips: K8sPod['ips'] = [];
  for (const t of texts) {
    const ip = typeof t.text === 'string' ? parseIp(t.text) : undefined;
    if (ip === undefined) r.fail(t.path, 'an IPv4 or IPv6 address', t.text);
    if (!ips.some((x) => x.ip.family === ip.family && x.ip.value === ip.value))
      ips.push({ text: t.text, ip });
  }
  const hostNetwork = spec.hostNetwork === true;
  if (ips.length === 0 && !hostNetwork) {
    r.fail(
      'status.podIP',
      "the pod's address (a Pod without an IP cannot be matched; import it once it runs)",
    );
  }
  return {
    namespace: m.namespace,
    name: m.name,
    labels: m.labels,
    ips,
    ports: readContainerPorts(spec, r),
    hostNetwork,
    field,
  };
}

function readContainerPorts(spec: Obj, r: Reader): ContainerPort[] {
  const out: ContainerPort[] = [];
  for (const key of ['initContainers', 'containers'] as const) {
    (r.list(spec[key], `spec.${key}`) ?? []).forEach((c, ci) => {
      const co = r.obj(c, `spec.${key}[${ci}]`)!;
      (r.list(co.ports, `spec.${key}[${ci}].ports`) ?? []).forEach((p, pi) => {
        const path = `spec.${key}[${ci}].ports[${pi}]`;
        const po = r.obj(p, path)!;
        const containerPort = portNumber(po.containerPort, r, `${path}.containerPort`);
        const protocol = protocolOf(po.protocol, r, `${path}.protocol`);
        const name =
          po.name === undefined
            ? undefined
            : r.str(
                po.name,
                `${path}.name`,
                PORT_NAME,
                'a port name (IANA_SVC_NAME: 1-15 of a-z 0-9 -, a letter)',
              );
        out.push({ ...(name ? { name } : {}), containerPort, protocol });
      });
    });
  }
  return out;
}

function portNumber(v: unknown, r: Reader, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535)
    r.fail(path, 'a port number 1..65535', v);
  return v;
}

function protocolOf(v: unknown, r: Reader, path: string): K8sProtocol {
  if (v === undefined || v === null) return 'TCP';
  if (typeof v !== 'string' || !PROTOCOLS.includes(v as K8sProtocol))
    r.fail(path, 'TCP, UDP or SCTP', v);
  return v as K8sProtocol;
}

function readPolicy(o: Obj, field: string): K8sNetworkPolicy {
  const m = metadata(o, new Reader(field, ''), true);
  const r: Reader = new Reader(field, ` (NetworkPolicy ${m.namespace}/${m.name})`);
  const spec = r.obj(o.spec, 'spec')!;
  const podSelector = readSelector(spec.podSelector ?? {}, r, 'spec.podSelector');
  const ingressRaw = r.list(spec.ingress, 'spec.ingress');
  const egressRaw = r.list(spec.egress, 'spec.egress');
  const types = r.list(spec.policyTypes, 'spec.policyTypes');
  let ingressIsolated = true;
  // Upstream default: Ingress always, Egress when the policy has egress rules.
  let egressIsolated = egressRaw !== undefined && egressRaw.length > 0;
  if (types !== undefined && types.length > 0) {
    types.forEach((type, i) => {
      if (type !== 'Ingress' && type !== 'Egress')
        r.fail(`spec.policyTypes[${i}]`, 'Ingress or Egress', type);
    });
    ingressIsolated = types.includes('Ingress');
    egressIsolated = types.includes('Egress');
  }
  const rules = (raw: unknown[] | undefined, dir: 'ingress' | 'egress'): PolicyRule[] =>
    (raw ?? []).map((x, i) =>
      readRule(x, r, `spec.${dir}[${i}]`, dir === 'ingress' ? 'from' : 'to'),
    );
  const ingress = rules(ingressRaw, 'ingress');
  const egress = rules(egressRaw, 'egress');
  return {
    namespace: m.namespace,
    name: m.name,
    podSelector,
    ingressIsolated,
    egressIsolated,
    // Rules of a direction the policy does not isolate have no effect upstream.
    ingress: ingressIsolated ? ingress : [],
    egress: egressIsolated ? egress : [],
    field,
  };
}

function readRule(v: unknown, r: Reader, path: string, peerKey: 'from' | 'to'): PolicyRule {
  const o = r.obj(v ?? {}, path)!;
  const peers = (r.list(o[peerKey], `${path}.${peerKey}`) ?? []).map((p, i) =>
    readPeer(p, r, `${path}.${peerKey}[${i}]`),
  );
  const ports = (r.list(o.ports, `${path}.ports`) ?? []).map((p, i) =>
    readPort(p, r, `${path}.ports[${i}]`),
  );
  return { peers, ports };
}

function readPeer(v: unknown, r: Reader, path: string): PolicyPeer {
  const o = r.obj(v, path)!;
  const peer: PolicyPeer = {};
  if (o.podSelector !== undefined && o.podSelector !== null)
    peer.podSelector = readSelector(o.podSelector, r, `${path}.podSelector`);
  if (o.namespaceSelector !== undefined && o.namespaceSelector !== null)
    peer.namespaceSelector = readSelector(o.namespaceSelector, r, `${path}.namespaceSelector`);
  if (o.ipBlock !== undefined && o.ipBlock !== null) {
    if (peer.podSelector || peer.namespaceSelector)
      r.fail(`${path}.ipBlock`, 'ipBlock alone (not with podSelector or namespaceSelector)');
    peer.ipBlock = readIpBlock(o.ipBlock, r, `${path}.ipBlock`);
  }
  if (!peer.podSelector && !peer.namespaceSelector && !peer.ipBlock)
    r.fail(path, 'one of podSelector, namespaceSelector, ipBlock');
  return peer;
}

function readIpBlock(v: unknown, r: Reader, path: string): IpBlock {
  const o = r.obj(v, path)!;
  const cidr = prefixText(o.cidr, r, `${path}.cidr`);
  const outer = parsePrefix(cidr)!;
  const except = (r.list(o.except, `${path}.except`) ?? []).map((e, i) => {
    const text = prefixText(e, r, `${path}.except[${i}]`);
    const inner = parsePrefix(text)!;
    const inside =
      inner.ip.family === outer.ip.family &&
      inner.prefix > outer.prefix &&
      inner.ip.value >> BigInt((inner.ip.family === 4 ? 32 : 128) - outer.prefix) ===
        outer.ip.value >> BigInt((outer.ip.family === 4 ? 32 : 128) - outer.prefix);
    if (!inside) r.fail(`${path}.except[${i}]`, `a CIDR strictly inside ${cidr}`, text);
    return text;
  });
  return { cidr, except };
}

function prefixText(v: unknown, r: Reader, path: string): string {
  if (typeof v !== 'string' || !v.includes('/') || parsePrefix(v) === undefined)
    r.fail(path, 'a CIDR such as 10.0.0.0/16 or fd00::/64', v);
  return v;
}

function readPort(v: unknown, r: Reader, path: string): PolicyPort {
  const o = r.obj(v, path)!;
  const protocol = protocolOf(o.protocol, r, `${path}.protocol`);
  const out: PolicyPort = { protocol };
  if (o.port !== undefined && o.port !== null) {
    if (typeof o.port === 'string' && !/^[0-9]+$/.test(o.port)) {
      out.port = r.str(
        o.port,
        `${path}.port`,
        PORT_NAME,
        'a port number 1..65535 or a port name (IANA_SVC_NAME)',
      );
    } else
      out.port = portNumber(
        typeof o.port === 'string' ? Number(o.port) : o.port,
        r,
        `${path}.port`,
      );
  }
  if (o.endPort !== undefined && o.endPort !== null) {
    if (out.port === undefined)
      r.fail(`${path}.endPort`, 'endPort only together with a numeric port');
    if (typeof out.port === 'string')
      r.fail(
        `${path}.endPort`,
        `no endPort with the named port "${out.port}" (a range needs numbers)`,
        o.endPort,
      );
    const end = portNumber(o.endPort, r, `${path}.endPort`);
    if (end < out.port) r.fail(`${path}.endPort`, `endPort ≥ port ${out.port}`, end);
    out.endPort = end;
  }
  return out;
}

function readSelector(v: unknown, r: Reader, path: string): LabelSelector {
  const o = r.obj(v, path)!;
  const matchLabels = readLabels(o.matchLabels, r, `${path}.matchLabels`);
  const matchExpressions = (r.list(o.matchExpressions, `${path}.matchExpressions`) ?? []).map(
    (e, i) => {
      const p = `${path}.matchExpressions[${i}]`;
      const eo = r.obj(e, p)!;
      if (typeof eo.key !== 'string') r.fail(`${p}.key`, 'a label key', eo.key);
      checkLabelKey(eo.key, r, `${p}.key`);
      const op = eo.operator;
      if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist')
        r.fail(`${p}.operator`, 'In, NotIn, Exists or DoesNotExist', op);
      const values = (r.list(eo.values, `${p}.values`) ?? []).map((x, j) =>
        r.str(x, `${p}.values[${j}]`, LABEL_VALUE, 'a label value'),
      );
      if ((op === 'In' || op === 'NotIn') && values.length === 0)
        r.fail(`${p}.values`, `at least one value for ${op}`);
      if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0)
        r.fail(`${p}.values`, `no values for ${op}`, values);
      return { key: eo.key, operator: op as LabelRequirement['operator'], values };
    },
  );
  return { matchLabels, matchExpressions, field: `${r.base}.${path}` };
}

function checkDuplicates(o: K8sObjects): void {
  const seen = new Set<string>();
  const once = (key: string, field: string): void => {
    if (seen.has(key))
      throw new VnpError('VNP_ERR_VALIDATION', `${field}.metadata.name: ${key} appears twice`, {
        field: `${field}.metadata.name`,
      });
    seen.add(key);
  };
  o.namespaces.forEach((n) => once(`Namespace ${n.name}`, n.field));
  o.pods.forEach((p) => once(`Pod ${p.namespace}/${p.name}`, p.field));
  o.policies.forEach((p) => once(`NetworkPolicy ${p.namespace}/${p.name}`, p.field));
}
