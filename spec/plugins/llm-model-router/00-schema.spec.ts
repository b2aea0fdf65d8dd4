import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingDescriptions } from '../../../lib/schema/kong-schema';
import { Schema, checkConfig, parseUpstream, envRef } from '../../../plugins/llm-model-router/schema';
import * as index from '../../../plugins/llm-model-router/index';
import { PRIORITY } from '../../../lib/kong/priorities';
import { config, target } from './helpers';

describe('llm-model-router schema', () => {
  it('exports the plugin module contract with the router priority', () => {
    assert.equal(index.Name, 'llm-model-router');
    assert.equal(index.Priority, PRIORITY.modelRouter);
    assert.equal(index.Schema, Schema);
    assert.equal(typeof index.Plugin, 'function');
    assert.match(index.Version, /^\d+\.\d+\.\d+$/);
  });

  it('describes every field', () => {
    assert.deepEqual(missingDescriptions(Schema), []);
  });

  it('fills defaults (fail closed, redis, round-robin, passive health on)', () => {
    const c = config({ targets: [target({ name: 'a' })], strategy: 'redis' });
    assert.equal(c.fault_tolerant, false);
    assert.equal(c.strategy, 'redis');
    assert.equal(c.balancer.algorithm, 'round-robin');
    assert.equal(c.balancer.max_fails, 3);
    assert.deepEqual(c.balancer.failure_statuses, [429, 500, 502, 503, 504]);
    assert.equal(c.targets[0]!.weight, 100);
    assert.equal(c.targets[0]!.priority, 0);
    assert.equal(c.targets[0]!.model.provider, 'openai');
    assert.equal(c.unknown_model, 'reject');
    assert.deepEqual(checkConfig(c), []);
  });

  it('marks the auth header value referenceable and encrypted (vault references)', () => {
    const targets = Schema.find((f) => 'targets' in f)!['targets']!;
    const auth = targets.elements!.fields!.find((f) => 'auth' in f)!['auth']!;
    const hv = auth.fields!.find((f) => 'header_value' in f)!['header_value']!;
    assert.equal(hv.referenceable, true);
    assert.equal(hv.encrypted, true);
  });

  it('parses upstream URLs into scheme, host, port, base path and query', () => {
    assert.deepEqual(parseUpstream('https://api.openai.com/v1'), {
      scheme: 'https',
      host: 'api.openai.com',
      port: 443,
      basePath: '/v1',
      query: '',
    });
    assert.deepEqual(parseUpstream('http://10.0.0.1:8000/'), {
      scheme: 'http',
      host: '10.0.0.1',
      port: 8000,
      basePath: '',
      query: '',
    });
    assert.deepEqual(
      parseUpstream('https://x.openai.azure.com/openai/deployments/d1/?api-version=2024-10-21'),
      {
        scheme: 'https',
        host: 'x.openai.azure.com',
        port: 443,
        basePath: '/openai/deployments/d1',
        query: 'api-version=2024-10-21',
      },
    );
    assert.deepEqual(parseUpstream('http://[::1]:9000/v1'), {
      scheme: 'http',
      host: '::1',
      port: 9000,
      basePath: '/v1',
      query: '',
    });
    assert.equal(typeof parseUpstream('ftp://a/b'), 'string');
    assert.equal(typeof parseUpstream('not a url'), 'string');
    assert.equal(typeof parseUpstream('https://user:pw@a/v1'), 'string');
  });

  it('recognises env: references with and without a prefix', () => {
    assert.equal(envRef('env:OPENAI_KEY'), 'OPENAI_KEY');
    assert.equal(envRef('Bearer env:OPENAI_KEY'), 'OPENAI_KEY');
    assert.equal(envRef('Bearer sk-123'), undefined);
  });

  it('rejects bad targets at instance creation', () => {
    const bad = config({
      targets: [
        target({ name: 'a', url: 'ftp://nope' }),
        target({ name: 'a' }),
        target({ name: 'b', weight: 0 }),
        { ...target({ name: 'c' }), auth: { header_name: 'Authorization', header_value: null } },
      ],
      aliases: [{ name: 'fast', targets: ['zzz'] }],
      rules: [{ name: 'r', targets: ['nope'], min_prompt_tokens: 10, max_prompt_tokens: 5 }],
      default_targets: ['ghost'],
      budget_downgrade: { enabled: true, threshold: 0.2, targets: ['phantom'] },
    });
    const p = checkConfig(bad).join('\n');
    assert.match(p, /targets\[0\]\.model\.options\.upstream_url must use http or https/);
    assert.match(p, /targets\[1\]: duplicate target name "a"/);
    assert.match(p, /targets\[2\]\.weight must be an integer between 1 and 65535/);
    assert.match(p, /targets\[3\]\.auth needs both/);
    assert.match(p, /aliases\[0\]\.targets: unknown target "zzz"/);
    assert.match(p, /rules\[0\]\.targets: unknown target "nope"/);
    assert.match(p, /rules\[0\]: min_prompt_tokens > max_prompt_tokens/);
    assert.match(p, /default_targets: unknown target "ghost"/);
    assert.match(p, /budget_downgrade\.targets: unknown target "phantom"/);
  });

  it('rejects an empty target list', () => {
    assert.match(checkConfig(config({ targets: [] })).join('\n'), /at least one target/);
  });
});
