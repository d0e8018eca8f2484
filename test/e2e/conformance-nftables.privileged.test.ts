/**
 * The datapath conformance suite (support/datapath-conformance.ts) on nftables hosts
 * only. Its twin, conformance-ovs.privileged.test.ts, runs the same scenarios with
 * Open vSwitch hosts.
 */
import { datapathConformance } from './support/datapath-conformance.js';

datapathConformance('nftables');
