/**
 * The Kubernetes objects vnp reads (src/k8s/objects.ts reads them): the fields of
 * v1 Namespace, v1 Pod and networking.k8s.io/v1 NetworkPolicy that NetworkPolicy
 * semantics use, and nothing else.
 */
import type { Ip } from '../model/net.js';
import type { TestDocument } from '../model/types.js';

export type LabelMap = Record<string, string>;

export interface LabelRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

/** A metav1.LabelSelector; `{}` selects everything. */
export interface LabelSelector {
  matchLabels: LabelMap;
  matchExpressions: LabelRequirement[];
  /** Where it was read (`objects[2].spec.podSelector`), for errors. */
  field: string;
}

export interface K8sNamespace {
  name: string;
  labels: LabelMap;
  field: string;
}

export type K8sProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol: K8sProtocol;
}

export interface K8sPod {
  namespace: string;
  name: string;
  labels: LabelMap;
  ips: { text: string; ip: Ip }[];
  ports: ContainerPort[];
  hostNetwork: boolean;
  field: string;
}

export interface PolicyPort {
  protocol: K8sProtocol;
  /** Absent: every port of the protocol. */
  port?: number | string;
  endPort?: number;
}

export interface IpBlock {
  cidr: string;
  except: string[];
}

export interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IpBlock;
}

export interface PolicyRule {
  /** Absent or empty: every peer. */
  peers: PolicyPeer[];
  /** Absent or empty: every port and protocol. */
  ports: PolicyPort[];
}

export interface K8sNetworkPolicy {
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  ingressIsolated: boolean;
  egressIsolated: boolean;
  ingress: PolicyRule[];
  egress: PolicyRule[];
  field: string;
}

export interface K8sObjects {
  namespaces: K8sNamespace[];
  pods: K8sPod[];
  policies: K8sNetworkPolicy[];
  tests: TestDocument[];
}
