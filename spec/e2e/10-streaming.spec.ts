/**
 * Streams stay streams: SSE chunks reach the client through the test gateway — real plugin server
 * with llm-token-accounting (access + log), the real Lua llm-response-tap in the body filter — at
 * the same times as they reach a client talking to the upstream directly.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { startGateway, type GatewayHandle } from '../support/kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';
import { createLuaRunner, type LuaPluginRunner } from '../support/lua-host';
import { redisTestConfig } from '../helpers/redis';

const root = join(__dirname, '..', '..');

/** POST and record the arrival time (ms after the request was sent) of every SSE data frame. */
function frameTimes(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ times: number[]; text: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const times: number[] = [];
    let text = '';
    let pending = '';
    const req = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const now = performance.now() - t0;
          pending += chunk;
          let i: number;
          while ((i = pending.indexOf('\n\n')) >= 0) {
            const frame = pending.slice(0, i);
            pending = pending.slice(i + 2);
            if (frame.startsWith('data: ')) {
              times.push(now);
              const data = frame.slice(6);
              // ids and timestamps differ per request; the content must not
              if (data !== '[DONE]')
                text +=
                  (JSON.parse(data) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta
                    ?.content ?? '';
            }
          }
        });
        res.on('end', () => resolve({ times, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('e2e: streaming through the gateway with the Lua tap', () => {
  let gw: GatewayHandle;
  let mock: MockLlm;
  let lua: LuaPluginRunner;
  const redis = redisTestConfig('stream');

  before(async () => {
    mock = await startMockLlm();
    gw = await startGateway({
      pluginServerConf: join(root, 'kong/pluginserver.conf'),
      luaPlugins: ['llm-response-tap'],
      luaRunner: (lua = await createLuaRunner()),
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'llm',
            url: `${mock.url}/v1`,
            routes: [
              {
                name: 'chat',
                paths: ['/ai/v1'],
                strip_path: true,
                response_buffering: false,
                plugins: [
                  {
                    name: 'llm-token-accounting',
                    config: {
                      strategy: 'redis',
                      redis: { host: redis.host, port: redis.port, key_prefix: redis.key_prefix },
                    },
                  },
                  { name: 'llm-response-tap' },
                ],
              },
            ],
          },
        ],
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await lua?.close();
    await mock?.stop();
  });

  it('delivers every chunk when the upstream sends it', async (t) => {
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 400,
      messages: [{ role: 'user', content: 'Write a few sentences about rivers.' }],
    });
    const answer = Array.from({ length: 40 }, (_, i) => `river${i} flows`).join(' ');
    const pace = { 'x-mock-ttft-ms': '150', 'x-mock-tokens-per-s': '60', 'x-mock-content': answer };
    // warm the instance so the first-request instance start is not measured
    await frameTimes(`${gw.proxyUrl}/ai/v1/chat/completions`, body, pace);
    const direct = await frameTimes(`${mock.url}/v1/chat/completions`, body, pace);
    const via = await frameTimes(`${gw.proxyUrl}/ai/v1/chat/completions`, body, pace);
    assert.equal(via.text, direct.text, 'the same content arrives through the gateway');
    assert.equal(via.times.length, direct.times.length);
    const deltas = via.times.map((v, i) => v - direct.times[i]!);
    const sorted = [...deltas].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    t.diagnostic(
      `${deltas.length} frames; gateway − direct: median ${median.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; ttft direct ${direct.times[0]!.toFixed(0)} ms via ${via.times[0]!.toFixed(0)} ms`,
    );
    assert.ok(direct.times.at(-1)! - direct.times[0]! > 400, 'the upstream really paces its chunks');
    // Generous bound: CI runs other suites beside this one on 2 cores. Buffering would show as
    // delays of the whole stream length (~1.5 s) for the early chunks.
    assert.ok(median < 250, `median delay ${median.toFixed(1)} ms`);
    assert.ok(
      via.times[0]! < direct.times.at(-1)! / 2,
      'the first chunk arrives long before the upstream finishes',
    );
    // Nothing is held back until the end: the spread of arrivals matches the upstream's.
    const spreadVia = via.times.at(-1)! - via.times[0]!;
    const spreadDirect = direct.times.at(-1)! - direct.times[0]!;
    assert.ok(
      spreadVia > spreadDirect * 0.8,
      `spread ${spreadVia.toFixed(0)} vs ${spreadDirect.toFixed(0)} ms`,
    );
  });
});
