import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingDescriptions, withDefaults } from '../../../lib/schema/kong-schema';
import {
  Schema,
  checkConfig,
  thresholdOf,
  type SemanticCacheConfig,
} from '../../../plugins/llm-semantic-cache/schema';
import * as index from '../../../plugins/llm-semantic-cache/index';
import { PRIORITY } from '../../../lib/kong/priorities';
import { BUILTIN_DEFAULT_THRESHOLD } from '../../../lib/embeddings';

const config = (p: Record<string, unknown> = {}) => withDefaults<SemanticCacheConfig>(Schema, p);

describe('llm-semantic-cache schema', () => {
  it('exports the plugin module contract with the cache priority', () => {
    assert.equal(index.Name, 'llm-semantic-cache');
    assert.equal(index.Priority, PRIORITY.semanticCache);
    assert.equal(index.Schema, Schema);
    assert.equal(typeof index.Plugin, 'function');
    assert.match(index.Version, /^\d+\.\d+\.\d+$/);
  });

  it('describes every field', () => {
    assert.deepEqual(missingDescriptions(Schema), []);
  });

  it('uses Kong EE names and safe defaults (per-consumer, verification on, fail open)', () => {
    const c = config();
    assert.equal(c.embeddings.model.provider, 'builtin');
    assert.equal(c.vectordb.strategy, 'redis');
    assert.equal(c.vectordb.distance_metric, 'cosine');
    assert.equal(c.vectordb.redis.host, '127.0.0.1');
    assert.equal(c.cache_ttl, 300);
    assert.equal(c.cache_control, false);
    assert.equal(c.exact_caching, true);
    assert.equal(c.message_countback, 1);
    assert.equal(c.ignore_system_prompts, false);
    assert.equal(c.ignore_assistant_prompts, false);
    assert.equal(c.ignore_tool_prompts, false);
    assert.equal(c.stop_on_failure, false);
    assert.equal(c.partition_by, 'consumer');
    assert.equal(c.verify.enabled, true);
    assert.equal(c.cache_tool_calls, false);
    assert.equal(c.shadow_mode, false);
    assert.deepEqual(checkConfig(c), []);
  });

  it('threshold is a similarity; unset means the builtin default', () => {
    assert.equal(thresholdOf(config()), BUILTIN_DEFAULT_THRESHOLD);
    assert.equal(thresholdOf(config({ vectordb: { threshold: 0.9 } })), 0.9);
  });

  it('requires a calibrated threshold, a name and a URL for the openai embedder', () => {
    const problems = checkConfig(config({ embeddings: { model: { provider: 'openai' } } }));
    assert.equal(problems.length, 3, problems.join('; '));
    assert.deepEqual(
      checkConfig(
        config({
          embeddings: { model: { provider: 'openai', name: 'm', options: { upstream_url: 'http://x' } } },
          vectordb: { threshold: 0.8 },
        }),
      ),
      [],
    );
  });

  it('rejects a config with neither exact nor semantic caching, and a bad control header', () => {
    assert.equal(checkConfig(config({ exact_caching: false, semantic_caching: false })).length, 1);
    assert.equal(checkConfig(config({ control_header: 'bad header' })).length, 1);
  });

  it('marks the embeddings auth value and the redis password referenceable', () => {
    const emb = Schema.find((f) => 'embeddings' in f)!['embeddings']!;
    const auth = emb.fields!.find((f) => 'auth' in f)!['auth']!;
    const hv = auth.fields!.find((f) => 'header_value' in f)!['header_value']!;
    assert.equal(hv.referenceable, true);
    assert.equal(hv.encrypted, true);
    const vdb = Schema.find((f) => 'vectordb' in f)!['vectordb']!;
    const redis = vdb.fields!.find((f) => 'redis' in f)!['redis']!;
    const pw = redis.fields!.find((f) => 'password' in f)!['password']!;
    assert.equal(pw.referenceable, true);
  });
});
