import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { METRICS } from '../../../infra/metrics/names.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface Rule { alert: string; expr: string; annotations: { runbook_url?: string; summary?: string } }
interface AlertTest { alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }

const rules = (parse(read('deploy/prometheus/alerts.yml')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const unitTests = (parse(read('deploy/prometheus/alerts.test.yml')) as { tests: AlertTest[] }).tests.flatMap((t) => t.alert_rule_test);
const dashboard = JSON.parse(read('deploy/grafana/claimtrail.json')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };

/** Metric names a PromQL expression uses: histogram series (_bucket, _sum, _count) map to their histogram. */
function metricNames(expr: string): string[] {
  const histograms = new Set<string>(Object.values(METRICS).filter((m) => m.type === 'histogram').map((m) => m.name));
  return [...expr.matchAll(/\bclaimtrail_[a-z0-9_]+/g)].map(([name]) => {
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return histograms.has(base) ? base : name;
  });
}

const known = new Set<string>(Object.values(METRICS).map((m) => m.name));

describe('deploy/: alert rules and the Grafana dashboard', () => {
  it('use only metric names published in infra/metrics/names.ts', () => {
    const used = [...rules.map((r) => r.expr), ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))].flatMap(metricNames);
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((n) => !known.has(n))).toEqual([]);
  });

  it('covers the issue 17 and issue 20 alerts, each with a runbook_url into a section of docs/runbooks.md', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'ClaimtrailAccessDlq', 'ClaimtrailAnchorBacklog', 'ClaimtrailAnchorLagHigh', 'ClaimtrailAnchoringFailures', 'ClaimtrailChainWatchAlert', 'ClaimtrailConsumerLagGrowing', 'ClaimtrailDlqSpike', 'ClaimtrailReviewSlaBreaches', 'ClaimtrailSignerBalanceLow',
    ]);
    const runbooks = read('docs/runbooks.md');
    const anchors = new Set([...runbooks.matchAll(/^#+ (.+)$/gm)].map(([, title]) => title!.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const rule of rules) {
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      const url = rule.annotations.runbook_url ?? '';
      expect(url, rule.alert).toMatch(/\/docs\/runbooks\.md#[a-z0-9-]+$/);
      expect(anchors.has(url.split('#')[1]!), `${rule.alert}: ${url}`).toBe(true);
    }
  });

  it('has a firing and a non-firing promtool case for every alert', () => {
    for (const rule of rules) {
      const cases = unitTests.filter((t) => t.alertname === rule.alert);
      expect(cases.some((t) => t.exp_alerts.length > 0), `${rule.alert} fires`).toBe(true);
      expect(cases.some((t) => t.exp_alerts.length === 0), `${rule.alert} stays quiet`).toBe(true);
    }
  });

  it('wires prometheus and grafana in docker-compose.yml to the rules and the dashboard', () => {
    const compose = parse(read('docker-compose.yml')) as { services: Record<string, { volumes?: string[]; environment?: Record<string, string> }> };
    expect(compose.services.prometheus?.volumes).toEqual(expect.arrayContaining(['./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro']));
    expect(compose.services.grafana?.volumes).toEqual(expect.arrayContaining(['./deploy/grafana/claimtrail.json:/var/lib/grafana/dashboards/claimtrail.json:ro']));
    expect(compose.services.app?.environment?.METRICS_PORT).toBe('9464');
    const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as { rule_files: string[]; scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    expect(prometheus.scrape_configs[0]!.static_configs[0]!.targets).toEqual(['app:9464']);
  });
});
