// The PrometheusRule may only use metrics the programs export: names are read
// from the registries src/metrics/metrics.ts builds, not from a list here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createControllerMetrics, createSpeakerMetrics } from '../../src/metrics/metrics.js';
import { parseManifests, renderKustomization, repoRoot } from './deploy-manifests.js';

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

async function exportedMetricNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metrics of [createControllerMetrics(), createSpeakerMetrics()]) {
    for (const metric of await metrics.registry.getMetricsAsJSON()) {
      names.add(metric.name);
      // Histograms are queried through their series.
      if (metric.type.toString() === 'histogram')
        for (const s of ['_bucket', '_sum', '_count']) names.add(metric.name + s);
    }
  }
  return names;
}

/** ironlb_* identifiers in a PromQL expression (label values and strings excluded). */
function ironlbMetricsIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  return [...new Set(withoutStrings.match(/\bironlb_[a-zA-Z0-9_]+/g) ?? [])];
}

const ruleFile = path.join(repoRoot, 'deploy', 'prometheus', 'rules.yaml');
const [prometheusRule] = parseManifests(readFileSync(ruleFile, 'utf8'));
const groups = (prometheusRule.spec as { groups: Array<{ name: string; rules: AlertRule[] }> }).groups;
const alerts = groups.flatMap((g) => g.rules);

describe('deploy/prometheus PrometheusRule', () => {
  it('is a monitoring.coreos.com/v1 PrometheusRule in ironlb-system that kustomize renders', () => {
    expect(prometheusRule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(prometheusRule.kind).toBe('PrometheusRule');
    const rendered = renderKustomization('deploy/prometheus');
    expect(rendered.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'PrometheusRule/ironlb-system/ironlb',
    ]);
  });

  it('uses only metric names that src/metrics/metrics.ts exports', async () => {
    const exported = await exportedMetricNames();
    const used = alerts.flatMap((a) => ironlbMetricsIn(a.expr).map((name) => ({ alert: a.alert, name })));
    expect(used.length).toBeGreaterThan(0);
    for (const { alert, name } of used) expect(exported.has(name), `${alert} uses ${name}`).toBe(true);
  });

  it('the name check would catch a metric that does not exist', async () => {
    const exported = await exportedMetricNames();
    const names = ironlbMetricsIn(
      'sum(rate(ironlb_pool_addresses_totl[5m])) and on(pool) ironlb_pool_valid{pool="ironlb_x"}',
    );
    expect(names).toEqual(['ironlb_pool_addresses_totl', 'ironlb_pool_valid']);
    expect(names.filter((n) => !exported.has(n))).toEqual(['ironlb_pool_addresses_totl']);
  });

  it('covers every failure the issue asks for', () => {
    const uses = (metric: string) => alerts.filter((a) => ironlbMetricsIn(a.expr).includes(metric)).map((a) => a.alert);
    expect(uses('ironlb_pool_addresses_in_use')).toContain('IronLBPoolNearlyExhausted');
    expect(alerts.find((a) => a.alert === 'IronLBPoolNearlyExhausted')?.expr).toMatch(/> 0\.9/);
    expect(uses('ironlb_services_pending')).toContain('IronLBServicesPending');
    expect(alerts.find((a) => a.alert === 'IronLBServicesPending')?.for).toBe('5m');
    expect(uses('ironlb_speaker_ownership_changes_total')).toContain('IronLBFrequentOwnershipChanges');
    expect(uses('ironlb_service_ip_conflicts')).toContain('IronLBIPConflict');
    expect(uses('ironlb_pool_valid')).toContain('IronLBPoolInvalid');
    expect(uses('ironlb_speaker_api_reachable')).toContain('IronLBSpeakerAPIUnreachable');
    expect(uses('ironlb_speaker_mesh_isolated')).toContain('IronLBMeshIsolated');
    expect(uses('ironlb_speaker_lease_liveness')).toContain('IronLBSlowLiveness');
  });

  it('expressions have balanced brackets and durations Prometheus accepts', () => {
    const balanced = (expr: string) => {
      const stack: string[] = [];
      const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
      for (const ch of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
        if ('([{'.includes(ch)) stack.push(ch);
        else if (ch in pairs && stack.pop() !== pairs[ch]) return false;
      }
      return stack.length === 0;
    };
    expect(balanced('sum(rate(x[5m])')).toBe(false);
    for (const a of alerts) {
      expect(balanced(a.expr), a.alert).toBe(true);
      if (a.for !== undefined) expect(a.for, a.alert).toMatch(/^\d+[smhdwy]$/);
      for (const range of a.expr.matchAll(/\[([^\]]+)\]/g)) expect(range[1], a.alert).toMatch(/^\d+[smhdwy]$/);
    }
  });

  it('every alert has a unique name, a severity and a summary', () => {
    const seen = new Set<string>();
    for (const a of alerts) {
      expect(seen.has(a.alert), a.alert).toBe(false);
      seen.add(a.alert);
      expect(['warning', 'critical']).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
    }
  });
});
