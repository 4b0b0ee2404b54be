import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Every metric ironlb exports is declared here, so deploy/prometheus rules and
// the README can be checked against one list.

/** Both programs count their Kubernetes API requests under one name (their start.ts feeds it). */
function apiRequestsCounter(registry: Registry) {
  return new Counter({
    name: 'ironlb_api_requests_total',
    help: 'Kubernetes API requests by verb and resource',
    labelNames: ['verb', 'resource'],
    registers: [registry],
  });
}

export function createControllerMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  const m = {
    registry,
    poolSize: new Gauge({
      name: 'ironlb_pool_addresses_total',
      help: 'Addresses in a pool (float: an IPv6 /64 exceeds 2^53)',
      labelNames: ['pool', 'family'],
      registers: [registry],
    }),
    poolInUse: new Gauge({
      name: 'ironlb_pool_addresses_in_use',
      help: 'Addresses of a pool assigned to Services',
      labelNames: ['pool', 'family'],
      registers: [registry],
    }),
    poolValid: new Gauge({
      name: 'ironlb_pool_valid',
      help: '1 when the pool is valid and allocating, 0 when malformed or in conflict',
      labelNames: ['pool'],
      registers: [registry],
    }),
    servicesPending: new Gauge({
      name: 'ironlb_services_pending',
      help: 'LoadBalancer Services without an IP',
      registers: [registry],
    }),
    allocations: new Counter({
      name: 'ironlb_allocations_total',
      help: 'IPs assigned to Services',
      labelNames: ['pool'],
      registers: [registry],
    }),
    allocationFailures: new Counter({
      name: 'ironlb_allocation_failures_total',
      help: 'Refused allocations by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    apiRequests: apiRequestsCounter(registry),
    isLeader: new Gauge({
      name: 'ironlb_controller_leader',
      help: '1 while this controller replica is the leader',
      registers: [registry],
    }),
    ipConflicts: new Gauge({
      name: 'ironlb_service_ip_conflicts',
      help: 'Services whose IP another host answers for',
      registers: [registry],
    }),
  };
  return m;
}
export type ControllerMetrics = ReturnType<typeof createControllerMetrics>;

export function createSpeakerMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  const m = {
    registry,
    ownedIPs: new Gauge({
      name: 'ironlb_speaker_owned_ips',
      help: 'IPs this node owns and announces',
      registers: [registry],
    }),
    ownershipChanges: new Counter({
      name: 'ironlb_speaker_ownership_changes_total',
      help: 'Ownership acquired or released by this node',
      labelNames: ['change'],
      registers: [registry],
    }),
    takeoverLatency: new Histogram({
      name: 'ironlb_speaker_takeover_seconds',
      help: 'From noticing an IP needs an owner to the first announcement',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    leaseWrites: new Counter({
      name: 'ironlb_speaker_lease_writes_total',
      help: 'Lease writes by kind (heartbeat, member, acquire, release, conflict)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    meshIsolated: new Gauge({
      name: 'ironlb_speaker_mesh_isolated',
      help: '1 while this speaker hears no peer on the liveness mesh (no heartbeat, no probe answer)',
      registers: [registry],
    }),
    leaseLiveness: new Gauge({
      name: 'ironlb_speaker_lease_liveness',
      help:
        '1 while some peer is judged by its heartbeat Lease ' +
        'instead of the mesh (no quorum, isolated, or firewalled mesh)',
      registers: [registry],
    }),
    livenessDropped: new Counter({
      name: 'ironlb_speaker_liveness_dropped_total',
      help: 'Liveness datagrams dropped, by reason (forged, replayed, truncated, oversized, unknown sender, ...)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    livenessDatagrams: new Counter({
      name: 'ironlb_speaker_liveness_datagrams_total',
      help: 'Liveness datagrams sent and received',
      labelNames: ['direction'],
      registers: [registry],
    }),
    arpRequests: new Counter({
      name: 'ironlb_l2_requests_total',
      help: 'ARP requests and Neighbor Solicitations received for owned IPs',
      labelNames: ['interface', 'protocol'],
      registers: [registry],
    }),
    arpReplies: new Counter({
      name: 'ironlb_l2_replies_total',
      help: 'ARP replies and Neighbor Advertisements sent',
      labelNames: ['interface', 'protocol'],
      registers: [registry],
    }),
    gratuitous: new Counter({
      name: 'ironlb_l2_gratuitous_total',
      help: 'Gratuitous ARP / unsolicited NA frames sent',
      labelNames: ['interface', 'protocol'],
      registers: [registry],
    }),
    conflicts: new Counter({
      name: 'ironlb_l2_conflicts_total',
      help: 'Frames claiming an owned IP from another MAC',
      labelNames: ['kind'],
      registers: [registry],
    }),
    apiReachable: new Gauge({
      name: 'ironlb_speaker_api_reachable',
      help: '1 while the node heartbeat Lease can be written',
      registers: [registry],
    }),
    apiRequests: apiRequestsCounter(registry),
    bgp: bgpSpeakerMetrics(registry),
  };
  return m;
}

/** BGP mode (src/bgp/runtime.ts); every series is this node's. */
function bgpSpeakerMetrics(registry: Registry) {
  const perPeer = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ['peer', 'address'], registers: [registry] });
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers: [registry] });
  return {
    sessionUp: perPeer('ironlb_bgp_session_up', '1 while the BGP session with the peer is Established (FRR says)'),
    prefixesSent: perPeer('ironlb_bgp_prefixes_sent', 'Prefixes FRR sent the peer'),
    bfdUp: perPeer('ironlb_bgp_bfd_session_up', '1 while the BFD session with the peer is up (with a bfdProfile)'),
    sessionsConfigured: gauge('ironlb_bgp_sessions_configured', 'BGP sessions this node is configured to have'),
    sessionsEstablished: gauge('ironlb_bgp_sessions_established', 'BGP sessions of this node that are Established'),
    configApplied: gauge(
      'ironlb_bgp_frr_config_applied',
      '1 while FRR runs the configuration the speaker wants; 0: it could not be applied (stale routes possible)',
    ),
    applyFailures: new Counter({
      name: 'ironlb_bgp_frr_apply_failures_total',
      help: 'Failed attempts to apply the FRR configuration',
      registers: [registry],
    }),
    frrReachable: gauge('ironlb_bgp_frr_reachable', '1 while FRR answers vtysh'),
    configErrors: new Gauge({
      name: 'ironlb_bgp_config_errors',
      help: "BGP objects (or parts of them) left out of this node's configuration, with the reason in an Event",
      labelNames: ['kind', 'name'],
      registers: [registry],
    }),
  };
}
export type SpeakerMetrics = ReturnType<typeof createSpeakerMetrics>;
