/**
 * Deployment files agree with each other and with the tools that read them: kong/pluginserver.env is
 * generated from kong/pluginserver.conf; docker-compose.yml parses (`docker-compose config -q`, Debian
 * docker-compose 1.29); kong/kong.yml validates (`deck validate`, Debian deck 1.4.0); the Dockerfile,
 * Prometheus rules and the Grafana dashboard reference only what exists. The tools are required: CI
 * installs them (`apt-get install -y docker-compose deck`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/real-kong';
import { registry } from '../../lib/metrics';
import '../../lib/ops/alerts'; // registers ai_llm_budget_used_ratio_max

const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');

describe('deploy: configuration files', () => {
  it('kong/pluginserver.env is generated from kong/pluginserver.conf (node scripts/gen-pluginserver-env.mjs)', () => {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/gen-pluginserver-env.mjs'), '--check'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const env = read('kong/pluginserver.env');
    const conf = read('kong/pluginserver.conf');
    for (const m of conf.matchAll(/^(pluginserver_[a-z0-9_]+)\s*=\s*(.+)$/gm)) {
      assert.ok(
        env.includes(`KONG_${m[1]!.toUpperCase()}=${m[2]!.trim()}`),
        `${m[1]} missing from the env file`,
      );
    }
    assert.doesNotMatch(env, /\s-v(\s|$)/m);
    const plugins = /^KONG_PLUGINS=(.*)$/m.exec(env)?.[1]?.split(',') ?? [];
    assert.equal(plugins[0], 'bundled');
    assert.ok(plugins.includes('llm-response-tap'));
    assert.ok(plugins.includes('llm-sentinel'));
    for (const n of /^pluginserver_names\s*=\s*(.*)$/m.exec(conf)![1]!.split(','))
      assert.ok(plugins.includes(n.trim().replace(/_/g, '-')), n);
  });

  it('docker-compose.yml passes docker-compose config -q and wires the stack', () => {
    execFileSync('docker-compose', ['-f', join(REPO_ROOT, 'docker-compose.yml'), 'config', '-q'], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
    });
    const c = parse(read('docker-compose.yml')) as { services: Record<string, Record<string, unknown>> };
    const kong = c.services['kong']!;
    assert.ok((kong['volumes'] as string[]).includes('./kong/kong.yml:/kong/kong.yml:ro'));
    const env = kong['environment'] as Record<string, string>;
    assert.equal(env['KONG_DATABASE'], 'off');
    assert.equal(env['KONG_DECLARATIVE_CONFIG'], '/kong/kong.yml');
    assert.match(JSON.stringify(kong['healthcheck']), /8100\/status'/);
    for (const s of ['redis', 'mock-llm', 'prometheus', 'grafana']) assert.ok(c.services[s], s);
    assert.ok(c.services['redis']!['healthcheck']);
    assert.deepEqual(c.services['kong-db']!['profiles'], ['postgres']);
    assert.deepEqual(c.services['kong-migrations']!['command'], ['kong', 'migrations', 'bootstrap']);
    assert.deepEqual(c.services['ollama']!['profiles'], ['ollama']);
  });

  it('kong/kong.yml passes deck validate', () => {
    execFileSync('deck', ['validate', '-s', join(REPO_ROOT, 'kong/kong.yml')], { stdio: 'pipe' });
    const doc = parse(read('kong/kong.yml')) as {
      services: { routes?: { name: string; response_buffering?: boolean }[] }[];
    };
    const ai = doc.services.flatMap((s) => s.routes ?? []).filter((r) => r.name.startsWith('ai-'));
    assert.ok(ai.length >= 2 && ai.every((r) => r.response_buffering === false), 'AI routes stream');
    assert.match(read('kong/kong.yml'), /\{vault:\/\/env\/[a-z0-9-]+\}/);
  });

  it('kong/Dockerfile follows the Kong 3.9 image facts', () => {
    const d = read('kong/Dockerfile');
    assert.match(d, /^ARG KONG_IMAGE=kong:3\.9$/m);
    assert.match(d, /^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    assert.match(d, /\/usr\/local\/share\/lua\/5\.1\/kong\/plugins\/llm-response-tap/);
    assert.match(d, /\/usr\/local\/share\/lua\/5\.1\/kong\/plugins\/llm-sentinel/);
    assert.match(d, /kong\/bin\/llm-pluginserver kong\/bin\/llm-pluginserver-query \/usr\/local\/bin\//);
    assert.match(d, /^USER kong$/m);
    assert.match(d, /KONG_NGINX_HTTP_CLIENT_BODY_BUFFER_SIZE=10m/);
    assert.match(d, /HEALTHCHECK[\s\S]*8100\/status'/);
    assert.match(d, /npm prune --omit=dev/);
    assert.match(d, /ARG EMBED_MODEL_DIR=/);
    assert.doesNotMatch(d, /pluginserver[^\n]*\s-v\b/);
  });

  it('Prometheus scrapes Kong and the plugins; alert rules and the dashboard use existing series', async () => {
    const prom = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = prom.scrape_configs.flatMap((s) => s.static_configs.flatMap((x) => x.targets));
    assert.ok(targets.includes('kong:8100') && targets.includes('kong:9542'));
    const ours = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const used = (text: string) => [
      ...new Set([...text.matchAll(/\b(ai_llm_[a-z_]+?)(?:_bucket|_count|_sum)?\b/g)].map((m) => m[1]!)),
    ];
    const alerts = parse(read('deploy/prometheus/alerts.yml')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const exprs = alerts.groups.flatMap((g) => g.rules.map((r) => r.expr)).join('\n');
    const dash = read('deploy/grafana/dashboards/kong-llm.json');
    JSON.parse(dash);
    for (const name of [...used(exprs), ...used(dash)])
      assert.ok(ours.has(name), `${name} is not a registered metric`);
    for (const want of [
      'ai_llm_tokens_total',
      'ai_llm_cost_usd_total',
      'ai_llm_cache_savings_usd_total',
      'ai_llm_pii_detections_total',
      'ai_llm_guard_verdicts_total',
      'ai_llm_provider_latency_ms',
      'ai_llm_budget_remaining',
      'ai_llm_target_healthy',
    ])
      assert.ok(dash.includes(want), `dashboard shows ${want}`);
    assert.match(exprs, /ai_llm_budget_used_ratio_max\) >= 0\.8/);
    assert.match(exprs, /ai_llm_budget_used_ratio_max\) >= 1/);
  });
});
