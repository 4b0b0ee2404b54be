// The plain-text forms of status, pools, nodes and the migration report.
import type { ReportLine } from './migrate.js';
import type { NodeRow } from './nodes.js';
import type { PoolsView } from './pools.js';
import { ago } from './state.js';
import type { ServiceStatus } from './status.js';
import { renderTable } from './table.js';

function conditionCell(s: ServiceStatus, type: string): string {
  const c = s.conditions.find((x) => x.type === type);
  if (c === undefined) return '';
  return c.status === 'True' ? 'True' : `${c.status} (${c.reason})`;
}

/** One row per Service IP (one row for a Service without any), then the details worth reading. */
export function renderStatus(services: readonly ServiceStatus[], detailed: boolean, now: number): string {
  if (services.length === 0) return 'No LoadBalancer Services found.\n';
  const rows: string[][] = [];
  for (const s of services) {
    const first = [s.namespace, s.name, s.pool ?? ''];
    const allocated = conditionCell(s, 'ironlb.io/Allocated');
    const announced = conditionCell(s, 'ironlb.io/Announced');
    if (s.ips.length === 0) rows.push([...first, '<pending>', '', '', allocated, announced]);
    for (const ip of s.ips) {
      const node = ip.node === '' ? '<unowned>' : ip.holderLive ? ip.node : `${ip.node} (not live)`;
      rows.push([...first, ip.ip, node, ip.macs.join(','), allocated, announced]);
    }
  }
  let out = renderTable(['NAMESPACE', 'SERVICE', 'POOL', 'IP', 'NODE', 'MAC', 'ALLOCATED', 'ANNOUNCED'], rows);
  for (const s of services) {
    const bad = s.conditions.filter((c) => c.status !== 'True');
    const conflicts = s.ips.filter((ip) => ip.conflict);
    if (!detailed && bad.length === 0 && conflicts.length === 0) continue;
    out += `\n${s.namespace}/${s.name}${s.loadBalancerClass ? ` (loadBalancerClass ${s.loadBalancerClass})` : ''}\n`;
    const conditions = detailed ? s.conditions : bad;
    if (conditions.length > 0) out += '  Conditions:\n';
    for (const c of conditions) out += `    ${c.type}=${c.status} ${c.reason}: ${c.message}\n`;
    for (const ip of conflicts) out += `  Conflict on ${ip.ip}: ${ip.conflict}\n`;
    if (detailed) {
      out += s.events.length > 0 ? '  Last events:\n' : '  Last events: none\n';
      for (const e of s.events) {
        const age = e.lastSeen === undefined ? '?' : ago(now - Date.parse(e.lastSeen));
        out +=
          `    ${age.padStart(4)} ago  ${e.type}  ${e.reason}  ${e.message}  ` +
          `(${e.from}${e.count > 1 ? `, x${e.count}` : ''})\n`;
      }
    }
  }
  return out;
}

const familyCell = (u: { used?: string; free?: string }): string =>
  u.used === undefined && u.free === undefined ? '' : `${u.used ?? '?'}/${u.free ?? '?'}`;

export function renderPools(view: PoolsView): string {
  let out =
    view.pools.length === 0
      ? 'No IPAddressPools found.\n'
      : renderTable(
          ['POOL', 'ADDRESSES', 'IPV4 USED/FREE', 'IPV6 USED/FREE', 'VALID', 'CONFLICT', 'ADVERTISEMENTS', 'NODES'],
          view.pools.map((p) => [
            p.name,
            p.addresses.join(','),
            familyCell(p.ipv4),
            familyCell(p.ipv6),
            p.valid,
            p.conflict,
            p.advertisements.length > 0 ? p.advertisements.join(',') : '<none: not announced>',
            p.nodes.join(','),
          ]),
        );
  for (const p of view.pools) for (const problem of p.problems) out += `\n${p.name}: ${problem}\n`;
  for (const a of view.invalidAdvertisements)
    out += `\nL2Advertisement ${a.name} is invalid and covers nothing: ${a.errors.join('; ')}\n`;
  return out;
}

export function renderNodes(rows: readonly NodeRow[]): string {
  if (rows.length === 0) return 'No nodes or speakers found.\n';
  // The BGP column only in BGP mode (some speaker published a BGP status).
  const bgp = rows.some((r) => r.bgp !== undefined);
  let out = renderTable(
    ['NODE', 'LIVE', 'RENEWED', 'LEASE', 'IPS', 'INTERFACES', ...(bgp ? ['BGP PEERS (STATE/SENT)'] : [])],
    rows.map((r) => [
      r.node,
      !r.speaker ? 'no speaker' : r.live ? 'yes' : 'no',
      r.renewedAgoMs === undefined ? '' : `${ago(r.renewedAgoMs)} ago`,
      r.leaseDurationSeconds === undefined ? '' : `${r.leaseDurationSeconds}s`,
      r.ips.join(','),
      r.interfaces.map((i) => `${i.ifname}=${i.mac}`).join(','),
      ...(bgp ? [bgpCell(r)] : []),
    ]),
  );
  for (const r of rows) if (r.problem) out += `\n${r.node}: ${r.problem}\n`;
  for (const r of rows) {
    if (r.bgp?.frr === 'failed') {
      out += `\n${r.node}: FRR does not run the wanted configuration: ${r.bgp.frrError ?? ''}\n`;
    }
    for (const p of r.bgp?.peers ?? []) {
      if (!p.established && p.lastError) out += `\n${r.node}: ${p.name}: ${p.lastError}\n`;
    }
    for (const e of r.bgp?.errors ?? []) out += `\n${r.node}: ${e.kind} ${e.name} left out: ${e.message}\n`;
  }
  return out;
}

/** `tor=Established/2`, one per peer; FRR's own trouble first. */
function bgpCell(row: NodeRow): string {
  if (row.bgp === undefined) return '';
  const peers = row.bgp.peers.map((p) => `${p.name}=${p.state}/${p.prefixesSent}`);
  const frr = row.bgp.frr === 'applied' ? [] : [`frr:${row.bgp.frr}`];
  const withdrawn = row.bgp.withdrawn ? ['withdrawn'] : [];
  return [...frr, ...withdrawn, ...peers].join(',') || '<no peer>';
}

export function renderReport(report: readonly ReportLine[]): string {
  if (report.length === 0) return 'Nothing to migrate: no objects found.\n';
  return renderTable(
    ['OBJECT', 'FIELD', 'RESULT', 'DETAIL'],
    report.map((l) => [l.object, l.field, l.outcome, l.detail]),
  );
}
