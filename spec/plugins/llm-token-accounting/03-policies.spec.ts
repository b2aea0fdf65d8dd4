import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withDefaults } from '../../../lib/schema/kong-schema';
import { Schema, type TokenAccountingConfig } from '../../../plugins/llm-token-accounting/schema';
import {
  activeLimits,
  amountFor,
  partitionOf,
  payerOf,
  type RequestFacts,
} from '../../../plugins/llm-token-accounting/policies';

const cfg = (partial: Record<string, unknown>) => withDefaults<TokenAccountingConfig>(Schema, partial);
const facts = (f: Partial<RequestFacts> = {}): RequestFacts => ({ headers: {}, ...f });
const NOW = Date.parse('2026-11-26T10:00:00Z');

describe('llm-token-accounting: policies', () => {
  it('names the payer from the configured identifiers, falling back to the client IP', () => {
    const c = cfg({ identifier: ['consumer', 'header'], header_name: 'X-Team' });
    assert.equal(
      payerOf(c, facts({ consumer: { username: 'alice', id: 'u1' }, headers: { 'x-team': ['red'] } })),
      'consumer=alice|header=red',
    );
    assert.equal(payerOf(c, facts({ ip: '10.0.0.1' })), 'ip=10.0.0.1');
    assert.equal(payerOf(c, facts()), 'anonymous');
  });

  it('applies a policy only when every condition matches, partitioned as configured', () => {
    const c = cfg({
      policies: [
        {
          name: 'team',
          match: [
            { type: 'consumer_group', values: ['gold'] },
            { type: 'model', values: ['gpt-4o'], partition_by: true },
          ],
          limits: [{ limit: 100, window_size: 60 }],
        },
      ],
    });
    const p = c.policies[0]!;
    assert.equal(partitionOf(p, facts({ groups: [{ name: 'gold' }], model: 'gpt-4o' }), 'x'), 'model=gpt-4o');
    assert.equal(partitionOf(p, facts({ groups: [{ name: 'silver' }], model: 'gpt-4o' }), 'x'), undefined);
    assert.equal(partitionOf(p, facts({ groups: [{ name: 'gold' }], model: 'gpt-4o-mini' }), 'x'), undefined);
  });

  it('gives a policy without conditions one budget per payer', () => {
    const c = cfg({ policies: [{ name: 'all', limits: [{ limit: 10, window_size: 60 }] }] });
    const a = activeLimits(c, facts(), 'consumer=alice', NOW);
    const b = activeLimits(c, facts(), 'consumer=bob', NOW);
    assert.equal(a.length, 1);
    assert.notEqual(a[0]!.window.key, b[0]!.window.key);
  });

  it('matches consumers by username, id or custom_id and paths by prefix', () => {
    const c = cfg({
      policies: [
        {
          name: 'c',
          match: [{ type: 'consumer', values: ['cust-9'] }],
          limits: [{ limit: 1, window_size: 60 }],
        },
        { name: 'p', match: [{ type: 'path', values: ['/ai/'] }], limits: [{ limit: 1, window_size: 60 }] },
      ],
    });
    const l = activeLimits(
      c,
      facts({
        consumer: { id: 'u', username: 'alice', custom_id: 'cust-9' },
        path: '/ai/v1/chat/completions',
      }),
      'p',
      NOW,
    );
    assert.deepEqual(
      l.map((x) => x.policy),
      ['c', 'p'],
    );
  });

  it('cannot be tricked into another partition by separators in identifiers', () => {
    const c = cfg({ policies: [{ name: 'all', limits: [{ limit: 10, window_size: 60 }] }] });
    const a = activeLimits(c, facts(), 'consumer=a:b', NOW)[0]!.window.key;
    const b = activeLimits(c, facts(), 'consumer=a', NOW)[0]!.window.key;
    assert.notEqual(a, b);
    assert.ok(a.includes('consumer=a%3Ab'), 'colons are escaped in keys');
    assert.equal(a.split(':').length, b.split(':').length, 'the same number of key segments');
  });

  it('counts tokens or micro-USD per strategy', () => {
    const a = { prompt: 10, completion: 5, costMicros: 1234 };
    assert.equal(amountFor('prompt_tokens', a), 10);
    assert.equal(amountFor('completion_tokens', a), 5);
    assert.equal(amountFor('total_tokens', a), 15);
    assert.equal(amountFor('cost', a), 1234);
    const c = cfg({
      policies: [{ name: 'usd', limits: [{ limit: 2.5, window_size: 60, tokens_count_strategy: 'cost' }] }],
    });
    assert.equal(activeLimits(c, facts(), 'p', NOW)[0]!.units, 2_500_000);
  });
});
