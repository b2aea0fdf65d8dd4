import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultsOf, missingDescriptions, withDefaults } from '../../../lib/schema/kong-schema';
import {
  Schema,
  checkConfig,
  type TokenAccountingConfig,
} from '../../../plugins/llm-token-accounting/schema';

const cfg = (partial: Record<string, unknown>) => withDefaults<TokenAccountingConfig>(Schema, partial);

describe('llm-token-accounting: (schema)', () => {
  it('documents every field', () => {
    assert.deepEqual(missingDescriptions(Schema), []);
  });

  it('has safe defaults: redis strategy, fail open, ledger on', () => {
    const d = defaultsOf(Schema) as unknown as TokenAccountingConfig;
    assert.equal(d.strategy, 'redis');
    assert.equal(d.fault_tolerant, true);
    assert.equal(d.error_code, 429);
    assert.deepEqual(d.identifier, ['consumer']);
    assert.equal(d.ledger.enabled, true);
    assert.equal(d.redis.port, 6379);
    assert.deepEqual(checkConfig(d), []);
  });

  it('rejects limits with both or neither window kind, sliding calendars, bad zones and duplicate names', () => {
    const problems = checkConfig(
      cfg({
        time_zone: 'Mars/Olympus',
        policies: [
          {
            name: 'a',
            window_type: 'fixed',
            match: [],
            limits: [{ limit: 1, window_size: 60, calendar: 'day', tokens_count_strategy: 'total_tokens' }],
          },
          {
            name: 'a',
            window_type: 'sliding',
            match: [{ type: 'header', key: null, values: null, partition_by: false }],
            limits: [
              { limit: 1, window_size: null, calendar: 'month', tokens_count_strategy: 'total_tokens' },
            ],
          },
          {
            name: 'c',
            window_type: 'fixed',
            match: [],
            limits: [{ limit: 1, window_size: null, calendar: null, tokens_count_strategy: 'cost' }],
          },
        ],
      }),
    );
    assert.ok(problems.some((p) => p.startsWith('policies[0].limits[0]: set exactly one')));
    assert.ok(problems.some((p) => p.startsWith('policies[2].limits[0]: set exactly one')));
    assert.ok(problems.some((p) => p.includes('calendar windows are fixed')));
    assert.ok(problems.some((p) => p.includes('header matches need key')));
    assert.ok(problems.includes('policy names must be unique'));
    assert.ok(problems.some((p) => p.includes('not a valid IANA time zone')));
  });

  it('needs header_name when paying by header', () => {
    assert.deepEqual(checkConfig(cfg({ identifier: ['header'] })), ['identifier "header" needs header_name']);
    assert.deepEqual(checkConfig(cfg({ identifier: ['header'], header_name: 'x-team' })), []);
  });
});
