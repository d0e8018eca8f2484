/**
 * The resources the engine holds, by kind and name, plus the indexes that cross-resource
 * validation needs (address owners, records by subnet and by instance).
 *
 * `validate(changes)` checks a whole batch against the state it would produce (an
 * overlay over the current maps) and throws the first problem as a VnpError naming the
 * document and field; it never changes anything. Shapes are assumed valid
 * (src/model/validate.ts runs first).
 */
import { VnpError } from '../../model/errors.js';
import { cidrContains, cidrLast, parseCidr, parseIp } from '../../model/net.js';
import { NameIndex } from './name-index.js';
import { checkSubnetOverlaps } from './subnet-overlap.js';
import { addressesOf } from './parsed-addresses.js';
import {
  KINDS,
  type Document,
  type Interface,
  type Kind,
  type HeldDocument,
  type Meta,
  type Policy,
  type Subnet,
} from '../../model/types.js';
import type { Change } from '../types.js';

export type { HeldDocument };

export class DocumentIndex {
  readonly docs: Record<Kind, Map<string, HeldDocument>>;
  /** ipKey → record name. Addresses are unique across all records (see docs/adr). */
  readonly addrOwner: Map<string, string>;
  readonly bySubnet: NameIndex;
  readonly byInstance: NameIndex;

  /** Empty, or an independent copy of `from` (documents are never changed in place: shared). */
  constructor(from?: DocumentIndex) {
    this.docs = Object.fromEntries(
      KINDS.map((k) => [k, new Map(from?.docs[k])]),
    ) as unknown as Record<Kind, Map<string, HeldDocument>>;
    this.addrOwner = new Map(from?.addrOwner);
    this.bySubnet = from ? from.bySubnet.clone() : new NameIndex();
    this.byInstance = from ? from.byInstance.clone() : new NameIndex();
  }

  get<K extends Kind>(
    kind: K,
    name: string,
  ): (Extract<Document, { kind: K }> & Partial<Meta>) | undefined {
    return this.docs[kind].get(name) as
      (Extract<Document, { kind: K }> & Partial<Meta>) | undefined;
  }

  /** Puts a document, keeping indexes; returns the previous one. */
  put(doc: HeldDocument): HeldDocument | undefined {
    const prev = this.docs[doc.kind].get(doc.name);
    if (prev?.kind === 'Interface') this.unindex(prev);
    this.docs[doc.kind].set(doc.name, doc);
    if (doc.kind === 'Interface') this.index(doc);
    return prev;
  }

  remove(kind: Kind, name: string): HeldDocument | undefined {
    const prev = this.docs[kind].get(name);
    if (!prev) return undefined;
    if (prev.kind === 'Interface') this.unindex(prev);
    this.docs[kind].delete(name);
    return prev;
  }

  /** Throws the first cross-resource problem of the batch; changes nothing. */
  validate(changes: readonly Change[]): void {
    const overlay = emptyOverlay();
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      const kind = c.op === 'put' ? c.doc.kind : c.kind;
      const name = c.op === 'put' ? c.doc.name : c.name;
      const o = overlay[kind];
      const size = o.size;
      o.set(name, c.op === 'put' ? c.doc : null);
      // One lookup, not has-then-set: a repeated name leaves the size unchanged.
      if (o.size === size)
        throw new VnpError(
          'VNP_ERR_VALIDATION',
          `documents[${i}]: ${kind} "${name}" appears more than once in the batch`,
          { field: `documents[${i}]`, kind, name },
        );
    }
    const view = <K extends Kind>(kind: K, name: string) => {
      const o = overlay[kind];
      // One lookup in the common case (a document of the batch); null marks a delete.
      const d = o.get(name);
      if (d !== undefined || o.has(name))
        return (d ?? undefined) as (Extract<Document, { kind: K }> & Partial<Meta>) | undefined;
      return this.get(kind, name);
    };
    // Address → the batch's first interface claiming it, filled as the puts are checked
    // (in batch order, so a later claimant finds the earlier one).
    const overlayAddr = new Map<string, string>();
    for (const c of changes) {
      if (c.op === 'delete') this.checkDelete(c.kind, c.name, view, overlay);
      else this.checkPut(c.doc, view, overlay, overlayAddr);
    }
    if ([...overlay.Subnet.values()].some((d) => d !== null)) {
      const kept = [...this.docs.Subnet.values()].filter((d) => !overlay.Subnet.has(d.name));
      const put = [...overlay.Subnet.values()].filter((d) => d !== null) as unknown as Subnet[];
      checkSubnetOverlaps(
        [...(kept as unknown as Subnet[]), ...put],
        new Set(put.map((d) => d.name)),
      );
    }
  }

  private checkPut(
    doc: Document,
    view: ViewFn,
    overlay: Overlay,
    overlayAddr: Map<string, string>,
  ): void {
    const where = `${doc.kind} "${doc.name}"`;
    switch (doc.kind) {
      case 'Interface':
        return this.checkInterface(doc, view, overlayAddr);
      case 'Policy':
        return checkPolicyRefs(doc, view);
      case 'Subnet':
        return this.checkSubnetKeepsRecords(doc, view, overlay);
      case 'Settings':
        if (doc.name !== 'default')
          throw new VnpError(
            'VNP_ERR_VALIDATION',
            `${where}: name: expected "default" (there is one Settings resource)`,
            { field: 'name', expected: 'default' },
          );
        return;
      default:
        return;
    }
  }

  private checkInterface(doc: Interface, view: ViewFn, overlayAddr: Map<string, string>): void {
    // Messages are built only when thrown (no per-record strings or closures): this
    // runs once per record of a load.
    const subnet = view('Subnet', doc.subnet);
    if (!subnet)
      throw new VnpError(
        'VNP_ERR_REFERENCE',
        `${interfaceWhere(doc)}: subnet: no Subnet named "${doc.subnet}"`,
        { field: 'subnet', kind: 'Subnet', name: doc.subnet },
      );
    if (doc.instance !== undefined && !view('Instance', doc.instance)) {
      throw new VnpError(
        'VNP_ERR_REFERENCE',
        `${interfaceWhere(doc)}: instance: no Instance named "${doc.instance}"`,
        { field: 'instance', kind: 'Instance', name: doc.instance },
      );
    }
    const range = subnetRange(subnet.cidr);
    const addrs = addressesOf(doc);
    // Most interfaces have one address: no set to tell duplicates apart then.
    const seen = addrs.length > 1 ? new Set<string>() : undefined;
    for (let i = 0; i < addrs.length; i++) {
      const { text, ip, key } = addrs[i]!;
      if (!ip || !range || ip.family !== range.family || ip.value < range.lo || ip.value > range.hi)
        throw new VnpError(
          'VNP_ERR_ADDRESS',
          `${interfaceWhere(doc)}: ${ipsField(i)}: ${text} is not inside subnet "${subnet.name}" (${subnet.cidr})`,
          { field: ipsField(i), expected: `an address in ${subnet.cidr}` },
        );
      const k = key!;
      if (seen?.has(k))
        throw new VnpError(
          'VNP_ERR_ADDRESS',
          `${interfaceWhere(doc)}: ${ipsField(i)}: ${text} is listed twice`,
          {
            field: ipsField(i),
          },
        );
      seen?.add(k);
      const owner = this.addrOwner.get(k);
      if (owner !== undefined && owner !== doc.name) {
        const ownerNow = view('Interface', owner);
        if (ownerNow && addressesOf(ownerNow).some((a) => a.key === k)) {
          throw new VnpError(
            'VNP_ERR_ADDRESS',
            `${interfaceWhere(doc)}: ${ipsField(i)}: ${text} is already used by interface "${owner}"`,
            { field: ipsField(i), owner },
          );
        }
      }
      const other = overlayAddr.get(k);
      if (other !== undefined && other !== doc.name) {
        throw new VnpError(
          'VNP_ERR_ADDRESS',
          `${interfaceWhere(doc)}: ${ipsField(i)}: ${text} is also given to interface "${other}" in this batch`,
          { field: ipsField(i), owner: other },
        );
      }
      overlayAddr.set(k, doc.name);
    }
  }

  private checkSubnetKeepsRecords(doc: Subnet, view: ViewFn, overlay: Overlay): void {
    const cidr = parseCidr(doc.cidr);
    for (const name of this.bySubnet.get(doc.name) ?? []) {
      if (overlay.Interface.has(name)) continue; // checked as its own put, or deleted
      const iface = this.get('Interface', name)!;
      const outside = iface.ips.find((address) => {
        const ip = parseIp(address);
        return !ip || !cidr || !cidrContains(cidr, ip);
      });
      if (outside) {
        throw new VnpError(
          'VNP_ERR_CONFLICT',
          `Subnet "${doc.name}": cidr: ${doc.cidr} would leave address ${outside} of interface "${name}" outside the subnet`,
          { field: 'cidr', referrers: [name] },
        );
      }
    }
    void view;
  }

  private checkDelete(kind: Kind, name: string, view: ViewFn, overlay: Overlay): void {
    if (kind === 'Settings')
      throw new VnpError(
        'VNP_ERR_CONFLICT',
        'Settings "default" cannot be deleted; replace it with the defaults instead',
        { kind, name },
      );
    if (!this.get(kind, name) && !overlay[kind].get(name))
      throw new VnpError('VNP_ERR_NOT_FOUND', `${kind} "${name}" does not exist`, { kind, name });
    const stillReferenced = (referrers: string[], what: string) => {
      if (referrers.length)
        throw new VnpError(
          'VNP_ERR_CONFLICT',
          `${kind} "${name}" is still used by ${what} ${referrers.map((r) => `"${r}"`).join(', ')}`,
          { kind, name, referrers },
        );
    };
    const liveInterfaces = (names: Iterable<string>) =>
      [...names].filter((n) => view('Interface', n) !== undefined);
    if (kind === 'Subnet') {
      const users = liveInterfaces(this.bySubnet.get(name) ?? []).filter(
        (n) => view('Interface', n)!.subnet === name,
      );
      users.push(
        ...overlayInterfaces(overlay)
          .filter((i) => i.subnet === name && !users.includes(i.name))
          .map((i) => i.name),
      );
      stillReferenced(users.sort(), 'interfaces');
    } else if (kind === 'Instance') {
      const users = liveInterfaces(this.byInstance.get(name) ?? []).filter(
        (n) => view('Interface', n)!.instance === name,
      );
      users.push(
        ...overlayInterfaces(overlay)
          .filter((i) => i.instance === name && !users.includes(i.name))
          .map((i) => i.name),
      );
      stillReferenced(users.sort(), 'attached interfaces');
    } else if (kind === 'Partition' || kind === 'Interface') {
      const users: string[] = [];
      const policies = new Map(this.docs.Policy);
      for (const [n, d] of overlay.Policy) {
        if (d) policies.set(n, d);
        else policies.delete(n);
      }
      for (const p of policies.values())
        if (
          kind === 'Partition'
            ? policyNamesPartition(p as Policy, name)
            : (p as Policy).routes?.some((r) => r.via === name)
        )
          users.push(p.name);
      stillReferenced(users.sort(), 'policies');
    }
  }

  private index(doc: Interface): void {
    for (const { key } of addressesOf(doc))
      if (key !== undefined) this.addrOwner.set(key, doc.name);
    this.bySubnet.add(doc.subnet, doc.name);
    if (doc.instance !== undefined) this.byInstance.add(doc.instance, doc.name);
  }

  private unindex(doc: Interface): void {
    for (const { key } of addressesOf(doc)) {
      if (key !== undefined && this.addrOwner.get(key) === doc.name) this.addrOwner.delete(key);
    }
    this.bySubnet.delete(doc.subnet, doc.name);
    if (doc.instance !== undefined) this.byInstance.delete(doc.instance, doc.name);
  }
}

const interfaceWhere = (doc: Interface): string => `Interface "${doc.name}"`;
const ipsField = (i: number): string => `ips[${i}]`;

/** A subnet's addresses as an inclusive range (what `cidrContains` tests). */
interface SubnetRange {
  family: 4 | 6;
  lo: bigint;
  hi: bigint;
}

const rangeMemo = new Map<string, SubnetRange | undefined>();
/**
 * Subnet prefixes are few and re-read for every record: parse each once, and keep its
 * last address too (computing it allocates BigInts on every call).
 */
function subnetRange(text: string): SubnetRange | undefined {
  let r = rangeMemo.get(text);
  if (r === undefined && !rangeMemo.has(text)) {
    if (rangeMemo.size > 10_000) rangeMemo.clear();
    const c = parseCidr(text);
    r = c && { family: c.family, lo: c.base, hi: cidrLast(c) };
    rangeMemo.set(text, r);
  }
  return r;
}

/** The batch's documents by kind and name (null = deleted). */
type Overlay = Record<Kind, Map<string, HeldDocument | null>>;

function emptyOverlay(): Overlay {
  return Object.fromEntries(KINDS.map((k) => [k, new Map()])) as unknown as Overlay;
}

type ViewFn = <K extends Kind>(
  kind: K,
  name: string,
) => (Extract<Document, { kind: K }> & Partial<Meta>) | undefined;

function checkPolicyRefs(doc: Policy, view: ViewFn): void {
  const where = `Policy "${doc.name}"`;
  const check = (dir: 'ingress' | 'egress', key: 'from' | 'to') =>
    (doc[dir] ?? []).forEach((r, i) => {
      const p = r[key]?.partition;
      if (p !== undefined && !view('Partition', p)) {
        throw new VnpError(
          'VNP_ERR_REFERENCE',
          `${where}: ${dir}[${i}].${key}.partition: no Partition named "${p}"`,
          { field: `${dir}[${i}].${key}.partition`, kind: 'Partition', name: p },
        );
      }
    });
  check('ingress', 'from');
  check('egress', 'to');
  (doc.routes ?? []).forEach((r, i) => {
    if (!view('Interface', r.via))
      throw new VnpError(
        'VNP_ERR_REFERENCE',
        `${where}: routes[${i}].via: no Interface named "${r.via}"`,
        { field: `routes[${i}].via`, kind: 'Interface', name: r.via },
      );
    const p = r.to?.partition;
    if (p !== undefined && !view('Partition', p))
      throw new VnpError(
        'VNP_ERR_REFERENCE',
        `${where}: routes[${i}].to.partition: no Partition named "${p}"`,
        { field: `routes[${i}].to.partition`, kind: 'Partition', name: p },
      );
  });
}

function policyNamesPartition(p: Policy, name: string): boolean {
  return (
    (p.ingress ?? []).some((r) => r.from?.partition === name) ||
    (p.egress ?? []).some((r) => r.to?.partition === name) ||
    (p.routes ?? []).some((r) => r.to?.partition === name)
  );
}

function overlayInterfaces(overlay: Overlay): Interface[] {
  const out: Interface[] = [];
  for (const d of overlay.Interface.values()) if (d?.kind === 'Interface') out.push(d);
  return out;
}
