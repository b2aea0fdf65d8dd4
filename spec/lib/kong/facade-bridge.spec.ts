/**
 * The facade's read-once / write-once mode (lib/kong/facade.ts) against a fake of llm-sentinel's
 * bridge (kong/plugins/llm-sentinel/bridge.lua): how many PDK calls a phase makes, in which order
 * effects arrive, and the fallback to one call per fact when the bridge is missing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { guard } from '../../../lib/kong/guard';
import type { KongPdk } from '../../../lib/kong/pdk';
import { pluginLogger } from '../../../lib/log';

type Call = [string, unknown[]];

/** A PDK whose only working methods are the bridge and the calls the fallback needs. */
function fakePdk(opts: { bridge: boolean; shared?: Record<string, unknown> }) {
  const calls: Call[] = [];
  const rec =
    (name: string, ret?: (...a: unknown[]) => unknown) =>
    async (...args: unknown[]) => {
      calls.push([name, args]);
      return ret ? ret(...args) : null;
    };
  const facts = {
    v: 1,
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', 'X-Test': ['a', 'b'] },
    body: new TextEncoder().encode('{"model":"m"}'),
    consumer: { id: 'c1', username: 'alice' },
    consumer_groups: {}, // Lua's empty table arrives as an empty map
    route: { id: 'r1', name: 'chat' },
    shared: opts.shared ?? {},
  };
  const pdk = {
    llmPlugins: {
      read: rec('bridge.read', () => (opts.bridge ? facts : null)),
      write: rec('bridge.write', () => (opts.bridge ? { ok: true } : null)),
      writeExit: rec('bridge.write_exit'),
    },
    request: {
      getHeaders: rec('request.getHeaders', () => ({ 'content-type': ['application/json'] })),
      getPath: rec('request.getPath', () => '/v1/chat/completions'),
      getRawBody: rec('request.getRawBody', () => '{"model":"m"}'),
    },
    client: { getConsumer: rec('client.getConsumer', () => ({ id: 'c1' })) },
    router: { getRoute: rec('router.getRoute', () => ({ id: 'r1' })) },
    ctx: { shared: { get: rec('ctx.shared.get'), set: rec('ctx.shared.set') } },
    service: {
      request: { setHeader: rec('service.request.setHeader'), setRawBody: rec('service.request.setRawBody') },
    },
    response: { exit: rec('response.exit'), setHeaders: rec('response.setHeaders') },
    log: { err: rec('log.err'), serialize: rec('log.serialize', () => '{"response":{"status":200}}') },
  };
  return { pdk: pdk as unknown as KongPdk, calls, names: () => calls.map((c) => c[0]) };
}

const opts = {
  plugin: 'test',
  log: pluginLogger('test'),
  failClosed: true,
  failureCode: 'INTERNAL' as const,
};

describe('facade: read once, write once through the bridge', () => {
  it('serves every getter from one read and applies every effect in one write, in order', async () => {
    const f = fakePdk({ bridge: true, shared: { 'llm.accounting': { reserved: 5 } } });
    await guard(f.pdk, 'access', opts, async (k) => {
      const [h, path, body, consumer, groups, route, acct] = await Promise.all([
        k.headers(),
        k.path(),
        k.rawBody(),
        k.consumer(),
        k.consumerGroups(),
        k.route(),
        k.getShared('llm.accounting'),
      ]);
      assert.deepEqual(h['x-test'], ['a', 'b']);
      assert.deepEqual(h['content-type'], ['application/json']);
      assert.equal(await k.header('X-Test'), 'a');
      assert.equal(path, '/v1/chat/completions');
      assert.equal(body?.toString(), '{"model":"m"}');
      assert.equal(consumer?.username, 'alice');
      assert.deepEqual(groups, []);
      assert.equal(route?.name, 'chat');
      assert.equal(acct?.reserved, 5);
      await k.setUpstreamBody('{"model":"n"}');
      await k.setUpstreamHeader('x-a', '1');
      await k.setShared('llm.guard', { action: 'allow', score: 0, rules: [] });
      // a later read of the phase sees its own write
      assert.equal((await k.getShared('llm.guard'))?.action, 'allow');
    });
    assert.deepEqual(f.names(), ['bridge.read', 'bridge.write']);
    assert.deepEqual(f.calls[1]![1][0], [
      ['upstream_body', '{"model":"n"}'],
      ['upstream_header', 'x-a', '1'],
      ['shared', 'llm.guard', { action: 'allow', score: 0, rules: [] }],
    ]);
  });

  it('an exit carries the queued effects in the same call', async () => {
    const f = fakePdk({ bridge: true });
    await guard(f.pdk, 'access', opts, async (k) => {
      await k.route();
      await k.setShared('llm.guard', { action: 'block', score: 1, rules: ['x'] });
      await k.exitError(400, 'PROMPT_BLOCKED', 'blocked');
    });
    assert.deepEqual(f.names(), ['bridge.read', 'bridge.write_exit']);
    const [effects, exit] = f.calls[1]![1] as [unknown[], { status: number; body: string; headers: object }];
    assert.deepEqual(effects, [['shared', 'llm.guard', { action: 'block', score: 1, rules: ['x'] }]]);
    assert.equal(exit.status, 400);
    assert.equal(JSON.parse(exit.body).error.code, 'PROMPT_BLOCKED');
  });

  it('a failed effect is a phase failure: fail closed answers through an exit', async () => {
    const f = fakePdk({ bridge: true });
    (f.pdk as unknown as { llmPlugins: { write: unknown } }).llmPlugins.write = async (...a: unknown[]) => {
      f.calls.push(['bridge.write', a]);
      return { error: 'set_target: invalid host' };
    };
    await guard(f.pdk, 'access', opts, async (k) => {
      await k.route();
      await k.setTarget('bad host', 1);
    });
    assert.deepEqual(f.names(), ['bridge.read', 'bridge.write', 'bridge.write_exit']);
    assert.equal((f.calls[2]![1][1] as { status: number }).status, 500);
  });
});

describe('facade: facts pushed with the event (HandleEventFacts, Kong 3.9 fast path)', () => {
  const FACTS = Symbol.for('kong-llm-plugins.facts');
  const pushed = () => {
    const f = fakePdk({ bridge: true });
    (f.pdk as unknown as Record<symbol, unknown>)[FACTS] = {
      v: 1,
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      shared: {},
    };
    (f.pdk as unknown as { llmPlugins: Record<string, unknown> }).llmPlugins['effects'] = (
      ...a: unknown[]
    ) => {
      f.calls.push(['bridge.effects', a]);
      return undefined; // kong-pdk sends it and does not wait: no answer comes
    };
    return f;
  };

  it('reads without a round trip and hands its effects back as the last message', async () => {
    const f = pushed();
    await guard(f.pdk, 'access', opts, async (k) => {
      assert.equal(await k.path(), '/v1/chat/completions');
      await k.setUpstreamHeader('x-a', '1');
      await k.setShared('llm.pii', { counts: {}, action: 'none' });
    });
    assert.deepEqual(f.names(), ['bridge.effects']);
    assert.deepEqual(f.calls[0]![1], [
      [
        ['upstream_header', 'x-a', '1'],
        ['shared', 'llm.pii', { counts: {}, action: 'none' }],
      ],
      undefined,
    ]);
  });

  it('an exit is the last message too, with the effects before it; a phase without effects sends nothing', async () => {
    const f = pushed();
    await guard(f.pdk, 'access', opts, async (k) => {
      await k.setShared('llm.guard', { action: 'block', score: 1, rules: [] });
      await k.exitError(400, 'PROMPT_BLOCKED', 'blocked');
    });
    assert.deepEqual(f.names(), ['bridge.effects']);
    const [effects, exit] = f.calls[0]![1] as [unknown[], { status: number }];
    assert.equal(effects.length, 1);
    assert.equal(exit.status, 400);
    const quiet = pushed();
    await guard(quiet.pdk, 'access', opts, async (k) => void (await k.path()));
    assert.deepEqual(quiet.names(), []);
  });
});

describe('facade: without the bridge (no llm-sentinel in Kong)', () => {
  it('falls back to one PDK call per fact and per effect, and exits with kong.response.exit', async () => {
    const f = fakePdk({ bridge: false });
    await guard(f.pdk, 'access', opts, async (k) => {
      await Promise.all([k.headers(), k.path()]);
      await k.setShared('llm.guard', { action: 'block', score: 1, rules: [] });
      await k.exitError(400, 'PROMPT_BLOCKED', 'blocked');
    });
    const names = f.names();
    assert.equal(names[0], 'bridge.read');
    assert.ok(!names.includes('bridge.write_exit'), 'an exit never goes to a bridge that did not answer');
    assert.ok(names.includes('request.getHeaders') && names.includes('request.getPath'));
    assert.ok(names.indexOf('ctx.shared.set') < names.indexOf('response.exit'));
    // the bridge is not asked again on every request once it was found missing
    const g = fakePdk({ bridge: true });
    await guard(g.pdk, 'access', opts, async (k) => void (await k.path()));
    assert.deepEqual(g.names(), ['request.getPath']);
  });

  it('a log phase reads the log facts llm-sentinel saved, or calls serialize without them', async () => {
    const saved = fakePdk({ bridge: true });
    (saved.pdk.ctx.shared as { get: unknown }).get = async (key: string) => {
      saved.calls.push(['ctx.shared.get', [key]]);
      return { v: 1, shared: { 'llm.tap': { status: 200 } }, log: { response: { status: 201 } } };
    };
    await guard(saved.pdk, 'log', opts, async (k) => {
      assert.equal((await k.serialize()).response?.status, 201);
      assert.equal((await k.getShared('llm.tap'))?.status, 200);
    });
    assert.deepEqual(saved.names(), ['ctx.shared.get']);
    const bare = fakePdk({ bridge: true });
    await guard(bare.pdk, 'log', opts, async (k) => {
      assert.equal((await k.serialize()).response?.status, 200);
    });
    assert.deepEqual(bare.names(), ['ctx.shared.get', 'log.serialize']);
  });
});
