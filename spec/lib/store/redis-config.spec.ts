/**
 * The redis block: Kong EE names and defaults, topology selection with absent or null fields, and
 * stable config-error codes instead of a silent fallback to a default server.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withDefaults } from '../../../lib/schema/kong-schema';
import {
  redisField,
  redisProblems,
  redisTimeouts,
  redisTopology,
  type RedisConfig,
} from '../../../lib/schema/redis';
import { storeFor, redisClientFor } from '../../../lib/store/pool';
import { hashSlot, keyPart, makeKey, tag } from '../../../lib/store/keys';
import { PluginError } from '../../../lib/errors';
import { Schema as AccountingSchema, checkConfig } from '../../../plugins/llm-token-accounting/schema';
import type { TokenAccountingConfig } from '../../../plugins/llm-token-accounting/schema';

const fields = redisField['redis']!.fields!;
const block = (partial: Record<string, unknown> = {}) => withDefaults<RedisConfig>(fields, partial);
const codes = (c: RedisConfig) => redisProblems(c).map((p) => /\[([A-Z_]+)\]$/.exec(p)?.[1] ?? p);

describe('redis block', () => {
  it('carries Kong EE’s names and defaults', () => {
    const d = block();
    assert.equal(d.cluster_max_redirections, 5);
    for (const k of [
      'sentinel_master',
      'sentinel_role',
      'sentinel_nodes',
      'sentinel_username',
      'sentinel_password',
      'cluster_nodes',
    ] as const)
      assert.equal(d[k], null, k);
    const withNodes = block({ sentinel_nodes: [{}], cluster_nodes: [{ port: 7000 }] });
    assert.deepEqual(withNodes.sentinel_nodes, [{ host: '127.0.0.1', port: 6379 }]);
    assert.deepEqual(withNodes.cluster_nodes, [{ ip: '127.0.0.1', port: 7000 }]);
    const role = fields.find((f) => 'sentinel_role' in f)!['sentinel_role']!;
    assert.deepEqual(role.one_of, ['master', 'slave', 'any']);
  });

  it('selects the topology the same way whether unset fields are absent or null', () => {
    const absent = { host: 'r', port: 6379, key_prefix: 'llm' } as unknown as RedisConfig;
    assert.equal(redisTopology(absent), 'standalone');
    assert.deepEqual(redisProblems(absent), []);
    assert.equal(redisTopology(block()), 'standalone');
    const sentinel = { ...absent, sentinel_master: 'm', sentinel_nodes: [{ host: 's', port: 26379 }] };
    assert.equal(redisTopology(sentinel), 'sentinel');
    assert.deepEqual(redisProblems(sentinel), []);
    assert.equal(
      redisTopology(block({ sentinel_master: 'm', sentinel_nodes: [{ host: 's', port: 1 }] })),
      'sentinel',
    );
    const cluster = { ...absent, cluster_nodes: [{ ip: '10.0.0.1', port: 7000 }] };
    assert.equal(redisTopology(cluster), 'cluster');
    assert.deepEqual(redisProblems(cluster), []);
    assert.equal(redisTopology(block({ cluster_nodes: [] })), 'standalone');
  });

  it('reports bad blocks with stable codes', () => {
    assert.deepEqual(
      codes(
        block({
          sentinel_master: 'm',
          sentinel_nodes: [{ host: 's', port: 1 }],
          cluster_nodes: [{ ip: 'c', port: 1 }],
        }),
      ),
      ['REDIS_TOPOLOGY_CONFLICT'],
    );
    assert.deepEqual(codes(block({ sentinel_nodes: [{ host: 's', port: 1 }] })), [
      'REDIS_SENTINEL_MASTER_REQUIRED',
    ]);
    assert.deepEqual(codes(block({ sentinel_master: 'm' })), ['REDIS_SENTINEL_NODES_REQUIRED']);
    assert.deepEqual(
      codes(
        block({ sentinel_master: 'm', sentinel_nodes: [{ host: 's', port: 1 }], sentinel_role: 'slave' }),
      ),
      ['REDIS_SENTINEL_ROLE'],
    );
    assert.deepEqual(codes(block({ cluster_nodes: [{ ip: 'c', port: 1 }], database: 2 })), [
      'REDIS_CLUSTER_DATABASE',
    ]);
    assert.deepEqual(codes({ ...block(), cluster_nodes: [{ ip: '', port: 1 }] }), ['REDIS_NODE_INVALID']);
    assert.deepEqual(codes({ ...block(), host: '' }), ['redis.host is required when strategy is redis']);
  });

  it('turns a bad block into CONFIG_INVALID, never into a default server', async () => {
    const bad = block({ sentinel_master: 'm' });
    const store = storeFor('redis', bad);
    await assert.rejects(
      store.get('k'),
      (e: unknown) => e instanceof PluginError && e.code === 'CONFIG_INVALID',
    );
    await assert.rejects(
      store.reserve([{ key: 'k', limit: 1, ttlSec: 1 }], [1], 'r', 1),
      /REDIS_SENTINEL_NODES_REQUIRED/,
    );
    assert.equal(await store.ping(), false);
    assert.throws(() => redisClientFor(bad), /CONFIG_INVALID|REDIS_SENTINEL_NODES_REQUIRED/);
    // and the plugin reports it as a config problem (answered CONFIG_INVALID by the guard)
    const c = withDefaults<TokenAccountingConfig>(AccountingSchema, {
      redis: { cluster_nodes: [{ ip: 'c', port: 7000 }], database: 1 },
    });
    assert.ok(checkConfig(c).some((p) => p.includes('[REDIS_CLUSTER_DATABASE]')));
  });

  it('takes the specific Kong EE timeouts over timeout', () => {
    assert.deepEqual(redisTimeouts(block()), { connect: 2000, command: 2000 });
    assert.deepEqual(
      redisTimeouts(block({ timeout: 500, connect_timeout: 100, read_timeout: 300, send_timeout: 700 })),
      {
        connect: 100,
        command: 700,
      },
    );
  });
});

describe('store keys and slots', () => {
  it('computes Redis Cluster hash slots, honouring the first {tag}', () => {
    assert.equal(hashSlot('foo'), 12182);
    assert.equal(hashSlot('somekey'), 11058);
    assert.equal(hashSlot('{user1000}.following'), hashSlot('{user1000}.followers'));
    assert.equal(hashSlot('x{}y'), hashSlot('x{}y'));
    assert.notEqual(hashSlot('a{b}'), hashSlot('a{c}'));
  });

  it('tags a part so its keys share a slot; user input cannot open or move a tag', () => {
    const a = makeKey('llm', 'budget', 'p', tag('consumer=al{ice}'), 0, '60', 1);
    const b = makeKey('llm', 'budget', 'other', tag('consumer=al{ice}'), 3, 'day', 2);
    assert.equal(a, 'llm:v1:budget:p:{consumer=al%7Bice%7D}:0:60:1');
    assert.equal(hashSlot(a), hashSlot(b));
    assert.equal(keyPart('{x}'), '%7Bx%7D');
    // a brace in a plain part never becomes a tag
    assert.equal(hashSlot(makeKey('llm', 'cache', '{t}', 'a')), hashSlot('llm:v1:cache:%7Bt%7D:a'));
  });
});
