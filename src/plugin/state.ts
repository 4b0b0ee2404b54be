// What `kubectl ironlb` reads from the cluster, as plain objects: src/kube's
// plugin reader fills it, the pure views (status, pools, nodes) read it.
import type { CoreV1Event, KubernetesObject, V1Lease, V1Node, V1Service } from '@kubernetes/client-node';

export interface ClusterState {
  /** LoadBalancer Services of the asked namespace(s). */
  services: V1Service[];
  /** Every Lease of ironlb's namespace: node heartbeats and IP ownership. */
  leases: V1Lease[];
  pools: KubernetesObject[];
  advertisements: KubernetesObject[];
  nodes: V1Node[];
  /** Events about the Services above (any reporter). */
  events: CoreV1Event[];
}

/** A Lease's time field as ms since the epoch (client-node hands Dates; JSON gives strings). */
export function timeOf(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The `spec` or `status` of a custom object, loosely typed (it is untrusted input). */
export function fieldOf(object: KubernetesObject, key: 'spec' | 'status'): Record<string, unknown> {
  const value = (object as unknown as Record<string, unknown>)[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** Conditions of a Service or a pool status, whatever their shape. */
export function conditionsOf(status: unknown): ConditionView[] {
  const list =
    typeof status === 'object' && status !== null ? (status as { conditions?: unknown }).conditions : undefined;
  if (!Array.isArray(list)) return [];
  return list.flatMap((c: unknown) => {
    if (typeof c !== 'object' || c === null) return [];
    const r = c as Record<string, unknown>;
    const text = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : '');
    return [{ type: text('type'), status: text('status'), reason: text('reason'), message: text('message') }];
  });
}

/** `3s`, `5m`, `2h`, `4d`: how long ago, for tables. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 2 * 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
