import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingDescriptions, withDefaults } from '../../../lib/schema/kong-schema';
import { Schema, checkConfig, type PromptGuardConfig } from '../../../plugins/llm-prompt-guard/schema';
import * as index from '../../../plugins/llm-prompt-guard/index';
import { PRIORITY } from '../../../lib/kong/priorities';
import { RULE_FAMILIES } from '../../../plugins/llm-prompt-guard/detect/types';
import { embedderConfig } from '../../../plugins/llm-prompt-guard/handler';

const config = (partial: Record<string, unknown> = {}) => withDefaults<PromptGuardConfig>(Schema, partial);
const field = (name: string) => Schema.find((f) => name in f)![name]!;

describe('llm-prompt-guard schema', () => {
  it('exports the plugin module contract with the guard priority (880, before accounting 860)', () => {
    assert.equal(index.Name, 'llm-prompt-guard');
    assert.equal(index.Priority, PRIORITY.promptGuard);
    assert.equal(index.Priority, 880);
    assert.ok(index.Priority > PRIORITY.tokenAccounting);
    assert.equal(index.Schema, Schema);
    assert.equal(typeof index.Plugin, 'function');
    assert.match(index.Version, /^\d+\.\d+\.\d+$/);
  });

  it('describes every field', () => {
    assert.deepEqual(missingDescriptions(Schema), []);
  });

  it('uses Kong ai-prompt-guard and ai-semantic-prompt-guard field names', () => {
    for (const n of [
      'allow_patterns',
      'deny_patterns',
      'allow_all_conversation_history',
      'match_all_roles',
      'max_request_body_size',
      'rules',
      'search',
      'embeddings',
    ]) {
      assert.ok(field(n), n);
    }
    const rules = field('rules').fields!.map((f) => Object.keys(f)[0]);
    assert.deepEqual(rules, [
      'allow_prompts',
      'deny_prompts',
      'match_all_conversation_history',
      'match_all_roles',
    ]);
    assert.ok(field('search').fields!.some((f) => 'threshold' in f));
  });

  it('fills defaults: injection on at 0.35 for user+tool, block, fail closed, builtin embedder', () => {
    const c = config();
    assert.equal(c.injection.enabled, true);
    assert.equal(c.injection.threshold, 0.35);
    assert.deepEqual(c.injection.roles, ['user', 'tool']);
    for (const f of RULE_FAMILIES) assert.equal(c.injection.families[f], true, f);
    assert.equal(c.action, 'block');
    assert.equal(c.fault_tolerant, false);
    assert.equal(c.flag_header, 'X-LLM-Guard');
    assert.equal(c.allow_all_conversation_history, false);
    assert.equal(c.match_all_roles, false);
    assert.equal(c.allow_patterns, null);
    assert.equal(c.embeddings.model.provider, 'builtin');
    assert.equal(c.search.threshold, null);
    assert.deepEqual(c.operations, ['chat', 'completions', 'responses']);
    assert.deepEqual(checkConfig(c), []);
  });

  it('marks the embeddings auth header value referenceable and encrypted', () => {
    const auth = field('embeddings').fields!.find((f) => 'auth' in f)!['auth']!;
    const hv = auth.fields!.find((f) => 'header_value' in f)!['header_value']!;
    assert.equal(hv.referenceable, true);
    assert.equal(hv.encrypted, true);
  });

  it('checkConfig reports cross-field problems', () => {
    assert.match(
      checkConfig(config({ match_all_roles: true, allow_all_conversation_history: true })).join(),
      /match_all_roles/,
    );
    assert.match(checkConfig(config({ injection: { enabled: false } })).join(), /nothing to check/);
    assert.match(
      checkConfig(
        config({ rules: { deny_prompts: ['x'] }, embeddings: { model: { provider: 'openai' } } }),
      ).join(),
      /upstream_url.*name|upstream_url/,
    );
    assert.match(checkConfig(config({ flag_header: 'bad header' })).join(), /flag_header/);
    assert.deepEqual(checkConfig(config({ deny_patterns: ['a'], injection: { enabled: false } })), []);
  });

  it('maps the Kong EE embeddings record to the embedder config without nulls', () => {
    const c = config({
      rules: { deny_prompts: ['x'] },
      embeddings: {
        model: {
          provider: 'openai',
          name: 'text-embedding-3-small',
          options: { upstream_url: 'http://e:1/v1' },
        },
        auth: { header_name: 'Authorization', header_value: 'Bearer k' },
      },
    });
    assert.deepEqual(embedderConfig(c), {
      provider: 'openai',
      name: 'text-embedding-3-small',
      options: { upstream_url: 'http://e:1/v1' },
      auth: { header_name: 'Authorization', header_value: 'Bearer k' },
      timeout_ms: 10000,
    });
  });
});
