// deploy/grafana: every query names only metrics (and labels) the programs
// export, read from the registries src/metrics/metrics.ts builds, and the
// dashboard covers what operators watch.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createControllerMetrics, createSpeakerMetrics } from '../../src/metrics/metrics.js';
import { renderKustomization, repoRoot } from './deploy-manifests.js';

interface Target {
  expr: string;
  legendFormat?: string;
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
  panels?: Panel[];
}

const file = path.join(repoRoot, 'deploy', 'grafana', 'ironlb.json');
const dashboard = JSON.parse(readFileSync(file, 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));

/** Label names per exported series name; histograms add _bucket (with le), _sum, _count. */
function exported(): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  for (const { registry } of [createControllerMetrics(), createSpeakerMetrics()]) {
    for (const metric of registry.getMetricsAsArray()) {
      const labels = new Set((metric as unknown as { labelNames?: string[] }).labelNames ?? []);
      const name = (metric as unknown as { name: string }).name;
      names.set(name, new Set([...(names.get(name) ?? []), ...labels]));
      if (metric.constructor.name === 'Histogram') {
        names.set(`${name}_bucket`, new Set([...labels, 'le']));
        for (const s of ['_sum', '_count']) names.set(name + s, labels);
      }
    }
  }
  return names;
}

const metrics = exported();
// Added by Prometheus to every scraped series.
const TARGET_LABELS = new Set(['instance', 'job']);

const withoutStrings = (expr: string) => expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
const metricsIn = (expr: string) => [...new Set(withoutStrings(expr).match(/\bironlb_[a-zA-Z0-9_]+/g) ?? [])];
/** Labels named in by(...), without(...), on(...), ignoring(...) and {label=...} matchers. */
function labelsIn(expr: string): string[] {
  const text = withoutStrings(expr);
  const grouped = [...text.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
  const matched = [...text.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
    [...m[1]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1]!),
  );
  return [...new Set([...grouped, ...matched])];
}

describe('deploy/grafana dashboard', () => {
  it('has queries, each naming a metric the controller or the speaker exports', () => {
    expect(queries.length).toBeGreaterThan(15);
    for (const q of queries) {
      const used = metricsIn(q.expr);
      expect(used.length, `${q.panel}: ${q.expr}`).toBeGreaterThan(0);
      for (const name of used) expect(metrics.has(name), `${q.panel}: ${name} is not exported`).toBe(true);
    }
  });

  it('groups and filters only by labels those metrics carry (or Prometheus adds)', () => {
    for (const q of queries) {
      const known = new Set([...TARGET_LABELS, ...metricsIn(q.expr).flatMap((m) => [...(metrics.get(m) ?? [])])]);
      for (const label of labelsIn(q.expr))
        expect(known.has(label), `${q.panel}: label ${label} in ${q.expr}`).toBe(true);
      for (const [, label] of (q.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
        expect(known.has(label!), `${q.panel}: legend {{${label}}}`).toBe(true);
      }
    }
  });

  it('the checks can fail: an unknown metric or label is caught', () => {
    expect(metrics.has('ironlb_pool_addresses_free')).toBe(false);
    expect(labelsIn('sum by (node, protocol) (rate(ironlb_l2_requests_total{iface="eth0"}[5m]))')).toEqual([
      'node',
      'protocol',
      'iface',
    ]);
    expect(metrics.get('ironlb_l2_requests_total')?.has('node')).toBe(false);
  });

  it('shows per-family pool use, pending Services, ownership changes, takeovers, ARP/NDP rates, conflicts, API', () => {
    const all = queries.map((q) => q.expr).join('\n');
    for (const needed of [
      /ironlb_pool_addresses_in_use \/ \(ironlb_pool_addresses_total > 0\)/,
      /ironlb_services_pending/,
      /ironlb_speaker_ownership_changes_total/,
      /ironlb_speaker_takeover_seconds_bucket/,
      /sum by \(instance, protocol\) \(rate\(ironlb_l2_requests_total/,
      /sum by \(instance, protocol\) \(rate\(ironlb_l2_replies_total/,
      /ironlb_l2_conflicts_total/,
      /ironlb_service_ip_conflicts/,
      /ironlb_speaker_api_reachable/,
    ])
      expect(all).toMatch(needed);
    expect(panels.some((p) => p.type === 'heatmap' && p.targets?.[0]?.expr.includes('takeover_seconds_bucket'))).toBe(
      true,
    );
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
  });

  it('kustomize renders it as a ConfigMap for the Grafana sidecar, holding the same JSON', () => {
    const [configMap, ...rest] = renderKustomization('deploy/grafana');
    expect(rest).toEqual([]);
    expect(configMap).toMatchObject({
      kind: 'ConfigMap',
      metadata: { name: 'ironlb-grafana-dashboard', namespace: 'ironlb-system', labels: { grafana_dashboard: '1' } },
    });
    expect(JSON.parse((configMap as unknown as { data: Record<string, string> }).data['ironlb.json']!)).toEqual(
      dashboard,
    );
  });
});
