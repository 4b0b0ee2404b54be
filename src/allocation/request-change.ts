// What changed in a Service's request since its addresses were given, compared
// field by field on two parsed intents (src/api/service.ts). Pure.

import { sameIP } from '../ip/address.js';
import type { ServiceIntent, ServicePort } from '../api/service.js';

/**
 * 'identity': the requested IPs or pool changed; the addresses are released and allocated afresh.
 * 'placement': ports, sharing key, traffic policy, selector, labels, IP family policy or families
 * changed; each address that still fits is kept and what is missing is filled in place.
 */
export type RequestChange = 'none' | 'placement' | 'identity';

export function requestChange(before: ServiceIntent, after: ServiceIntent): RequestChange {
  const sameRequestedIPs =
    before.requestedIPs.length === after.requestedIPs.length &&
    before.requestedIPs.every((ip, i) => sameIP(ip, after.requestedIPs[i]!));
  if (!sameRequestedIPs || before.requestedPool !== after.requestedPool) return 'identity';
  const samePlacement =
    before.sharingKey === after.sharingKey &&
    samePorts(before.ports, after.ports) &&
    before.externalTrafficPolicy === after.externalTrafficPolicy &&
    sameLabels(before.selector, after.selector) &&
    sameLabels(before.serviceLabels, after.serviceLabels) &&
    before.ipFamilyPolicy === after.ipFamilyPolicy &&
    before.ipFamilies.length === after.ipFamilies.length &&
    before.ipFamilies.every((family, i) => family === after.ipFamilies[i]);
  return samePlacement ? 'none' : 'placement';
}

/**
 * How many addresses the Service wants: as many as it requests (one requested IPv4 on
 * PreferDualStack is all it gets), else 1 for SingleStack, else one per family.
 */
export function addressesWanted(intent: ServiceIntent): number {
  if (intent.requestedIPs.length > 0) return intent.requestedIPs.length;
  return intent.ipFamilyPolicy === 'SingleStack' ? 1 : intent.ipFamilies.length;
}

/** Same keys with the same values, in any order. */
export function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** The same ports in any order (each listed as often). */
function samePorts(a: readonly ServicePort[], b: readonly ServicePort[]): boolean {
  if (a.length !== b.length) return false;
  const order = (x: ServicePort, y: ServicePort): number =>
    x.protocol < y.protocol ? -1 : x.protocol > y.protocol ? 1 : x.port - y.port;
  const sa = [...a].sort(order);
  const sb = [...b].sort(order);
  return sa.every((p, i) => p.protocol === sb[i]!.protocol && p.port === sb[i]!.port);
}
