// The FRR configuration of one node, as text: the same plan gives the same
// bytes (everything sorted). Semantics follow MetalLB's FRR mode: one `router
// bgp`, `network` statements without import check (the IP is on no interface),
// per peer a route-map that drops everything learned and lets out only that
// peer's prefixes, setting local preference and communities on the way.
// Values equal to FRR's defaults (peer port 179, the BFD timers, which are
// MetalLB's) are left out, as FRR's running config leaves them out: then
// frr-reload.py finds nothing to change in a configuration that did not change.
import { BFD_DEFAULTS } from './bfd-profile.js';
import { formatCommunity } from './community.js';
import { DEFAULT_PEER_PORT } from './peer.js';
import type { NodeBgpPlan, PeerSession, PrefixAttributes } from './plan.js';

export interface RenderOptions {
  /** `hostname` line; the node name. */
  readonly hostname: string;
  /** `log stdout <level>`; default informational. */
  readonly logLevel?: string;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The route-map names of a peer (peer names are DNS subdomains, valid FRR words). */
export const routeMapIn = (peer: string) => `ironlb-${peer}-in`;
export const routeMapOut = (peer: string) => `ironlb-${peer}-out`;

export function renderFrrConfig(plan: NodeBgpPlan, options: RenderOptions): string {
  const lines: string[] = [
    'frr defaults traditional',
    `hostname ${options.hostname}`,
    `log stdout ${options.logLevel ?? 'informational'}`,
    'ip nht resolve-via-default',
    'ipv6 nht resolve-via-default',
    '!',
  ];
  for (const session of plan.sessions)
    lines.push(...peerFilters(session.peer.name, plan.prefixes.get(session.peer.name) ?? new Map()));
  if (plan.myASN !== undefined && plan.sessions.length > 0) lines.push(...router(plan));
  if (plan.bfdProfiles.length > 0) lines.push(...bfd(plan));
  return `${lines.join('\n')}\n`;
}

/** Prefix lists and the two route-maps of one peer. */
function peerFilters(peer: string, prefixes: ReadonlyMap<string, PrefixAttributes>): string[] {
  const out = routeMapOut(peer);
  const lines: string[] = [`route-map ${routeMapIn(peer)} deny 10`, 'exit', '!'];
  const sorted = [...prefixes].sort((a, b) => compareText(a[0], b[0]));
  let sequence = 0;
  const setEntry = (list: string, family: 'ip' | 'ipv6', members: string[], set: string) => {
    for (const [i, prefix] of members.entries()) {
      lines.push(`${family} prefix-list ${list} seq ${(i + 1) * 5} permit ${prefix}`);
    }
    sequence += 10;
    lines.push(
      `route-map ${out} permit ${sequence}`,
      ` match ${family} address prefix-list ${list}`,
      ` ${set}`,
      ' on-match next',
      'exit',
      '!',
    );
  };
  for (const family of ['ip', 'ipv6'] as const) {
    const ofFamily = sorted.filter(([, a]) => (a.family === 'IPv4') === (family === 'ip'));
    const suffix = family === 'ip' ? 'ipv4' : 'ipv6';
    const localPrefs = [...new Set(ofFamily.map(([, a]) => a.localPref).filter((v) => v > 0))].sort((a, b) => a - b);
    for (const pref of localPrefs) {
      setEntry(
        `ironlb-${peer}-localpref-${pref}-${suffix}`,
        family,
        ofFamily.filter(([, a]) => a.localPref === pref).map(([p]) => p),
        `set local-preference ${pref}`,
      );
    }
    const communities = new Map<string, string>();
    for (const [, a] of ofFamily) {
      for (const c of a.communities)
        communities.set(
          formatCommunity(c),
          c.kind === 'large' ? `set large-community ${c.value} additive` : `set community ${c.value} additive`,
        );
    }
    for (const [name, set] of communities) {
      const members = ofFamily
        .filter(([, a]) => a.communities.some((c) => formatCommunity(c) === name))
        .map(([p]) => p);
      setEntry(`ironlb-${peer}-community-${name}-${suffix}`, family, members, set);
    }
  }
  for (const family of ['ip', 'ipv6'] as const) {
    const list = `ironlb-${peer}-${family === 'ip' ? 'ipv4' : 'ipv6'}`;
    const members = sorted.filter(([, a]) => (a.family === 'IPv4') === (family === 'ip')).map(([p]) => p);
    if (members.length === 0) lines.push(`${family} prefix-list ${list} seq 5 deny any`);
    for (const [i, prefix] of members.entries()) {
      lines.push(`${family} prefix-list ${list} seq ${(i + 1) * 5} permit ${prefix}`);
    }
    sequence += 10;
    lines.push(`route-map ${out} permit ${sequence}`, ` match ${family} address prefix-list ${list}`, 'exit', '!');
  }
  return lines;
}

function router(plan: NodeBgpPlan): string[] {
  const lines = [`router bgp ${plan.myASN}`];
  if (plan.routerID !== undefined) lines.push(` bgp router-id ${plan.routerID}`);
  lines.push(
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ' no bgp default ipv4-unicast',
    ' bgp graceful-restart preserve-fw-state',
  );
  for (const session of plan.sessions) lines.push(...neighbor(session));
  for (const family of ['IPv4', 'IPv6'] as const) {
    const sessions = plan.sessions.filter((s) => s.peer.peerAddress.family === family);
    if (sessions.length === 0) continue;
    const networks = new Set<string>();
    for (const s of sessions) for (const [prefix] of plan.prefixes.get(s.peer.name) ?? new Map()) networks.add(prefix);
    lines.push(' !', ` address-family ${family === 'IPv4' ? 'ipv4' : 'ipv6'} unicast`);
    for (const prefix of [...networks].sort(compareText)) lines.push(`  network ${prefix}`);
    for (const s of sessions) {
      const address = s.peer.peerAddress.text;
      lines.push(
        `  neighbor ${address} activate`,
        `  neighbor ${address} route-map ${routeMapIn(s.peer.name)} in`,
        `  neighbor ${address} route-map ${routeMapOut(s.peer.name)} out`,
      );
    }
    lines.push(' exit-address-family');
  }
  lines.push('exit', '!');
  return lines;
}

function neighbor({ peer, password }: PeerSession): string[] {
  const n = ` neighbor ${peer.peerAddress.text}`;
  const lines = [`${n} remote-as ${peer.peerASN ?? peer.dynamicASN}`, `${n} description ${peer.name}`];
  if (peer.peerPort !== DEFAULT_PEER_PORT) lines.push(`${n} port ${peer.peerPort}`);
  if (peer.sourceAddress) lines.push(`${n} update-source ${peer.sourceAddress.text}`);
  if (peer.keepaliveTime !== undefined && peer.holdTime !== undefined)
    lines.push(`${n} timers ${peer.keepaliveTime} ${peer.holdTime}`);
  if (peer.connectTime !== undefined) lines.push(`${n} timers connect ${peer.connectTime}`);
  if (password !== undefined) lines.push(`${n} password ${password}`);
  if (peer.ebgpMultiHop) lines.push(`${n} ebgp-multihop`);
  // FRR's default (GR helper) still offers the Graceful Restart capability, and
  // a router that helps then keeps a crashed node's routes for the restart
  // time (120 s): seen in the lab with BIRD. Without enableGracefulRestart the
  // capability is not offered, so a crash withdraws at once.
  lines.push(peer.enableGracefulRestart ? `${n} graceful-restart` : `${n} graceful-restart-disable`);
  if (peer.bfdProfile !== undefined) lines.push(`${n} bfd`, `${n} bfd profile ${peer.bfdProfile}`);
  return lines;
}

function bfd(plan: NodeBgpPlan): string[] {
  const lines = ['bfd'];
  for (const p of plan.bfdProfiles) {
    lines.push(` profile ${p.name}`);
    const set = (value: number, fallback: number, ...statements: string[]) => {
      if (value !== fallback) lines.push(...statements.map((statement) => `  ${statement} ${value}`));
    };
    set(p.receiveInterval, BFD_DEFAULTS.receiveInterval, 'receive-interval');
    set(p.transmitInterval, BFD_DEFAULTS.transmitInterval, 'transmit-interval');
    set(p.detectMultiplier, BFD_DEFAULTS.detectMultiplier, 'detect-multiplier');
    set(p.echoInterval, BFD_DEFAULTS.echoInterval, 'echo receive-interval', 'echo transmit-interval');
    if (p.echoMode) lines.push('  echo-mode');
    if (p.passiveMode) lines.push('  passive-mode');
    set(p.minimumTtl, BFD_DEFAULTS.minimumTtl, 'minimum-ttl');
    lines.push(' exit');
  }
  lines.push('exit', '!');
  return lines;
}
