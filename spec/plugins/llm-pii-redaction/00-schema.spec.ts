import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingDescriptions, withDefaults } from '../../../lib/schema/kong-schema';
import { PRIORITY } from '../../../lib/kong/priorities';
import * as index from '../../../plugins/llm-pii-redaction/index';
import {
  ANONYMIZE,
  CATEGORY_NAMES,
  NAME_OF,
  Schema,
  actionTable,
  categoriesOf,
  checkConfig,
  type PiiRedactionConfig,
} from '../../../plugins/llm-pii-redaction/schema';
import { ALL_CATEGORIES } from '../../../plugins/llm-pii-redaction/redact';

const config = (partial: Record<string, unknown> = {}) => withDefaults<PiiRedactionConfig>(Schema, partial);

describe('llm-pii-redaction schema', () => {
  it('exports the plugin module contract with the PII priority', () => {
    assert.equal(index.Name, 'llm-pii-redaction');
    assert.equal(index.Priority, PRIORITY.piiRedaction);
    assert.equal(index.Schema, Schema);
    assert.equal(typeof index.Plugin, 'function');
    assert.match(index.Version, /^\d+\.\d+\.\d+$/);
  });

  it('describes every field', () => {
    assert.deepEqual(missingDescriptions(Schema), []);
  });

  it('fills defaults like Kong ai-sanitizer (all_and_credentials, placeholder, restore on) and fails closed', () => {
    const c = config();
    assert.deepEqual(c.anonymize, ['all_and_credentials']);
    assert.equal(c.redact_type, 'placeholder');
    assert.equal(c.recover_redacted, true);
    assert.equal(c.block_if_detected, false);
    assert.equal(c.fault_tolerant, false);
    assert.equal(c.pass_through_other, true);
    assert.equal(c.mask_keep, 4);
    assert.equal(c.hash_secret, null);
    assert.equal(c.actions, null);
    assert.equal(c.custom_patterns, null);
    assert.deepEqual(c.roles, ['system', 'developer', 'user', 'assistant', 'tool', 'function']);
    assert.deepEqual(c.locations, ['messages', 'tool_arguments', 'tool_results', 'prompt', 'input']);
    assert.deepEqual(checkConfig(c), []);
  });

  it('gives custom patterns Kong’s score default', () => {
    const c = config({ custom_patterns: [{ name: 'emp', regex: 'EMP-\\d{6}' }] });
    assert.deepEqual(c.custom_patterns, [{ name: 'emp', regex: 'EMP-\\d{6}', score: 0.5 }]);
  });

  it('maps every engine category to exactly one config name and back', () => {
    assert.equal(CATEGORY_NAMES.length, ALL_CATEGORIES.length);
    for (const cat of ALL_CATEGORIES) assert.ok(NAME_OF[cat], cat);
    assert.equal(NAME_OF.credit_card, 'creditcard');
    assert.equal(NAME_OF.iban, 'bank');
    assert.equal(NAME_OF.credential, 'credentials');
  });

  it('expands groups: all excludes credentials, general is person + address', () => {
    assert.ok(!categoriesOf(['all']).includes('credential'));
    assert.equal(categoriesOf(['all']).length, ALL_CATEGORIES.length - 1);
    assert.deepEqual([...categoriesOf(['all_and_credentials'])].sort(), [...ALL_CATEGORIES].sort());
    assert.deepEqual(categoriesOf(['general']), ['person', 'address']);
    assert.deepEqual(categoriesOf(['creditcard', 'bank', 'email', 'email']), [
      'credit_card',
      'iban',
      'email',
    ]);
    for (const a of ANONYMIZE) assert.ok(categoriesOf([a]).length > 0, a);
  });

  it('builds the action table from redact_type and per-category actions', () => {
    const c = config({ redact_type: 'mask', actions: { creditcard: 'synthetic', ssn: 'block' } });
    assert.deepEqual(actionTable(c), { default: 'mask', credit_card: 'synthetic', ssn: 'block' });
  });

  it('rejects cross-field problems: hash without a long secret, unknown names, empty lists', () => {
    assert.match(checkConfig(config({ redact_type: 'hash' })).join(), /hash_secret/);
    assert.match(
      checkConfig(config({ actions: { email: 'hash' }, hash_secret: 'short' })).join(),
      /hash_secret/,
    );
    assert.deepEqual(
      checkConfig(config({ actions: { email: 'hash' }, hash_secret: 'a-secret-of-16-chars' })),
      [],
    );
    assert.match(checkConfig(config({ anonymize: ['emails'] })).join(), /unknown category/);
    assert.match(checkConfig(config({ anonymize: [] })).join(), /at least one/);
    assert.match(checkConfig(config({ actions: { iban: 'mask' } })).join(), /unknown category "iban"/);
    assert.match(checkConfig(config({ actions: { email: 'drop' } })).join(), /actions.email/);
    assert.match(checkConfig(config({ roles: [] })).join(), /roles/);
    assert.match(checkConfig(config({ locations: ['headers'] })).join(), /unknown location/);
    assert.match(checkConfig(config({ mask_keep: 9 })).join(), /mask_keep/);
  });
});
