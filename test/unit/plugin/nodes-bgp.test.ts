// `kubectl ironlb nodes` in BGP mode: each node's status Lease
// (ironlb-bgp-<node>, written by src/kube/bgp-status.ts) becomes a column
// and, for what is wrong, a line under the table.
import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { BGP_STATUS_ANNOTATION, bgpStatusLeaseName, type BgpNodeStatus } from '../../../src/bgp/status.js';
import { nodeRows } from '../../../src/plugin/nodes.js';
import { renderNodes } from '../../../src/plugin/render.js';
import type { ClusterState } from '../../../src/plugin/state.js';

const statusLease = (node: string, annotation: string): V1Lease => ({
  metadata: { name: bgpStatusLeaseName(node), annotations: { [BGP_STATUS_ANNOTATION]: annotation } },
  spec: { holderIdentity: node },
});

const state = (leases: V1Lease[]): ClusterState => ({
  services: [],
  leases,
  pools: [],
  advertisements: [],
  nodes: ['node-a', 'node-b', 'node-c'].map((name) => ({ metadata: { name } })),
  events: [],
});

const up: BgpNodeStatus = {
  frr: 'applied',
  withdrawn: false,
  peers: [
    {
      name: 'tor',
      address: '192.0.2.254',
      state: 'Established',
      established: true,
      prefixesSent: 2,
      prefixesPlanned: 2,
    },
  ],
  errors: [],
};
const down: BgpNodeStatus = {
  frr: 'failed',
  frrError: 'frr-reload.py failed (exit 1): bgpd is not running',
  withdrawn: false,
  peers: [
    {
      name: 'tor',
      address: '192.0.2.254',
      state: 'Active',
      established: false,
      prefixesSent: 0,
      prefixesPlanned: 2,
      lastError: 'Waiting for peer OPEN',
    },
  ],
  errors: [{ kind: 'BGPPeer', name: 'nobfd', message: 'spec.bfdProfile: BFDProfile "missing" not found' }],
};

describe('kubectl ironlb nodes with BGP status Leases', () => {
  it('a BGP column per node, and what is wrong under the table', () => {
    const rows = nodeRows(
      state([statusLease('node-a', JSON.stringify(up)), statusLease('node-b', JSON.stringify(down))]),
      0,
    );
    expect(rows.map((r) => r.bgp?.frr)).toEqual(['applied', 'failed', undefined]);
    const out = renderNodes(rows);
    expect(out).toMatch(/^NODE\s+LIVE\s+RENEWED\s+LEASE\s+IPS\s+INTERFACES\s+BGP PEERS \(STATE\/SENT\)\n/);
    expect(out).toMatch(/\nnode-a\s+no speaker\s+(<none>\s+){4}tor=Established\/2\n/);
    expect(out).toMatch(/\nnode-b\s+no speaker\s+(<none>\s+){4}frr:failed,tor=Active\/0\n/);
    expect(out).toContain(
      'node-b: FRR does not run the wanted configuration: frr-reload.py failed (exit 1): bgpd is not running',
    );
    expect(out).toContain('node-b: tor: Waiting for peer OPEN');
    expect(out).toContain('node-b: BGPPeer nobfd left out: spec.bfdProfile: BFDProfile "missing" not found');
  });

  it('no status Lease anywhere (L2 only): no BGP column', () => {
    expect(renderNodes(nodeRows(state([]), 0))).toMatch(/^NODE\s+LIVE\s+RENEWED\s+LEASE\s+IPS\s+INTERFACES\n/);
  });

  it('a malformed annotation is said, not hidden', () => {
    const rows = nodeRows(state([statusLease('node-a', '{not json')]), 0);
    expect(rows[0]?.problem).toMatch(/^annotation ironlb\.io\/bgp-status of Lease ironlb-bgp-node-a is malformed: /);
  });
});
