// `kubectl ironlb status`: per LoadBalancer Service its IPs, its pool, the
// announcing node and MAC per IP (from the IP's ownership Lease and the
// holder's node Lease), the ironlb conditions with reasons, the last events.
import type { CoreV1Event, V1Service } from '@kubernetes/client-node';
import { ANNOTATION_IP_ALLOCATED_FROM_POOL } from '../api/annotations.js';
import { ipHolders, leaseLiveness, speakerLeases } from './nodes.js';
import { conditionsOf, timeOf, type ClusterState, type ConditionView } from './state.js';

export interface IpStatus {
  ip: string;
  /** The ownership Lease's holder; '' when no speaker holds it. */
  node: string;
  /** The holder's published interfaces as `ifname=mac`. */
  macs: string[];
  /** The holder's heartbeat is live (its own renewTime + leaseDurationSeconds). */
  holderLive: boolean;
  conflict?: string;
}

export interface EventView {
  type: string;
  reason: string;
  message: string;
  from: string;
  count: number;
  lastSeen?: string;
}

export interface ServiceStatus {
  namespace: string;
  name: string;
  loadBalancerClass?: string;
  pool?: string;
  ips: IpStatus[];
  conditions: ConditionView[];
  events: EventView[];
}

const IRONLB_CONDITION = /^ironlb\.io\//;

function eventTime(e: CoreV1Event): number {
  return (
    timeOf(
      (e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp) as
        | Date
        | string
        | undefined,
    ) ?? 0
  );
}

function iso(value: Date | string | undefined): string | undefined {
  const ms = timeOf(value);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

export function serviceStatuses(state: ClusterState, now: number, lastEvents = 5): ServiceStatus[] {
  const holders = ipHolders(state.leases);
  const speakers = speakerLeases(state.leases);
  const eventsOf = (s: V1Service): EventView[] =>
    state.events
      .filter(
        (e) =>
          e.involvedObject.kind === 'Service' &&
          e.involvedObject.name === s.metadata?.name &&
          e.involvedObject.namespace === s.metadata?.namespace,
      )
      .filter((e) => !e.involvedObject.uid || !s.metadata?.uid || e.involvedObject.uid === s.metadata.uid)
      .sort((a, b) => eventTime(b) - eventTime(a))
      .slice(0, lastEvents)
      .map((e) => ({
        type: e.type ?? '',
        reason: e.reason ?? '',
        message: e.message ?? '',
        from: e.source?.host
          ? `${e.source.component ?? e.reportingComponent ?? ''}, ${e.source.host}`
          : (e.source?.component ?? e.reportingComponent ?? ''),
        count: e.count ?? 1,
        lastSeen: iso((e.lastTimestamp ?? e.eventTime) as Date | string | undefined) || undefined,
      }));
  return state.services
    .filter((s) => s.spec?.type === 'LoadBalancer')
    .map((s) => {
      const ips = (s.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
      return {
        namespace: s.metadata?.namespace ?? '',
        name: s.metadata?.name ?? '',
        loadBalancerClass: s.spec?.loadBalancerClass || undefined,
        pool: s.metadata?.annotations?.[ANNOTATION_IP_ALLOCATED_FROM_POOL] || undefined,
        ips: ips.map((ip): IpStatus => {
          const owner = holders.get(ip);
          const node = owner?.holder ?? '';
          const speaker = node ? speakers.get(node) : undefined;
          return {
            ip,
            node,
            macs: (speaker?.interfaces ?? []).map((i) => `${i.ifname}=${i.mac}`),
            holderLive: speaker ? leaseLiveness(speaker.lease, now).live : false,
            conflict: owner?.conflict || undefined,
          };
        }),
        conditions: conditionsOf(s.status).filter((c) => IRONLB_CONDITION.test(c.type)),
        events: eventsOf(s),
      };
    })
    .sort((a, b) => (a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : a.namespace < b.namespace ? -1 : 1));
}
