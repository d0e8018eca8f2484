/**
 * The upstream NetworkPolicy e2e model (kubernetes test/e2e/network/netpol): three
 * namespaces x, y, z, each with pods a, b, c labelled `pod=<name>`, each serving
 * TCP, UDP and SCTP on ports 80 and 81 through container ports named
 * `serve-<port>-<proto>`. Here as Kubernetes objects, as `kubectl get -o yaml` has them.
 */
export const NAMESPACES = ['x', 'y', 'z'] as const;
export const PODS = ['a', 'b', 'c'] as const;
export const POD_CIDR = '10.244.0.0/16';
export type Obj = Record<string, unknown>;

/** 10.244.<1..3>.<10..12>: one address per pod, inside POD_CIDR. */
export function podIp(ns: string, pod: string): string {
  return `10.244.${NAMESPACES.indexOf(ns as never) + 1}.${PODS.indexOf(pod as never) + 10}`;
}

/** Every `ns/pod` of the model, x/a first. */
export const ALL_PODS: string[] = NAMESPACES.flatMap((ns) => PODS.map((p) => `${ns}/${p}`));

export interface ClusterOptions {
  /** Extra labels per namespace (`{y: {ns2: 'updated'}}`). */
  nsLabels?: Record<string, Record<string, string>>;
  /** Extra labels per pod (`{'x/b': {pod2: 'updated'}}`). */
  podLabels?: Record<string, Record<string, string>>;
}

/**
 * The model's Namespace and Pod objects.
 *
 * @example clusterObjects({ nsLabels: { y: { ns2: 'updated' } } }).length // 12
 */
export function clusterObjects(opts: ClusterOptions = {}): Obj[] {
  const out: Obj[] = [];
  for (const ns of NAMESPACES) {
    out.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { ...(opts.nsLabels?.[ns] ?? {}) } },
    });
  }
  for (const ns of NAMESPACES) {
    for (const pod of PODS) out.push(podObject(ns, pod, opts.podLabels?.[`${ns}/${pod}`]));
  }
  return out;
}

function podObject(ns: string, pod: string, extra: Record<string, string> = {}): Obj {
  const containers = [80, 81].flatMap((port) =>
    ['TCP', 'UDP', 'SCTP'].map((proto) => ({
      name: `cont-${port}-${proto.toLowerCase()}`,
      image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
      ports: [
        { containerPort: port, name: `serve-${port}-${proto.toLowerCase()}`, protocol: proto },
      ],
    })),
  );
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod, namespace: ns, labels: { pod, ...extra } },
    spec: { containers },
    status: { phase: 'Running', podIP: podIp(ns, pod), podIPs: [{ ip: podIp(ns, pod) }] },
  };
}

/**
 * A networking.k8s.io/v1 NetworkPolicy object.
 *
 * @example networkPolicy('x', 'deny-all', { podSelector: {}, ingress: [] })
 */
export function networkPolicy(ns: string, name: string, spec: Obj): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns },
    spec,
  };
}
